"""Transform runs: staged inputs of a period -> derived Parquet, through the SQL in transforms/ on the
configured engine (pipelines/engine.py)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from groupscope.config import Config
from transforms.calls import calls_sql, normalised_cdr_sql
from transforms.sql import lit


def staged_files(work: Path, table: str, period: str) -> list[str]:
    """The staged Parquet files a period reads for a contract table."""
    from groupscope.contract import INPUT_TABLES

    keys = INPUT_TABLES[table].partition_keys(period)
    files = [str(f) for k in keys for f in sorted((work / "staged" / table / k).glob("*.parquet"))]
    if not files:
        raise FileNotFoundError(f"nothing staged for {table} in {period} under {work}")
    return files


def staged_glob(work: Path, table: str, period: str) -> str:
    """A read_parquet() over the staged files a period reads for a contract table."""
    return "read_parquet([" + ", ".join(lit(f) for f in staged_files(work, table, period)) + "], union_by_name=true)"


def derived_path(work: Path, name: str, period: str) -> Path:
    return work / "derived" / name / f"period={period}" / f"{name}.parquet"


def derived_files(work: Path, name: str, period: str) -> list[Path]:
    """The Parquet files of a derived table's period: its one file, or one per hash partition (the calls
    of a month too large for memory at once, pipelines/engine.py: map_parts)."""
    from pipelines.engine import part_files

    files = part_files(derived_path(work, name, period).parent)
    if not files:
        raise FileNotFoundError(f"no {name} for period {period} under {work}: run the period first")
    return files


def write_parquet(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    con.execute(f"COPY ({sql}) TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
    os.replace(tmp, out)
    return out


def build_calls(cfg: Config, period: str, con=None) -> Path:
    """Normalise the period's CDRs and collapse on-net MOC/MTC pairs; returns the folder of the calls
    Parquet files (derived_files).
    `con`: an Engine, a DuckDB connection, or None for the configured engine."""
    from pipelines.engine import engine_for

    work = cfg.work_path
    eng = engine_for(cfg, con)
    for t in ("cdr", "number_ranges", "ported_numbers"):
        eng.register_parquet(t, staged_files(work, t, period))
    # The normalised records are an intermediate (not a result), partitioned by a hash of the record's
    # unordered number pair: an MO record and its MT twin are in one partition, and so is every call of a
    # pair, so the MOC/MTC collapse here and the call graph later run partition by partition.
    ((rows,),) = eng.rows("SELECT count(*) FROM cdr")
    pair = "least(served_msisdn, other_number), greatest(served_msisdn, other_number)"
    norm = normalised_cdr_sql("cdr", "number_ranges", "ported_numbers", cfg.home_carrier)
    eng.shuffle("cdr_normalised", norm, pair, eng.partitions(rows))
    out = derived_path(work, "calls", period).parent
    eng.map_parts("calls", calls_sql, "cdr_normalised", out, compression="lz4_raw")
    eng.drop("cdr_normalised")
    return out


def register_calendar(con, cfg: Config, calls: str, name: str) -> None:
    """The working calendar's hour table (transforms.graph.calendar_slots) over the hours that the calls in
    `calls` span, as relation `name` (what events_sql joins for working time). `con`: an Engine or a
    DuckDB connection."""
    from pipelines.engine import engine_for
    from transforms.graph import calendar_slots

    eng = engine_for(cfg, con)
    ((first, last),) = eng.rows(f"SELECT min(start_time), max(start_time) FROM {calls}")
    eng.register_arrow(name, calendar_slots(cfg.calendar.work_calendar(), first, last))
