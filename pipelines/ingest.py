"""Extract and row-level validation: landing files -> typed staged Parquet + quarantine, nothing lost.

For every source file: rows read = rows accepted + rows quarantined. A row is quarantined with the
first failing row-level expectation of its table's suite (expectations/suites.py, compiled to SQL),
or because the CSV reader could not parse it (broken quoting, bytes that are not valid in the
file's encoding). An unreadable file (truncated gzip, corrupt Parquet) is reported by name.

Staged layout under WORK/staged/<table>/<partition>/ (partition: reference, month=YYYY-MM or
dt=YYYY-MM-DD): one Parquet file per source file plus `_manifest.json` with content checksums, so
an unchanged file is not read again, the same file delivered twice adds nothing, and a corrected
re-delivery replaces what came from the old one.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import json
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from expectations.suites import dedupe_key, row_rules
from groupscope.console import advance
from groupscope.contract import INPUT_TABLES, Table, file_format
from transforms.sql import lit

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("row_number", pa.int64()),
        ("column", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
MANIFEST = "_manifest.json"


class MissingPartition(RuntimeError):
    pass


class SchemaError(RuntimeError):
    pass


@dataclass
class FileResult:
    table: str
    file: str  # relative to LANDING
    partition: str
    sha256: str
    status: str  # ok | unreadable | duplicate_delivery
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    staged: str = ""  # staged Parquet file name in the partition folder
    error: str = ""
    extra_columns: list[str] = field(default_factory=list)

    def balanced(self) -> bool:
        return self.status != "ok" or self.rows_read == self.accepted + self.quarantined


def artifact_name(source_name: str, sha: str) -> str:
    """Name of the staged and of the quarantine Parquet file made from one source file."""
    return f"{source_name.split('.')[0]}-{sha[:12]}.parquet"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_files(landing: Path, table: Table, key: str) -> list[Path]:
    folder = landing / table.partition_dir(key)
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file() and file_format(p.name))
    if table.partitioning == "reference":
        files = [p for p in files if p.name.split(".")[0] == table.name]
    return files


# ---- reading ------------------------------------------------------------------------------------



def _csv_to_utf8(path: Path, encoding: str, tmpdir: Path) -> tuple[Path, dict[int, str]]:
    """Transcode a non-UTF-8 CSV line by line; lines that do not decode are returned as rejects."""
    opener = gzip.open if path.name.endswith(".gz") else open
    bad: dict[int, str] = {}
    out = tmpdir / "transcoded.csv"
    decoder = codecs.getincrementaldecoder(encoding)
    with opener(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        for i, line in enumerate(src):
            try:
                text = decoder().decode(line, final=True)
            except UnicodeDecodeError:
                bad[i] = line.decode(encoding, errors="backslashreplace").rstrip("\r\n")
                # keep line numbering: a stand-in line that the CSV reader rejects, dropped later
                text = "\x00\n"
            dst.write(text)
    return out, bad


def _first_line(path: Path) -> bytes | None:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            line = fh.readline()
    except (OSError, EOFError) as e:
        raise OSError(f"cannot read: {e}") from None
    return line.rstrip(b"\r\n") if line else None


def _raw_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.split(b"\n")


def read_csv_text(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, encoding: str
) -> tuple[pa.Table, list[tuple[int, str, str, str]], list[str]]:
    """All columns as text plus __row (1-based data row), the rejected rows, and extra column names.

    Rejects are (row_number, column, reason, raw).
    """
    with tempfile.TemporaryDirectory() as td:
        src = path
        pre_bad: dict[int, str] = {}
        if codecs.lookup(encoding).name != "utf-8":
            src, pre_bad = _csv_to_utf8(path, encoding, Path(td))
        first = _first_line(src)
        if first is None:
            return pa.table({c: pa.array([], pa.string()) for c in [*table.column_names, "__row"]}), [], []
        try:
            header = next(csv.reader([first.decode("utf-8-sig")]))
        except UnicodeDecodeError:
            raise OSError("header row is not valid text in the configured encoding") from None
        missing = [c for c in table.column_names if c not in header]
        if missing:
            raise SchemaError(f"missing contract column(s): {', '.join(missing)}")
        extra = [c for c in header if c not in table.column_names]
        cols = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in header) + "}"
        rej = f"rej_{abs(hash(str(path))) % 10**9}"
        sql = (
            f"SELECT * FROM read_csv({lit(str(src))}, header=true, auto_detect=false, columns={cols}, "
            f"delim=',', quote='\"', escape='\"', strict_mode=true, store_rejects=true, "
            f"rejects_table='{rej}_t', rejects_scan='{rej}_s', null_padding=false, max_line_size=10000000)"
        )
        try:
            data = con.execute(sql).to_arrow_table()
            rejects = con.execute(
                f"SELECT line, column_name, error_type, csv_line FROM {rej}_t ORDER BY line"
            ).fetchall()
            con.execute(f"DROP TABLE IF EXISTS {rej}_t; DROP TABLE IF EXISTS {rej}_s")
        except duckdb.Error as e:
            raise OSError(_short(e)) from None
    out: dict[int, tuple[int, str, str, str]] = {}
    lines: list[bytes] | None = None
    for line, _column, etype, csv_line in rejects:
        row = int(line) - 1
        if row in pre_bad:  # the stand-in line of a row that did not decode
            continue
        if etype == "INVALID ENCODING" or csv_line is None:
            if lines is None:
                lines = _raw_lines(path)
            raw = lines[row].decode("utf-8", errors="backslashreplace").rstrip("\r")
            out[row] = (row, "", f"not valid {_label(encoding)}", raw)
        else:
            out[row] = (row, "", "unparseable line", csv_line)
    for i, raw in pre_bad.items():
        out[i] = (i, "", f"not valid {_label(encoding)}", raw)
    rejected = sorted(out)
    n_total = data.num_rows + len(rejected)
    # accepted rows keep file order: their row numbers are 1..n_total without the rejected ones
    keep = np.ones(n_total + 1, bool)
    keep[0] = False
    keep[rejected] = False
    rows = np.flatnonzero(keep)
    data = data.select(table.column_names + extra).append_column("__row", pa.array(rows, pa.int64()))
    return data, [out[r] for r in rejected], extra


def read_parquet_text(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> tuple[str, list[str]]:
    """A SQL relation over a Parquet file: contract columns as text plus __row; and extra columns."""
    try:
        names = pq.read_schema(path).names
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise OSError(f"corrupt parquet: {e}") from None
    missing = [c for c in table.column_names if c not in names]
    if missing:
        raise SchemaError(f"missing contract column(s): {', '.join(missing)}")
    extra = [c for c in names if c not in table.column_names]
    cols = []
    for c in table.columns:
        q = f'"{c.name}"'
        if c.type == "datetime":
            cols.append(f"strftime(TRY_CAST({q} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') AS {q}")
        else:
            cols.append(f"CAST({q} AS VARCHAR) AS {q}")
    rel = f"SELECT {', '.join(cols)}, file_row_number + 1 AS __row FROM read_parquet({lit(str(path))}, file_row_number=true)"  # noqa: E501
    return rel, extra


def _label(encoding: str) -> str:
    return codecs.lookup(encoding).name.upper()


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300]


# ---- validation and staging -------------------------------------------------------------------------


def _rule_index_sql(table: str) -> str:
    """SQL: the 1-based index of the first row rule a row fails, NULL when it passes them all."""
    rules = row_rules(table)
    return "CASE " + " ".join(f"WHEN {r.fails_sql} THEN {i}" for i, r in enumerate(rules, 1)) + " END"


def _raw_sql(table: Table) -> str:
    parts = []
    for c in table.column_names:
        q = f'"{c}"'
        parts.append(
            f"CASE WHEN {q} IS NULL THEN '' WHEN regexp_matches({q}, '[,\"\\n]') "
            f"THEN '\"' || replace({q}, '\"', '\"\"') || '\"' ELSE {q} END"
        )
    return " || ',' || ".join(parts)


def _typed_sql(table: Table) -> str:
    out = []
    for c in table.columns:
        q = f'"{c.name}"'
        v = f"NULLIF({q}, '')"
        if c.type == "date":  # accepted rows passed the format rule: a plain cast reads them exactly
            e = f"CAST({v} AS DATE)"
        elif c.type == "datetime":
            e = f"CAST({v} AS TIMESTAMP)"
        elif c.type == "money":
            e = f"CAST({v} AS DECIMAL(14,2))"
        elif c.type == "int":
            e = f"CAST({v} AS BIGINT)"
        else:
            e = v
        out.append(f"{e} AS {q}")
    return ", ".join(out)


def stage_file(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    path: Path,
    table: Table,
    part: str,
    out_dir: Path,
    encoding: str,
    sha: str,
    rel: str | None = None,
) -> tuple[FileResult, pa.Table]:
    rel = rel or path.relative_to(landing).as_posix()
    res = FileResult(table.name, rel, part, sha, "ok")
    fmt = file_format(path.name)
    rejects: list[tuple[int, str, str, str]] = []
    try:
        if fmt == "parquet":
            rel_sql, extra = read_parquet_text(con, path, table)
            con.execute(f"CREATE OR REPLACE TEMP VIEW __raw AS {rel_sql}")
        else:
            data, rejects, extra = read_csv_text(con, path, table, encoding)
            con.register("__raw_arrow", data)
            con.execute("CREATE OR REPLACE TEMP TABLE __raw AS SELECT * FROM __raw_arrow")
            con.unregister("__raw_arrow")
    except OSError as e:
        res.status, res.error = "unreadable", str(e)
        return res, _quarantine_rows([])
    except duckdb.Error as e:
        res.status, res.error = "unreadable", _short(e)
        return res, _quarantine_rows([])
    res.extra_columns = extra
    con.execute(f"CREATE OR REPLACE TEMP TABLE __checked AS SELECT *, {_rule_index_sql(table.name)} AS __rule FROM __raw")
    con.execute("DROP VIEW __raw" if fmt == "parquet" else "DROP TABLE __raw")
    staged_name = artifact_name(path.name, sha)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{staged_name}.tmp"
    # insertion order is kept: staged rows stay in file order without a sort
    con.execute(
        f"COPY (SELECT {_typed_sql(table)}, {lit(rel)} AS __file, __row FROM __checked "
        f"WHERE __rule IS NULL) TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION snappy)"
    ).fetchall()
    os.replace(tmp, out_dir / staged_name)
    rules = row_rules(table.name)
    failed = con.execute(
        f"SELECT __row, __rule, {_raw_sql(table)} FROM __checked WHERE __rule IS NOT NULL ORDER BY __row"
    ).fetchall()
    q = [(r, rules[k - 1].column, rules[k - 1].reason, raw) for r, k, raw in failed]
    accepted = con.execute("SELECT count(*) FROM __checked WHERE __rule IS NULL").fetchone()[0]
    qrows = [(table.name, rel, r, c, why, raw) for (r, c, why, raw) in rejects]
    qrows += [(table.name, rel, int(r), c, why, raw) for (r, c, why, raw) in q]
    res.accepted = int(accepted)
    res.quarantined = len(qrows)
    res.rows_read = res.accepted + res.quarantined
    res.staged = staged_name
    return res, _quarantine_rows(qrows)


def _quarantine_rows(rows: list[tuple]) -> pa.Table:
    cols = list(zip(*rows)) if rows else [[] for _ in QUARANTINE_SCHEMA.names]
    return pa.table([pa.array(list(c), t) for c, t in zip(cols, QUARANTINE_SCHEMA.types)], schema=QUARANTINE_SCHEMA)


@dataclass
class PartitionResult:
    table: str
    partition: str
    files: list[FileResult]

    @property
    def staged_paths(self) -> list[str]:
        return [f.staged for f in self.files if f.status == "ok"]


def _load_manifest(folder: Path) -> dict:
    p = folder / MANIFEST
    return json.loads(p.read_text()) if p.exists() else {"files": {}}


def ingest_partition(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    work: Path,
    table: Table,
    part: str,
    encoding: str,
    sql_source=None,
) -> PartitionResult:
    """Stage one partition of one table; reuse staged files whose source checksum is unchanged.

    With `sql_source` (config SqlSource) the partition is extracted from that SQL table instead.
    """
    staged_dir = work / "staged" / table.name / part
    quar_dir = work / "quarantine" / table.name / part
    manifest = _load_manifest(staged_dir)
    old = manifest["files"]
    new: dict[str, dict] = {}
    seen_sha: dict[str, str] = {}
    results: list[FileResult] = []
    sources = source_files(landing, table, part)
    if sql_source is not None:
        from pipelines.extract import extract_sql_table

        dest = work / "extract" / table.name / part / f"{table.name}.csv"
        sources = [extract_sql_table(sql_source, table, part.split("=", 1)[1], dest)]
    for path in sources:
        rel = sql_source.table if sql_source is not None else path.relative_to(landing).as_posix()
        sha = sha256_of(path)
        if sha in seen_sha:
            res = FileResult(table.name, rel, part, sha, "duplicate_delivery", error=f"same content as {seen_sha[sha]}")
            res.rows_read = 0
            results.append(res)
            new[rel] = asdict(res)
            continue
        seen_sha[sha] = rel
        prev = old.get(rel)
        reusable = prev and prev["sha256"] == sha and prev["status"] != "duplicate_delivery"
        if reusable and (not prev["staged"] or (staged_dir / prev["staged"]).exists()):
            res = FileResult(**prev)
        else:
            res, qt = stage_file(con, landing, path, table, part, staged_dir, encoding, sha, rel)
            quar_dir.mkdir(parents=True, exist_ok=True)
            pq.write_table(qt, quar_dir / artifact_name(path.name, sha))
        results.append(res)
        new[rel] = asdict(res)
    # files no longer delivered (or re-delivered with new content): drop what came from them
    keep_staged = {r["staged"] for r in new.values() if r["staged"]}
    if staged_dir.exists():
        for f in staged_dir.glob("*.parquet"):
            if f.name not in keep_staged:
                f.unlink()
    keep_q = {artifact_name(Path(r["file"]).name, r["sha256"]) for r in new.values()}
    if quar_dir.exists():
        for f in quar_dir.glob("*.parquet"):
            if f.name not in keep_q:
                f.unlink()
    staged_dir.mkdir(parents=True, exist_ok=True)
    tmp = staged_dir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"files": new}, indent=1, ensure_ascii=False))
    os.replace(tmp, staged_dir / MANIFEST)
    return PartitionResult(table.name, part, results)


def dedupe_period(con: duckdb.DuckDBPyConnection, work: Path, table: Table, parts: list[PartitionResult]) -> int:
    """Quarantine rows whose key repeats an earlier row (file order, then row order) in the period."""
    dk = dedupe_key(table.name)
    files = [work / "staged" / table.name / p.partition / f for p in parts for f in p.staged_paths]
    files = [f for f in files if f.exists()]
    if not dk or not files:
        return 0
    key, reason = dk
    keys = ", ".join(f'"{k}"' for k in key)
    lst = "[" + ", ".join(lit(str(f)) for f in files) + "]"
    # keys seen more than once (a hash aggregate), then ranks only among the rows with those keys
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __dupkeys AS SELECT {keys} FROM read_parquet({lst}) "
        f"GROUP BY {keys} HAVING count(*) > 1"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __dups AS SELECT * FROM (SELECT *, filename AS __staged, "
        f"row_number() OVER (PARTITION BY {keys} ORDER BY __file, __row) AS __n "
        f"FROM read_parquet({lst}, filename=true) SEMI JOIN __dupkeys USING ({keys})) WHERE __n > 1"
    )
    n = con.execute("SELECT count(*) FROM __dups").fetchone()[0]
    if not n:
        return 0
    raw_cols = " || ',' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in table.column_names)
    by_staged = con.execute("SELECT DISTINCT __staged FROM __dups").fetchall()
    for (staged,) in by_staged:
        sp = Path(staged)
        part = sp.parent.name
        manifest = _load_manifest(sp.parent)
        entry = next(v for v in manifest["files"].values() if v["staged"] == sp.name)
        q = con.execute(
            f"SELECT {lit(table.name)}, __file, __row, {lit(key[0])}, {lit(reason)}, {raw_cols} "
            f"FROM __dups WHERE __staged = {lit(staged)} ORDER BY __row"
        ).fetchall()
        qdir = work / "quarantine" / table.name / part
        qfile = qdir / sp.name  # same name as the staged file
        existing = pq.read_table(qfile) if qfile.exists() else _quarantine_rows([])
        pq.write_table(pa.concat_tables([existing, _quarantine_rows([tuple(r) for r in q])]).sort_by("row_number"), qfile)
        tmp = sp.parent / f".{sp.name}.tmp"
        con.execute(
            f"COPY (SELECT * FROM read_parquet({lit(staged)}) WHERE (__file, __row) NOT IN "
            f"(SELECT (__file, __row) FROM __dups WHERE __staged = {lit(staged)}) ORDER BY __row) "
            f"TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
        )
        os.replace(tmp, sp)
        entry["accepted"] -= len(q)
        entry["quarantined"] += len(q)
        (sp.parent / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        for p in parts:
            for f in p.files:
                if f.staged == sp.name and f.partition == part:
                    f.accepted, f.quarantined = entry["accepted"], entry["quarantined"]
    return int(n)


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    work: Path,
    table_name: str,
    period: str,
    encoding: str,
    sql_source=None,
) -> list[PartitionResult]:
    table = INPUT_TABLES[table_name]
    if sql_source is not None and table.partitioning != "month":
        raise ValueError(f"{table_name}: only monthly tables can come from a SQL source")
    keys = table.partition_keys(period)
    workers = min(len(keys), os.cpu_count() or 1)
    if workers <= 1:
        parts = []
        for k in keys:
            parts.append(ingest_partition(con, landing, work, table, k, encoding, sql_source))
            advance()  # the caller's progress bar, if any
    else:
        # one small file is one Parquet row group, which DuckDB scans on one thread: partitions are
        # staged side by side instead, each worker on its own cursor (own temp tables)
        local = threading.local()

        def one(key: str) -> PartitionResult:
            if not hasattr(local, "cur"):
                local.cur = con.cursor()
            part = ingest_partition(local.cur, landing, work, table, key, encoding, sql_source)
            advance()
            return part

        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(one, keys))
    dedupe_period(con, work, table, parts)
    return parts
