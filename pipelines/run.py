"""The monthly pipeline for one period, callable alike from the CLI and from DAG tasks.

Every stage takes paths and a period and returns paths and counts; nothing passes data frames.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from groupscope.config import Config
from groupscope.console import get_logger, progress
from groupscope.contract import DAILY_TABLES, INPUT_TABLES, MONTHLY_TABLES, REFERENCE_TABLES
from groupscope.errors import StopRun
from pipelines.engine import memory_guard
from pipelines.guard import DiskFull, WorkDirBusy, disk_errors, work_lock
from pipelines.ingest import (
    NOT_READ,
    IngestOptions,
    PartitionResult,
    ingest_table,
    landing_unexpected,
    source_files,
)
from pipelines.validate import (
    CheckResult,
    run_great_expectations,
    table_checks,
    unexpected_files_check,
    write_results,
)
from transforms.market import scope_order, uncalibrated_text
from transforms.sql import lit

log = get_logger("run")

__all__ = ["ingest_period", "run_period", "load_results"]


@contextmanager
def guarded(cfg: Config, shared: bool = False, stage: str = "run") -> Iterator[None]:
    """Hold the work directory's lock (shared: day staging, which may run side by side) and turn a
    concurrent run, a full disk or running out of memory into StopRun with one line."""
    if getattr(_guard, "active", False):  # already inside a guarded stage of this thread
        with memory_guard(stage, cfg.duckdb_memory_limit):
            yield
        return
    _guard.active = True
    try:
        with memory_guard(stage, cfg.duckdb_memory_limit), disk_errors(cfg.work_path), work_lock(cfg.work_path, shared=shared):
            yield
    except (WorkDirBusy, DiskFull) as e:
        raise StopRun(str(e)) from None
    finally:
        _guard.active = False


_guard = threading.local()


@dataclass
class IngestSummary:
    period: str
    run_id: str
    work: str
    files: list[dict] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)  # rows counted in the files themselves
    unexpected: dict[str, int] = field(default_factory=dict)  # rows in files outside the layout, not read
    not_read: dict[str, int] = field(default_factory=dict)  # unreadable or refused files: rows unknown
    balanced: bool = True  # read = accepted + quarantined + unexpected, for every table, and every file read
    checks: list[dict] = field(default_factory=list)
    data_docs: str = ""
    seconds: float = 0.0

    def text(self) -> str:
        lines = [f"period {self.period}: ingest and validation ({self.seconds:.1f} s)"]
        lines.append(f"  {'table':<18}{'read':>12}{'accepted':>12}{'quarantined':>13}{'unexpected':>12}")
        for t in self.read:
            n = self.not_read.get(t, 0)
            lines.append(
                f"  {t:<18}{self.read[t]:>12,}{self.accepted[t]:>12,}{self.quarantined[t]:>13,}"
                f"{self.unexpected.get(t, 0):>12,}" + (f"  + {n} file(s) not read, rows unknown" if n else "")
            )
        if self.data_docs:
            lines.append(f"  Data Docs: {self.data_docs}")
        return "\n".join(lines)


def check_config(cfg: Config) -> None:
    """Configuration problems that must stop a run before any work (inconsistent AHP judgments)."""
    from pipelines.value import check_value_config
    from transforms.ahp import InconsistentJudgments

    try:
        check_value_config(cfg)
    except (InconsistentJudgments, ValueError) as e:
        raise StopRun(str(e)) from None


def tables_for_run() -> list[str]:
    return [t.name for t in REFERENCE_TABLES + MONTHLY_TABLES + DAILY_TABLES]


def check_partitions(landing: Path, period: str, sql_tables: set[str] = frozenset()) -> None:
    """Required tables must have their partition; a missing one stops the run before any work."""
    if not landing.is_dir():
        raise StopRun(f"landing folder {landing} does not exist")
    for t in REFERENCE_TABLES + MONTHLY_TABLES:
        if t.optional or t.name in sql_tables:
            continue
        keys = t.partition_keys(period)
        if not any(source_files(landing, t, k) for k in keys):
            where = t.partition_dir(keys[0]) if t.partitioning != "reference" else f"reference/{t.name}.*"
            raise StopRun(f"missing partition: {where}")
    cdr = INPUT_TABLES["cdr"]
    if not any((landing / cdr.partition_dir(k)).is_dir() for k in cdr.partition_keys(period)):
        raise StopRun(f"missing partition: cdr/dt={period}-*")


def ingest_period(cfg: Config, landing: Path, period: str, run_id: str | None = None,
                  db_url: str | None = None) -> IngestSummary:
    """Stage and validate every table of a period and load its data-quality, quarantine and
    row-accounting tables into the reporting database (also when it stops). Raises StopRun on a
    blocking failure."""
    check_config(cfg)
    with guarded(cfg, stage="ingest and validation"):
        return _ingest_period(cfg, landing, period, run_id, db_url)


def _ingest_period(cfg: Config, landing: Path, period: str, run_id: str | None, db_url: str | None) -> IngestSummary:
    t0 = time.perf_counter()
    landing = Path(landing).resolve()
    work = cfg.work_path
    work.mkdir(parents=True, exist_ok=True)
    run_id = run_id or uuid.uuid4().hex[:12]
    check_partitions(landing, period, set(cfg.sources.sql))
    con = cfg.duckdb_connect()
    staged: dict[str, list[PartitionResult]] = {}
    summary = IngestSummary(period, run_id, str(work))
    schema_errors: list[CheckResult] = []
    from pipelines.extract import SourceError
    from pipelines.ingest import SchemaError

    names = tables_for_run()
    log.info("period %s: ingest and validation of %d tables from %s", period, len(names), landing,
             extra={"stage": "ingest", "period": period, "run_id": run_id})
    with progress(sum(len(INPUT_TABLES[n].partition_keys(period)) for n in names), "ingest partitions"):
        for name in names:
            try:
                staged[name] = ingest_table(
                    con, landing, work, name, period, IngestOptions.from_config(cfg, name), cfg.sources.sql.get(name)
                )
            except SchemaError as e:
                schema_errors.append(CheckResult(name, "columns_present", "blocking", False, str(e)))
                continue
            except SourceError as e:
                raise StopRun(str(e)) from None
    stray = landing_unexpected(landing)
    by_table = {name: [f for p in parts for f in p.files] for name, parts in staged.items()}
    if stray:
        by_table["landing"] = stray
    for name, files in by_table.items():
        summary.files += [asdict(f) for f in files]
        summary.read[name] = sum(f.rows_read for f in files if f.status in ("ok", "unexpected"))
        summary.accepted[name] = sum(f.accepted for f in files)
        summary.quarantined[name] = sum(f.quarantined for f in files)
        summary.unexpected[name] = sum(f.rows_read for f in files if f.status == "unexpected")
        summary.not_read[name] = sum(f.status in NOT_READ for f in files)
        summary.balanced &= not summary.not_read[name] and summary.read[name] == (
            summary.accepted[name] + summary.quarantined[name] + summary.unexpected[name]
        )
        log.debug("%s: %d files, %s rows read, %s accepted, %s quarantined", name, len(files),
                  f"{summary.read[name]:,}", f"{summary.accepted[name]:,}", f"{summary.quarantined[name]:,}",
                  extra={"stage": "ingest", "period": period, "table": name, "files": len(files),
                         "rows_read": summary.read[name], "accepted": summary.accepted[name],
                         "quarantined": summary.quarantined[name]})
    checks = schema_errors + table_checks(con, cfg, work, period, staged)
    stray_check = unexpected_files_check(cfg, "landing", stray)
    if stray_check:
        checks.append(stray_check)
    log.info("period %s: Great Expectations suites on %d tables", period, len(staged),
             extra={"stage": "validate", "period": period})
    gx_checks, docs = run_great_expectations(con, cfg, work, period, staged)
    if docs:
        from pipelines.datadocs import make_offline

        make_offline(docs.parent)  # CSS and JS from installed packages: the docs work without a network
    checks += gx_checks
    summary.data_docs = str(docs) if docs else ""
    summary.checks = [asdict(c) for c in checks]
    for c in checks:
        log.debug("check %s %s [%s]: %s", c.table, c.expectation, c.severity, "ok" if c.success else c.observed,
                  extra={"stage": "validate", "period": period, "table": c.table, "check": c.expectation,
                         "severity": c.severity, "success": c.success})
    summary.seconds = time.perf_counter() - t0
    write_results(work, period, run_id, checks)
    d = work / "runs" / f"period={period}"
    blocking = [c for c in checks if not c.success and c.severity == "blocking"]
    (d / "summary.json").write_text(
        json.dumps(asdict(summary) | {"status": "failed" if blocking else "ok"}, indent=1, ensure_ascii=False)
    )
    load_results(cfg, period, db_url, con, run_id, ingest_only=True)
    log.info("period %s: %s rows read, %s accepted, %s quarantined; %d checks, %d blocking failed", period,
             f"{sum(summary.read.values()):,}", f"{sum(summary.accepted.values()):,}",
             f"{sum(summary.quarantined.values()):,}", len(checks), len(blocking),
             extra={"stage": "ingest", "period": period, "rows_read": sum(summary.read.values()),
                    "accepted": sum(summary.accepted.values()), "quarantined": sum(summary.quarantined.values()),
                    "blocking_failed": len(blocking)})
    if not blocking:  # failed warnings go to stderr (kept under -q); a blocking failure is the run's one line
        for c in checks:
            if not c.success:
                log.warning("%s: %s: %s", c.table, c.expectation, c.observed,
                            extra={"stage": "validate", "period": period, "table": c.table, "check": c.expectation})
    if blocking:
        first = blocking[0]
        more = f" (+{len(blocking) - 1} more blocking)" if len(blocking) > 1 else ""
        hint = (quarantine_hint(con, cfg, work, period, first.table, summary.read.get(first.table, 0))
                if first.expectation in ROW_CHECKS else "")
        raise StopRun(first.line() + hint + more)
    return summary


ROW_CHECKS = ("rows_present", "quarantine_share")  # failures whose cause is in the quarantine's reasons


def quarantine_hint(con: duckdb.DuckDBPyConnection, cfg: Config, work: Path, period: str, table: str,
                    read: int) -> str:
    """'; most quarantined rows: REASON (n of m)' for a table with quarantined rows, and when most of its
    `read` rows do not decode, the setting that names the files' encoding; '' when it quarantined nothing."""
    from pipelines.load import quarantine_files

    files = [f for f in quarantine_files(work, period) if f.parts[-3] == table]
    if not files:
        return ""
    lst = "[" + ", ".join(lit(str(f)) for f in files) + "]"
    top = con.execute(
        f"SELECT reason, count(*), sum(count(*)) OVER () FROM read_parquet({lst}, union_by_name=true) "
        "GROUP BY reason ORDER BY count(*) DESC, reason LIMIT 1"
    ).fetchone()
    if top is None:
        return ""
    reason, n, total = top
    hint = f"; most quarantined rows: {reason} ({n:,} of {int(total):,})"
    if reason.startswith("not valid ") and 2 * n >= read:  # a few bad bytes are row faults, not the encoding
        hint += (f"; the files are read as {cfg.sources.encoding_of(table)}: name their encoding in the config, "
                 f"e.g. sources.encodings.{table}: gbk")
    return hint


