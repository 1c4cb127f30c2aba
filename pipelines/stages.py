"""The monthly pipeline cut into stages for a scheduler: each stage takes a landing path, a partition key
(a day or a period) and the reporting database URL, reads and writes files under work_dir, and returns
only small JSON-able values (paths, keys, counts). The Airflow DAGs in dags/ call these and nothing else;
`groupscope run` runs the same work in one process (pipelines/run.py).

Every stage is idempotent on its partition: staging reuses files whose checksum is unchanged, derived
results are rewritten atomically, and a load replaces the period in one transaction.
"""

from __future__ import annotations

from pathlib import Path

from groupscope.config import Config, load_config
from groupscope.contract import CDR, MONTHLY_TABLES, REFERENCE_TABLES
from groupscope.errors import StopRun
from groupscope.period import Period


def config(work_dir: str | None = None) -> Config:
    """The configuration: $GROUPSCOPE_CONFIG (or defaults), with work_dir overridden when given."""
    return load_config(None, work_dir=work_dir)


def days_of(period: str) -> list[str]:
    return [d.isoformat() for d in Period.parse(period).days()]


def stage_cdr_day(cfg: Config, landing: str, day: str) -> dict:
    """Stage and quarantine one day partition of call records (cdr/dt=DAY)."""
    from pipelines.ingest import IngestOptions, ingest_partition
    from pipelines.run import guarded

    part_dir = Path(landing) / "cdr" / f"dt={day}"
    if not part_dir.is_dir():
        raise StopRun(f"missing partition: cdr/dt={day}")
    with guarded(cfg, shared=True):
        r = ingest_partition(cfg.duckdb_connect(), Path(landing).resolve(), cfg.work_path, CDR, f"dt={day}",
                             IngestOptions.from_config(cfg, "cdr"))
    return {
        "day": day, "period": day[:7], "files": len(r.files),
        "rows_read": sum(f.rows_read for f in r.files), "accepted": sum(f.accepted for f in r.files),
        "quarantined": sum(f.quarantined for f in r.files),
        "staged": str(cfg.work_path / "staged" / "cdr" / f"dt={day}"),
    }


def stage_snapshots(cfg: Config, landing: str, period: str) -> dict:
    """Stage and quarantine the month's snapshot tables and the reference tables."""
    from pipelines.ingest import IngestOptions, ingest_table
    from pipelines.run import guarded

    out = {}
    with guarded(cfg, shared=True):
        con = cfg.duckdb_connect()
        for t in REFERENCE_TABLES + MONTHLY_TABLES:
            parts = ingest_table(con, Path(landing).resolve(), cfg.work_path, t.name, period,
                                 IngestOptions.from_config(cfg, t.name), cfg.sources.sql.get(t.name))
            out[t.name] = sum(f.accepted for p in parts for f in p.files)
    return {"period": period, "accepted": out}


def month_ready(cfg: Config, period: str) -> dict:
    """Whether every day of the month and the month's snapshots have been staged."""
    staged = cfg.work_path / "staged"
    missing = [d for d in days_of(period) if not (staged / "cdr" / f"dt={d}").is_dir()]
    missing += [t.name for t in MONTHLY_TABLES if not t.optional and not (staged / t.name / f"month={period}").is_dir()]
    return {"period": period, "ready": not missing, "missing": missing[:5] + (["..."] if len(missing) > 5 else [])}


def validate_month(cfg: Config, landing: str, period: str, db_url: str | None) -> dict:
    """Month-level validation (Great Expectations and table checks) over the staged month; loads the data
    quality, quarantine and row accounting; raises StopRun naming the table and expectation on a blocking
    failure."""
    from pipelines.run import check_config, ingest_period

    check_config(cfg)
    s = ingest_period(cfg, Path(landing), period, db_url=db_url)
    return {"period": period, "run_id": s.run_id, "read": sum(s.read.values()), "accepted": sum(s.accepted.values()),
            "quarantined": sum(s.quarantined.values()), "data_docs": s.data_docs}


def compute_calls(cfg: Config, period: str) -> str:
    from pipelines.calls import build_calls
    from pipelines.engine import memory_guard

    with memory_guard("calls", cfg.duckdb_memory_limit):
        return str(build_calls(cfg, period))


def compute_group_analytics(cfg: Config, period: str) -> dict[str, str]:
    from pipelines.analytics import build_group_analytics
    from pipelines.engine import memory_guard

    with memory_guard("group analytics", cfg.duckdb_memory_limit):
        return {k: str(v) for k, v in build_group_analytics(cfg, period).items()}


def compute_value(cfg: Config, period: str) -> dict[str, str]:
    from pipelines.engine import memory_guard
    from pipelines.value import build_value

    with memory_guard("value", cfg.duckdb_memory_limit):
        return {k: str(v) for k, v in build_value(cfg, period).items()}


def load(cfg: Config, period: str, db_url: str | None, run_id: str | None = None) -> dict:
    from pipelines.run import load_results

    r = load_results(cfg, period, db_url, run_id=run_id)
    return {"period": period, "run_id": r.run_id, "rows": r.rows}


def export_all(cfg: Config, period: str, db_url: str | None) -> dict[str, str]:
    """The downloadable lists of the period and one worklist per account manager, under
    work_dir/exports/period=P/."""
    from pipelines.export import export_list, export_worklists

    out = cfg.work_path / "exports" / f"period={period}"
    files = {}
    for name in ("fake-members", "potential-members", "group-summary", "quarantine", "prospect-groups"):
        export_list(cfg, name, period, out / f"{name}.csv", db_url)
        files[name] = str(out / f"{name}.csv")
    export_worklists(cfg, period, out / "worklists", db_url)
    files["worklists"] = str(out / "worklists")
    return files


def write_report(cfg: Config, period: str, db_url: str | None = None) -> str:
    """The month's HTML report at work_dir/reports/period=P/report.html (the same function as `groupscope
    run` uses, pipelines/report.py); returns the path."""
    from pipelines.run import write_month_report

    return str(write_month_report(cfg, period, db_url))
