"""Table-level expectations over the staged period, and the Great Expectations run with Data Docs.

Each check yields a `CheckResult`; its severity (blocking / warning) comes from the configuration.
Results are kept as rows (WORK/runs/<period>/validation.parquet) for the reporting schema.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from expectations.suites import DERIVED, conflict_rules, suite_for, with_conflict_measures
from groupscope.config import Config
from groupscope.contract import INPUT_TABLES
from pipelines.ingest import PartitionResult
from transforms.sql import lit


@dataclass
class CheckResult:
    table: str
    expectation: str
    severity: str  # blocking | warning | info
    success: bool
    observed: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.table}: {self.expectation} failed: {self.observed}"



def staged_files(work: Path, parts: list[PartitionResult]) -> list[Path]:
    out = []
    for p in parts:
        for f in p.staged_paths:
            path = work / "staged" / p.table / p.partition / f
            if path.exists():
                out.append(path)
    return out


def staged_relation(work: Path, parts: list[PartitionResult]) -> str | None:
    files = staged_files(work, parts)
    if not files:
        return None
    return "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "], union_by_name=true)"


def table_checks(
    con: duckdb.DuckDBPyConnection, cfg: Config, work: Path, period: str, staged: dict[str, list[PartitionResult]]
) -> list[CheckResult]:
    sev = cfg.validation.severity
    out: list[CheckResult] = []
    for name, parts in staged.items():
        files = [f for p in parts for f in p.files]
        bad = [f for f in files if f.status in ("unreadable", "refused")]
        out.append(
            CheckResult(
                name,
                "files_readable",
                sev["files_readable"],
                not bad,
                f"{len(bad)} unreadable or refused file(s)" + (": " + "; ".join(f"{f.file} ({f.error})" for f in bad) if bad else ""),
            )
        )
        empty = [f for f in files if f.status == "empty"]
        if empty:
            out.append(
                CheckResult(name, "empty_files", sev["empty_files"], False,
                            f"{len(empty)} 0-byte file(s): {', '.join(f.file for f in empty)}")
            )
        c = unexpected_files_check(cfg, name, files)
        if c:
            out.append(c)
        unbalanced = [f for f in files if not f.balanced()]
        if unbalanced:
            out.append(
                CheckResult(
                    name, "rows_accounted", sev["rows_accounted"], False,
                    "; ".join(f"{f.file}: {f.rows_read} rows in the file, {f.accepted} accepted + {f.quarantined} "
                              "quarantined (a quote left open?)" for f in unbalanced),
                )
            )
        dup = [f for f in files if f.status == "duplicate_delivery"]
        if dup:
            out.append(
                CheckResult(name, "duplicate_delivery", sev["duplicate_delivery"], False, "; ".join(f"{f.file}: {f.error}" for f in dup))
            )
        extra = sorted({c for f in files for c in f.extra_columns})
        if extra:
            where = [f.file for f in files if f.extra_columns]
            out.append(
                CheckResult(name, "extra_columns", sev["extra_columns"], False, f"unknown column(s) {', '.join(extra)} in {', '.join(where)}")
            )
        if not (INPUT_TABLES[name].optional or INPUT_TABLES[name].may_be_empty):
            n_ok = sum(f.accepted for f in files)
            out.append(
                CheckResult(name, "rows_present", sev["rows_present"], n_ok > 0,
                            f"{n_ok} rows accepted from {sum(f.status == 'ok' for f in files)} readable file(s)")
            )
        quarantined = sum(f.quarantined for f in files)
        read = sum(f.accepted for f in files) + quarantined
        share = quarantined / read if read else 0.0
        out.append(
            CheckResult(
                name,
                "quarantine_share",
                sev["quarantine_share"],
                share <= cfg.validation.max_quarantine_share,
                f"{quarantined} of {read} rows quarantined ({share:.2%}, limit {cfg.validation.max_quarantine_share:.0%})",
            )
        )
        if INPUT_TABLES[name].partitioning == "day":
            days = [p for p in parts if p.expected]
            missing = [p.partition for p in days if not any(f.status == "ok" for f in p.files)]
            out.append(
                CheckResult(
                    name,
                    "days_complete",
                    sev["days_complete"],
                    not missing,
                    f"{len(missing)} of {len(days)} days without readable data" + (": " + ", ".join(missing) if missing else ""),
                )
            )
        accepted = sum(f.accepted for f in files)
        history = previous_counts(work, period, name, cfg.validation.row_count_history)
        if history:
            mean = sum(history) / len(history)
            band = cfg.validation.row_count_band
            ok = (1 - band) * mean <= accepted <= (1 + band) * mean
            out.append(
                CheckResult(name, "row_count_band", sev["row_count_band"], ok, f"{accepted} rows vs mean {mean:.0f} of {len(history)} earlier period(s), band ±{band:.0%}")  # noqa: E501
            )
    out += referential_checks(con, cfg, work, staged)
    return out


def unexpected_files_check(cfg: Config, table: str, files) -> CheckResult | None:
    """Files and folders outside the contract's layout, with the rows they hold where countable."""
    odd = [f for f in files if f.status == "unexpected"]
    if not odd:
        return None
    rows = sum(f.rows_read for f in odd)
    return CheckResult(
        table, "unexpected_files", cfg.validation.severity["unexpected_files"], False,
        f"{len(odd)} file(s) or folder(s) outside the layout, {rows} data row(s) not read: "
        + "; ".join(f"{f.file} ({f.error})" for f in odd),
    )


