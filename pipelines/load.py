"""Load one period's results into the reporting database, atomically and idempotently.

1. `prepare_load` writes one Parquet file per reporting table under WORK/load/period=P/ (DuckDB, from
   the period's derived results, staged dimensions, validation results and quarantine).
2. `load_period` replaces the period in one transaction: it deletes the period's rows and bulk-copies
   the files in (COPY ... FROM STDIN on PostgreSQL, INSERT ... SELECT FROM read_parquet on the embedded
   DuckDB file). Tables shared by all periods (numbers, carriers, industries, regions) are upserted.
   A crash before the commit leaves the previous contents untouched; a re-run yields the same rows.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlalchemy as sa

import groupscope
from groupscope.config import Config
from groupscope.console import get_logger, progress
from groupscope.errors import first_line
from groupscope.reporting import db, models
from pipelines.storage import derived_path, staged_glob
from transforms.privacy import pseudonyms_sql
from transforms.reporting import INGEST_TABLES, load_queries
from transforms.sql import lit

DERIVED = [
    "member_scores", "potential_members", "group_summary", "group_value", "subscriber_value",
    "market_calibration", "prospect_groups", "prospect_members",
]
# Results that hold telephone numbers, pseudonymised before they reach the reporting schema.
WITH_NUMBERS = ["member_scores", "potential_members", "subscriber_value", "prospect_members"]

QUARANTINE_COLUMNS = ["source", "file", "row_number", "column", "reason", "raw"]

log = get_logger("load")


def load_dir(work: Path, period: str) -> Path:
    return work / "load" / f"period={period}"


def quarantine_files(work: Path, period: str) -> list[Path]:
    root = work / "quarantine"
    pats = [f"*/month={period}/*.parquet", f"*/dt={period}-*/*.parquet", "*/reference/*.parquet"]
    return sorted({p for pat in pats for p in root.glob(pat)})


def pseudonym_key(cfg: Config, url: str) -> bytes:
    """The secret key of number pseudonyms: from the environment; for the embedded database a key file
    under work_dir/secrets is created once when the variable is not set. Never from the repository."""
    env = cfg.reporting.pseudonym_key_env
    value = os.environ.get(env)
    if value:
        if len(value) < 16:
            raise db.ReportingDbError(f"{env} must hold at least 16 characters")
        return value.encode()
    if not db.is_embedded(url):
        raise db.ReportingDbError(f"set {env} to the secret pseudonym key before loading into {sa.make_url(url).drivername}")
    path = cfg.work_path / "secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _relations(cfg: Config, period: str, con: duckdb.DuckDBPyConnection, key: bytes | None) -> dict[str, str]:
    """The SQL relations the load queries read; without a key, only those of the ingest tables."""
    work = cfg.work_path
    rel = _ingest_relations(work, period, con)
    if key is None:
        return rel
    for name in DERIVED:
        p = derived_path(work, name, period)
        if not p.exists():
            raise FileNotFoundError(f"no {name} for period {period} under {work}: run the period first")
        rel[name] = f"read_parquet({lit(str(p))})"
    for table in ("groups", "account_managers", "number_ranges", "ported_numbers"):
        rel[table] = staged_glob(work, table, period)
    numbers = "(" + " UNION ".join(f"SELECT msisdn FROM {rel[n]}" for n in WITH_NUMBERS) + ")"
    con.execute("CREATE OR REPLACE TEMP TABLE gs_numbers AS " + pseudonyms_sql(numbers, key))
    rel["numbers"] = "gs_numbers"
    return rel


def _ingest_relations(work: Path, period: str, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rel: dict[str, str] = {}
    runs = work / "runs" / f"period={period}"
    rel["validation"] = f"read_parquet({lit(str(runs / 'validation.parquet'))})"
    files = json.loads((runs / "summary.json").read_text(encoding="utf-8"))["files"]
    con.register("gs_source_files", pa.Table.from_pylist(files) if files else pa.table(
        {k: pa.array([], pa.string()) for k in ("table", "file", "sha256", "status")}
        | {k: pa.array([], pa.int64()) for k in ("rows_read", "accepted", "quarantined")}
    ))
    rel["source_files"] = "gs_source_files"
    q = quarantine_files(work, period)
    rel["quarantine"] = (
        "read_parquet([" + ", ".join(lit(str(f)) for f in q) + "], union_by_name=true)"
        if q
        else "(SELECT " + ", ".join(
            f'CAST(NULL AS {"BIGINT" if c == "row_number" else "VARCHAR"}) AS "{c}"' for c in QUARANTINE_COLUMNS
        ) + " WHERE false)"
    )
    return rel


def prepare_load(cfg: Config, period: str, url: str, con: duckdb.DuckDBPyConnection | None = None,
                 ingest_only: bool = False) -> Path:
    """Write the period's rows of every reporting table (or only of the ingest tables) as Parquet;
    returns the folder."""
    from pipelines.storage import write_parquet

    con = con or cfg.duckdb_connect()
    rel = _relations(cfg, period, con, None if ingest_only else pseudonym_key(cfg, url))
    out = load_dir(cfg.work_path, period)
    for name, sql in load_queries(rel, period, cfg.home_carrier, ingest_only).items():
        try:
            write_parquet(con, sql, out / f"{name}.parquet")
        except duckdb.BinderException as e:  # a result written before the reporting table gained a column
            col = re.search(r'"([^"]+)"', str(e))
            raise db.ReportingDbError(
                f"{name}: the period's results have no column {col.group(1) if col else '(see below)'} (computed by an "
                f"older groupscope?): run the period again (groupscope run --period {period}); {first_line(e)}"
            ) from None
    return out


@dataclass
class LoadResult:
    period: str
    url: str
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def text(self) -> str:
        total = sum(self.rows.values())
        return (
            f"period {self.period}: loaded {total:,} rows into {len(self.rows)} reporting tables of "
            f"{self.url} in {self.seconds:.1f} s (run {self.run_id})"
        )


def _scratch() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _cols(t: sa.Table) -> str:
    return ", ".join(f'"{c}"' for c in t.c.keys())


def _name(t: sa.Table, schemas: dict[str, str]) -> str:
    return f'"{schemas[t.schema]}"."{t.name}"'


def _read(parquet: Path) -> str:
    """SQL reading a prepared file as written: its folder's `period=P` is not read as a column."""
    return f"read_parquet({lit(str(parquet))}, hive_partitioning = false)"