def run_period(cfg: Config, landing: Path | str, period: str, db_url: str | None = None) -> str:
    """The whole monthly pipeline; returns a printable report. Results are loaded into the reporting
    database at `db_url` (default: the configured one, else the embedded DuckDB file)."""
    with guarded(cfg):
        return _run_period(cfg, landing, period, db_url)


def _run_period(cfg: Config, landing: Path | str, period: str, db_url: str | None) -> str:
    from groupscope.reporting.db import database_url, make_engine
    from pipelines.analytics import build_group_analytics
    from pipelines.calls import build_calls
    from pipelines.load import pseudonym_key

    # Fail before any work when the results could not be loaded (unreachable database, no pseudonym key).
    url = database_url(cfg, db_url)
    make_engine(cfg, url).dispose()
    pseudonym_key(cfg, url)
    summary = ingest_period(cfg, Path(landing), period, db_url=url)
    t0 = time.perf_counter()
    from pipelines.engine import DuckDBEngine, engine_for

    eng = engine_for(cfg)  # the transforms' engine (engine.kind); reports and the load read results with DuckDB
    con = eng.con if isinstance(eng, DuckDBEngine) else cfg.duckdb_connect()
    log.info("period %s: calls", period, extra={"stage": "calls", "period": period})
    calls = build_calls(cfg, period, eng)
    n_calls, n_pairs = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE caller_on_net AND callee_on_net) FROM read_parquet('{calls}/*.parquet')"
    ).fetchone()
    lines = [
        summary.text(),
        f"period {period}: {n_calls:,} calls and SMS after collapsing on-net MOC/MTC pairs "
        f"({n_pairs:,} on-net) in {time.perf_counter() - t0:.1f} s",
    ]
    t0 = time.perf_counter()
    log.info("period %s: call graph and group analytics", period, extra={"stage": "analytics", "period": period})
    out = build_group_analytics(cfg, period, eng)
    lines.append(group_report(con, out, cfg) + f"\n  (group analytics in {time.perf_counter() - t0:.1f} s)")
    from pipelines.value import build_value

    t0 = time.perf_counter()
    log.info("period %s: value scores", period, extra={"stage": "value", "period": period})
    val = build_value(cfg, period, eng)
    lines.append(value_report(con, val) + f"\n  (value scores in {time.perf_counter() - t0:.1f} s)")
    log.info("period %s: load into the reporting database", period, extra={"stage": "load", "period": period})
    lines.append(load_results(cfg, period, url, con, summary.run_id).text())
    report = write_month_report(cfg, period, url)
    log.info("period %s: report %s", period, report, extra={"stage": "report", "period": period, "path": str(report)})
    lines.append(f"report: {report}")
    return "\n".join(lines)


