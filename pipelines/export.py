"""The downloadable lists of CONTRACT.md section 3, written as UTF-8 CSV with a header row."""

from __future__ import annotations

from pathlib import Path

import duckdb

from groupscope.config import Config
from groupscope.contract import OUTPUT_LISTS


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def quarantine_files(work: Path, period: str) -> list[Path]:
    root = work / "quarantine"
    pats = [f"*/month={period}/*.parquet", f"*/dt={period}-*/*.parquet", "*/reference/*.parquet"]
    return sorted({p for pat in pats for p in root.glob(pat)})


def export_list(cfg: Config, name: str, period: str, out: str | Path) -> int:
    cols = OUTPUT_LISTS[name].column_names
    if name != "quarantine":
        raise ValueError(f"export {name} is not available yet")
    files = quarantine_files(cfg.work_path, period)
    if not files:
        raise ValueError(f"no staged run for period {period} under {cfg.work_path}")
    rel = "read_parquet([" + ", ".join(_sql_str(str(f)) for f in files) + "])"
    col_sql = ", ".join(f'"{c}"' for c in cols)
    con = duckdb.connect()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY (SELECT {col_sql} FROM {rel} ORDER BY source, file, row_number) TO {_sql_str(str(out))} "
        "(FORMAT csv, HEADER true)"
    )
    return con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