def _copy_in(conn: sa.Connection, target: str, t: sa.Table, parquet: Path) -> None:
    """Bulk-copy a Parquet file into `target` (a table name) on the connection's database."""
    if conn.dialect.name == "duckdb":
        conn.execute(sa.text(f"INSERT INTO {target} ({_cols(t)}) SELECT {_cols(t)} FROM {_read(parquet)}"))
        return
    if conn.dialect.name != "postgresql":
        raise db.ReportingDbError(f"loads support PostgreSQL and the embedded DuckDB, not {conn.dialect.name}")
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        _scratch().execute(
            f"COPY (SELECT {_cols(t)} FROM {_read(parquet)}) TO {lit(tmp.name)} (FORMAT csv, HEADER true)"
        ).fetchall()
        cur = conn.connection.driver_connection.cursor()
        with cur.copy(f"COPY {target} ({_cols(t)}) FROM STDIN (FORMAT csv, HEADER true)") as cp, open(tmp.name, "rb") as f:
            while chunk := f.read(1 << 20):
                cp.write(chunk)


def _load_table(conn: sa.Connection, t: sa.Table, parquet: Path, schemas: dict[str, str], period: str) -> int:
    """Load one prepared file into its table and check that every row of the file is there (a load that
    lost rows raises ReportingDbError, and the transaction rolls back)."""
    target = _name(t, schemas)
    rows = _scratch().execute(f"SELECT count(*) FROM {_read(parquet)}").fetchone()[0]
    if t in models.SHARED_TABLES:
        # Shared rows: insert the new and update the changed ones.
        pk = [c.name for c in t.primary_key.columns]
        rest = [c for c in t.c.keys() if c not in pk]
        action = (
            "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in rest) if rest else "DO NOTHING"
        )
        pks = ", ".join(f'"{c}"' for c in pk)
        if conn.dialect.name == "duckdb":
            # Straight from the file: DuckDB 2.0.0 inserts no row from a temporary table of >= 122,880 rows
            # (one row group) created in the same transaction, and reports 0 (found on the 10M month's
            # dim_number), so no scratch table on the embedded default.
            source = _read(parquet)
        else:
            source = f"gs_load_{t.name}"
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {source}"))
            conn.execute(sa.text(f"CREATE TEMPORARY TABLE {source} AS SELECT {_cols(t)} FROM {target} WHERE false"))
            _copy_in(conn, source, t, parquet)
        conn.execute(sa.text(f"INSERT INTO {target} ({_cols(t)}) SELECT {_cols(t)} FROM {source} ON CONFLICT ({pks}) {action}"))
        on = " AND ".join(f's."{c}" = t."{c}"' for c in pk)
        found = conn.execute(sa.text(f"SELECT count(*) FROM {source} AS s JOIN {target} AS t ON {on}")).scalar()
        if source.startswith("gs_load_"):
            conn.execute(sa.text(f"DROP TABLE {source}"))
    else:
        _copy_in(conn, target, t, parquet)
        found = conn.execute(sa.text(f"SELECT count(*) FROM {target} WHERE period = :p"), {"p": period}).scalar()
    if found != rows:
        raise db.ReportingDbError(
            f"load of {t.name} lost rows: {rows:,} in {parquet.name}, {found:,} in the table after the insert; "
            "nothing of this load is kept"
        )
    return rows