def write_month_report(cfg: Config, period: str, db_url: str | None = None) -> Path:
    """The month's HTML report from the reporting database (pipelines/report.py); StopRun when it cannot."""
    from groupscope.reporting.db import ReportingDbError
    from pipelines.report import ReportError, write_report

    try:
        return write_report(cfg, period, db_url)
    except (ReportError, ReportingDbError) as e:
        raise StopRun(str(e)) from None


def load_results(cfg: Config, period: str, db_url: str | None = None, con: duckdb.DuckDBPyConnection | None = None,
                 run_id: str | None = None, ingest_only: bool = False):
    """Prepare the period's reporting rows and replace the period in the reporting database."""
    from groupscope.reporting.db import ReportingDbError, database_url
    from pipelines.load import load_period, prepare_load

    url = database_url(cfg, db_url)
    try:
        prepare_load(cfg, period, url, con, ingest_only=ingest_only)
        return load_period(cfg, period, url, run_id=run_id, ingest_only=ingest_only)
    except ReportingDbError as e:
        raise StopRun(str(e)) from None


def value_report(con: duckdb.DuckDBPyConnection, val: dict) -> str:
    g = f"read_parquet('{val['group_value']}')"
    tiers = con.execute(f"SELECT value_tier, count(*) FROM {g} GROUP BY 1 ORDER BY 1").fetchall()
    grid = con.execute(f"SELECT value_grid, count(*) FROM {g} GROUP BY 1 ORDER BY 1").fetchall()
    return (
        "group value tiers: " + ", ".join(f"{t} {n}" for t, n in tiers)
        + "\ngroup value grid: " + ", ".join(f"{t} {n}" for t, n in grid)
    )


