"""Where stages keep their files: the staged Parquet a period reads, the derived results it writes, and an
atomic Parquet write."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

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
    files = sorted(derived_path(work, name, period).parent.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no {name} for period {period} under {work}: run the period first")
    return files


def write_parquet(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    con.execute(f"COPY ({sql}) TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
    os.replace(tmp, out)
    return out