RI_RULES = [
    ("memberships", "group_id", "groups", "group_id"),
    ("memberships", "msisdn", "subscribers", "msisdn"),
    ("billing", "msisdn", "subscribers", "msisdn"),
    ("groups", "account_manager_id", "account_managers", "account_manager_id"),
    ("surveys", "group_id", "groups", "group_id"),
]


def referential_checks(con, cfg: Config, work: Path, staged: dict[str, list[PartitionResult]]) -> list[CheckResult]:
    out = []
    for child, col, parent, pcol in RI_RULES:
        if child not in staged or parent not in staged:
            continue
        c_rel, p_rel = staged_relation(work, staged[child]), staged_relation(work, staged[parent])
        if not c_rel or not p_rel:
            continue
        n, orphans = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE \"{col}\" NOT IN (SELECT \"{pcol}\" FROM {p_rel})) FROM {c_rel}"
        ).fetchall()[0]  # fetched to the end: no result is left open on the shared connection
        out.append(
            CheckResult(
                child,
                "referential_integrity",
                cfg.validation.severity["referential_integrity"],
                orphans == 0,
                f"{orphans} of {n} {child}.{col} not in {parent}.{pcol}",
            )
        )
    return out


def previous_counts(work: Path, period: str, table: str, k: int) -> list[int]:
    runs = work / "runs"
    if not runs.exists():
        return []
    counts = []
    for d in sorted(runs.iterdir(), reverse=True):
        if d.name >= f"period={period}" or not (d / "summary.json").exists():
            continue
        s = json.loads((d / "summary.json").read_text())
        if table in s.get("accepted", {}):
            counts.append(s["accepted"][table])
        if len(counts) == k:
            break
    return counts


# ---- Great Expectations ------------------------------------------------------------------------------