def calibration_text(con: duckdb.DuckDBPyConnection, path, warn_loo_pp: float | None = None) -> tuple[str, str]:
    """The coefficients both ways with their surveys and leave-one-out errors, and warning lines (each
    ending in a newline) when a method is uncalibrated, when a size band's coefficient was clipped to its
    range (analytics.coefficient_max_ratio) and when a leave-one-out error is above `warn_loo_pp`; they
    also go to the log."""
    import logging

    rel = f"read_parquet('{path}')"
    have = set(con.execute(f"SELECT * FROM {rel} LIMIT 0").fetchdf().columns)
    # columns an older calibration file lacks are NULL
    later = [c if c in have else f"CAST(NULL AS DOUBLE) AS {c}" for c in ("raw_coefficient", "rule_raw_coefficient", "surveys_excluded")]
    cal = sorted(con.execute(
        f"SELECT scope, surveys, status, coefficient, loo_mae_pp, rule_coefficient, rule_loo_mae_pp, {', '.join(later)} FROM {rel}"
    ).fetchall(), key=lambda r: scope_order(r[0]))

    def one(c, loo):
        if c is None:
            return "uncalibrated"
        return f"{c:.2f}" + (f" (leave-one-out error {loo:.1f} pp)" if loo is not None else " (leave-one-out error n/a)")

    # every scope (a band left out would hide the coefficients its groups were corrected with), the scopes
    # with the same fit (bands pooled to the same surveys) said once
    fits: dict[str, list[str]] = {}
    for s, k, _st, c, loo, rc, rloo, *_ in cal:
        fits.setdefault(f"(n={k}): score {one(c, loo)}, 10 % rule {one(rc, rloo)}", []).append(s)
    text = "; ".join(", ".join(scopes) + " " + fit for fit, scopes in fits.items())
    glob = next((r for r in cal if r[0] == "global"), None)
    excluded = glob[9] if glob else None
    lines, quiet = [], []
    if glob is None or glob[2] != "calibrated":
        lines.append("WARNING: " + uncalibrated_text(glob[2] if glob else "uncalibrated", glob[1] if glob else 0))
    if excluded:  # not logged again: the analytics stage's log line names them
        quiet.append(
            f"WARNING: market share: {excluded} survey(s) left out of the calibration as implausible "
            "(analytics.survey_max_ratio; the run's log names them): have them corrected"
        )
    scoped: dict[str, list[str]] = {}  # one warning per finding: bands pooled to the same surveys say it once
    for s, k, _st, c, loo, rc, rloo, raw_c, raw_rc, _x in cal:
        for method, coef, raw_coef, err in (("score", c, raw_c, loo), ("10 % rule", rc, raw_rc, rloo)):
            if coef is not None and raw_coef is not None and abs(coef - raw_coef) > 1e-6 * max(1.0, abs(raw_coef)):  # raw: rounded to 6 digits
                scoped.setdefault(
                    f"(n={k}): {method} coefficient {raw_coef:.2f} is implausibly far from the global one, clipped to "
                    f"{coef:.2f} (analytics.{'' if method == 'score' else 'rule_'}coefficient_max_ratio)", []).append(s)
            if warn_loo_pp is not None and err is not None and err > warn_loo_pp:
                scoped.setdefault(
                    f"(n={k}): {method} leave-one-out error {err:.1f} pp is above {warn_loo_pp:g} pp "
                    "(analytics.coefficient_warn_loo_pp): its shares are unreliable", []).append(s)
    lines += [f"WARNING: market share {', '.join(scopes)} {finding}" for finding, scopes in scoped.items()]
    for line in lines:  # the log's own level prefix stands for the summary's WARNING:
        logging.getLogger("groupscope").warning(line.removeprefix("WARNING: "))
    return text, "".join(line + "\n" for line in quiet + lines)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else format(v, ".1%")