def load_period(cfg: Config, period: str, url: str | None = None, run_id: str | None = None,
                engine: sa.Engine | None = None, ingest_only: bool = False) -> LoadResult:
    """Replace `period` in the reporting database with the prepared files, in one transaction
    (with ingest_only, only the period's data-quality, quarantine and row-accounting tables)."""
    url = db.database_url(cfg, url)
    t0 = time.perf_counter()
    engine = engine or db.make_engine(cfg, url)
    db.upgrade(engine, cfg)
    folder = load_dir(cfg.work_path, period)
    schemas = db.schema_map(cfg)
    result = LoadResult(period, engine.url.render_as_string(hide_password=True), run_id or secrets.token_hex(6))
    tables = [t for t in models.metadata.sorted_tables if not ingest_only or t.name in INGEST_TABLES]
    with engine.begin() as conn:
        db.lock(conn, cfg)
        for t in reversed(tables):
            if t in models.PERIOD_TABLES:
                conn.execute(t.delete().where(t.c.period == period))
        with progress(len(tables), "load tables") as bar:
            for t in tables:
                f = folder / f"{t.name}.parquet"
                if f.exists() and (t in models.PERIOD_TABLES or t in models.SHARED_TABLES):
                    result.rows[t.name] = _load_table(conn, t, f, schemas, period)
                    log.debug("loaded %s rows into %s", f"{result.rows[t.name]:,}", t.name,
                              extra={"stage": "load", "period": period, "table": t.name, "rows": result.rows[t.name]})
                bar.advance()
        conn.execute(
            models.fact_pipeline_run.insert().values(
                run_id=result.run_id, stage="ingest" if ingest_only else "results", period=period, loaded_at=datetime.now(UTC).replace(tzinfo=None),
                rows_loaded=sum(result.rows.values()), code_version=groupscope.__version__,
            )
        )
    engine.dispose()
    result.seconds = time.perf_counter() - t0
    return result
