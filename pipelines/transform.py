"""Transform runs: staged inputs of a period -> derived Parquet, through the SQL in transforms/."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from groupscope.config import Config
from transforms.calls import calls_sql, normalised_cdr_sql
from transforms.sql import lit


def staged_glob(work: Path, table: str, period: str) -> str:
    """A read_parquet() over the staged files a period reads for a contract table."""
    from groupscope.contract import INPUT_TABLES

    keys = INPUT_TABLES[table].partition_keys(period)
    files = [str(f) for k in keys for f in sorted((work / "staged" / table / k).glob("*.parquet"))]
    if not files:
        raise FileNotFoundError(f"nothing staged for {table} in {period} under {work}")
    return "read_parquet([" + ", ".join(lit(f) for f in files) + "], union_by_name=true)"


def derived_path(work: Path, name: str, period: str) -> Path:
    return work / "derived" / name / f"period={period}" / f"{name}.parquet"


def write_parquet(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    con.execute(f"COPY ({sql}) TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
    os.replace(tmp, out)
    return out


def build_calls(cfg: Config, period: str, con: duckdb.DuckDBPyConnection | None = None) -> Path:
    """Normalise the period's CDRs and collapse on-net MOC/MTC pairs; returns the calls Parquet path."""
    work = cfg.work_path
    con = con or cfg.duckdb_connect()
    con.execute(f"CREATE OR REPLACE TEMP VIEW cdr AS SELECT * FROM {staged_glob(work, 'cdr', period)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW number_ranges AS SELECT * FROM {staged_glob(work, 'number_ranges', period)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW ported_numbers AS SELECT * FROM {staged_glob(work, 'ported_numbers', period)}")
    norm = derived_path(work, "cdr_normalised", period)
    write_parquet(con, normalised_cdr_sql("cdr", "number_ranges", "ported_numbers", cfg.home_carrier), norm)
    con.execute(f"CREATE OR REPLACE TEMP VIEW cdr_normalised AS SELECT * FROM read_parquet({lit(str(norm))})")
    return write_parquet(con, calls_sql("cdr_normalised"), derived_path(work, "calls", period))


def register_calendar(con: duckdb.DuckDBPyConnection, cfg: Config, calls: str, name: str) -> None:
    """The working calendar's hour table (transforms.graph.calendar_slots) over the hours that the calls in
    `calls` span, as temp table `name` (what events_sql joins for working time)."""
    from transforms.graph import calendar_slots

    ((first, last),) = con.execute(f"SELECT min(start_time), max(start_time) FROM {calls}").fetchall()
    con.register(f"{name}_arrow", calendar_slots(cfg.calendar.work_calendar(), first, last))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")