def group_report(con: duckdb.DuckDBPyConnection, out: dict, cfg: Config) -> str:
    g = f"read_parquet('{out['group_summary']}')"
    # the contract's share counts real members (data lines included); the staff share, on-net staff
    shares = ", ".join(
        f"(sum({on}) + sum(est_onnet_unregistered)) / nullif(sum({on}) + sum(est_onnet_unregistered) + sum(est_offnet_employees), 0)"
        for on in ("real_members", "onnet_registered_staff")
    )
    n, listed, suspects, onnet, offnet, share, staff_share = con.execute(
        f"SELECT count(*), coalesce(sum(listed_members), 0), coalesce(sum(suspect_members), 0), "
        f"coalesce(sum(est_onnet_unregistered), 0), coalesce(sum(est_offnet_employees), 0), {shares} FROM {g}"
    ).fetchone()
    p = f"read_parquet('{out['potential_members']}')"
    likely, key_offnet = con.execute(
        f"SELECT count(*) FILTER (WHERE likely_employee), count(*) FILTER (WHERE NOT on_net) FROM {p}"
    ).fetchone()
    coef, warning = calibration_text(con, out["market_calibration"], cfg.analytics.coefficient_warn_loo_pp)
    n_pros, pros_numbers, pros_onnet, largest = con.execute(
        f"SELECT count(*), coalesce(sum(size), 0), coalesce(sum(onnet), 0), coalesce(max(size), 0) "
        f"FROM read_parquet('{out['prospect_groups']}')"
    ).fetchone()
    return (
        f"groups: {n:,} active, {listed:,} registered members, {suspects:,} suspected fake "
        f"(purity {(listed - suspects) / max(listed, 1):.1%})\n"
        f"potential members: {likely:,} likely employees listed; {key_offnet:,} key competitor users (off-net)\n"
        f"estimated employees: {onnet:,} on-net unregistered, {offnet:,.0f} off-net; market share {_pct(share)} (contract formula, data lines as members); of employees {_pct(staff_share)} (data lines left out)\n"
        f"correction coefficient: {coef}\n{warning}"
        f"prospect groups: {n_pros:,} calling communities outside the registered groups, {pros_numbers:,} numbers "
        f"({pros_onnet / max(pros_numbers, 1):.0%} on-net), largest {largest:,}"
    )
