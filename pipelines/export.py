"""The downloadable lists of CONTRACT.md section 3, written as UTF-8 CSV with a header row."""

from __future__ import annotations

from pathlib import Path

import duckdb

from groupscope.config import Config
from groupscope.contract import OUTPUT_LISTS
from pipelines.transform import derived_path
from transforms.sql import lit


def quarantine_files(work: Path, period: str) -> list[Path]:
    root = work / "quarantine"
    pats = [f"*/month={period}/*.parquet", f"*/dt={period}-*/*.parquet", "*/reference/*.parquet"]
    return sorted({p for pat in pats for p in root.glob(pat)})


def _bool(col: str) -> str:
    return f"CASE WHEN {col} THEN 'true' ELSE 'false' END"


def _derived(work: Path, name: str, period: str) -> str:
    p = derived_path(work, name, period)
    if not p.exists():
        raise ValueError(f"no {name} for period {period} under {work}: run the period first")
    return f"read_parquet({lit(str(p))})"


# The SELECT list of each export, column for column as in CONTRACT.md section 3.
def _query(work: Path, name: str, period: str) -> str:
    if name == "quarantine":
        files = quarantine_files(work, period)
        if not files:
            raise ValueError(f"no staged run for period {period} under {work}")
        rel = "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "])"
        return f'SELECT source, file, row_number, "column", reason, raw FROM {rel} ORDER BY source, file, row_number'
    if name == "fake-members":
        return (
            f"SELECT group_id, msisdn, round(fake_score, 4) AS fake_score, {_bool('is_suspect')} AS is_suspect, reasons "
            f"FROM {_derived(work, 'member_scores', period)} ORDER BY group_id, fake_score DESC, msisdn"
        )
    if name == "potential-members":
        return (
            f"SELECT group_id, msisdn, carrier, {_bool('on_net')} AS on_net, members_contacted, "
            f"round(member_share, 4) AS member_share, round(score, 4) AS score, "
            f"{_bool('likely_employee')} AS likely_employee "
            f"FROM {_derived(work, 'potential_members', period)} ORDER BY group_id, score DESC, msisdn"
        )
    if name == "group-summary":
        return (
            "SELECT group_id, g.listed_members, g.suspect_members, g.real_members, round(g.purity, 4) AS purity, "
            "g.est_onnet_unregistered, round(g.est_offnet_employees, 1) AS est_offnet_employees, "
            "round(g.market_share, 4) AS market_share, round(v.value_score, 2) AS value_score, v.value_tier "
            f"FROM {_derived(work, 'group_summary', period)} AS g "
            f"LEFT JOIN {_derived(work, 'group_value', period)} AS v USING (group_id) ORDER BY group_id"
        )
    raise ValueError(f"unknown list {name}")


def export_list(cfg: Config, name: str, period: str, out: str | Path) -> int:
    sql = _query(cfg.work_path, name, period)
    con = duckdb.connect()
    cols = [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description]
    if cols != OUTPUT_LISTS[name].column_names:  # the contract, checked at the point of writing
        raise AssertionError(f"{name} columns {cols} differ from the contract")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO {lit(str(out))} (FORMAT csv, HEADER true)").fetchall()
    return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