def _gx_frame(con, table: str, rel: str, sample: int):
    t = INPUT_TABLES[table]
    cols = []
    for c in t.columns:
        q = f'"{c.name}"'
        if c.type == "date":
            cols.append(f"strftime({q}, '%Y-%m-%d') AS {q}")
        elif c.type == "datetime":
            cols.append(f"strftime({q}, '%Y-%m-%d %H:%M:%S') AS {q}")
        elif c.type in ("money",):
            cols.append(f"CAST({q} AS DOUBLE) AS {q}")
        else:
            cols.append(q)
    derived = "".join(f", {expr} AS \"{n}\"" for n, expr in DERIVED.get(table, {}).items())
    # conflict measures count over all the period's rows, before the sample
    derived += "".join(f', "{r.measure}"' for r in conflict_rules(table))
    n = con.execute(f"SELECT count(*) FROM {rel}").fetchall()[0][0]
    samp = f" USING SAMPLE reservoir({sample} ROWS) REPEATABLE (7)" if n > sample else ""
    src = with_conflict_measures(table, rel)
    if samp and not conflict_rules(table):
        # the reservoir picks rows by position, whatever columns it carries: drawn over the row ids alone
        # (a single-threaded scan of two columns instead of all), the same rows are then read in full
        # (a parallel scan); in file and row order instead of the reservoir's
        src = (f"(SELECT t.* FROM {rel} AS t SEMI JOIN (SELECT __file, __row FROM {rel}{samp}) AS s "
               "USING (__file, __row) ORDER BY __file, __row)")
        samp = ""
    return con.execute(f"SELECT {', '.join(cols)}{derived} FROM (SELECT * FROM {src}{samp})").df(), n


def run_great_expectations(
    con, cfg: Config, work: Path, period: str, staged: dict[str, list[PartitionResult]]
) -> tuple[list[CheckResult], Path | None]:
    """Validate every staged table with its suite; build Data Docs under WORK/gx."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="file", project_root_dir=str(work))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    ds = ctx.data_sources.add_or_update_pandas("groupscope_staged")
    out: list[CheckResult] = []
    for name, parts in staged.items():
        rel = staged_relation(work, parts)
        if rel is None:
            continue
        df, n = _gx_frame(con, name, rel, cfg.validation.gx_sample_rows)
        asset_name = f"{name}"
        try:
            asset = ds.get_asset(asset_name)
        except LookupError:
            asset = ds.add_dataframe_asset(asset_name)
        bd_name = "whole"
        try:
            bd = asset.get_batch_definition(bd_name)
        except (KeyError, LookupError):
            bd = asset.add_batch_definition_whole_dataframe(bd_name)
        suite = suite_for(name)
        suite_name = suite.name
        try:
            ctx.suites.delete(suite_name)
        except Exception:  # noqa: BLE001 - absent on first run
            pass
        s = ctx.suites.add(gx.ExpectationSuite(name=suite_name, expectations=[e.copy() if hasattr(e, "copy") else e for e in suite.expectations]))  # noqa: E501
        vd_name = f"{name}-{period}"
        try:
            ctx.validation_definitions.delete(vd_name)
        except Exception:  # noqa: BLE001
            pass
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=vd_name, data=bd, suite=s))
        res = vd.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")
        failed = [r for r in res.results if not r.success]
        desc = "; ".join(
            f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', '')}): "
            f"{r.result.get('unexpected_count', r.exception_info and 'error')}"
            for r in failed
        )
        scope = f"{len(df)} of {n} rows" if len(df) < n else f"{n} rows"
        out.append(
            CheckResult(
                name,
                "great_expectations",
                cfg.validation.severity["great_expectations"],
                bool(res.success),
                f"suite {suite_name} on {scope}: {len(res.results) - len(failed)}/{len(res.results)} expectations met"
                + (f"; failed: {desc}" if failed else ""),
            )
        )
    ctx.build_data_docs()
    docs = work / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return out, docs if docs.exists() else None


def write_results(work: Path, period: str, run_id: str, checks: list[CheckResult]) -> Path:
    d = work / "runs" / f"period={period}"
    d.mkdir(parents=True, exist_ok=True)
    rows = [asdict(c) | {"run_id": run_id, "period": period} for c in checks]
    t = pa.Table.from_pylist(rows) if rows else pa.table({})
    pq.write_table(t, d / "validation.parquet")
    return d / "validation.parquet"
