"""Extract and row-level validation: landing files -> typed staged Parquet + quarantine, nothing lost.

This is the one reader every source goes through (a SQL source is first written to a CSV file by
pipelines/extract.py). For every source file, rows are counted from the file itself (records after
the header of a CSV, the footer of a Parquet file), and rows counted = rows accepted + rows
quarantined. A row is quarantined with the first failing row-level expectation of its table's suite
(expectations/suites.py, compiled to SQL), then the first failing plausibility rule
(expectations/plausibility.py), or because the CSV reader could not parse it (broken quoting, bytes
that are not valid in the file's encoding). Then, over all the period's staged rows of the table, a row
repeating an earlier row's key is quarantined as a duplicate (dedupe_period), and every row of a
conflict, e.g. two active subscribers with one msisdn, is quarantined (quarantine_conflicts).

A file that cannot be read at all (permission, truncated gzip, corrupt Parquet pages, a link resolving
outside the landing folder, 0 bytes) is a file result with a status and a one-line error, never an
exception. Whatever lies in the landing folder outside the layout of the contract (other file endings,
sub-folders, malformed partition names) is reported as `unexpected` with its row count where it can
be counted. Files are read by their exact path: a name with glob characters is never a pattern.

Staged layout under WORK/staged/<table>/<partition>/ (partition: reference, month=YYYY-MM or
dt=YYYY-MM-DD): one Parquet file per source file plus `_manifest.json` with content checksums, so
an unchanged file is not read again, the same file delivered twice adds nothing, and a corrected
re-delivery or a withdrawn one replaces what came from the old set of files.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import tempfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from expectations.plausibility import plausibility_rules
from expectations.suites import STRING_TYPES, RowRule, conflict_rules, dedupe_key, row_rules
from groupscope.config import PlausibilityConfig
from groupscope.console import advance
from groupscope.contract import INPUT_TABLES, Table, file_format
from groupscope.errors import first_line
from pipelines.guard import is_disk_full
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
RAW_MAX_CHARS = 10_000  # longest raw row kept whole in the quarantine
GLOB_CHARACTERS = frozenset("*?[]{}")
# errors a damaged or unreadable file raises while it is read (disk-full errors are told apart first)
READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeError, duckdb.Error, pa.ArrowException, csv.Error)


class MissingPartition(RuntimeError):
    pass


class SchemaError(RuntimeError):
    pass


@dataclass(frozen=True)
class IngestOptions:
    """How files are read: text encoding, plausibility bounds, where symbolic links may lead."""

    encoding: str = "utf-8"
    timezone: str = "Asia/Shanghai"  # local time of the contract: time-zone-aware Parquet values are read in it
    plausibility: PlausibilityConfig = field(default_factory=PlausibilityConfig)
    allow_links_outside_landing: bool = False
    link_roots: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg, table: str) -> IngestOptions:
        return cls(
            encoding=cfg.sources.encoding_of(table),
            timezone=cfg.calendar.timezone,
            plausibility=cfg.validation.plausibility,
            allow_links_outside_landing=cfg.sources.allow_links_outside_landing,
            link_roots=tuple(cfg.sources.link_roots),
        )


@dataclass
class FileResult:
    table: str
    file: str  # relative to LANDING
    partition: str
    sha256: str
    status: str  # ok | unreadable | refused | empty | unexpected | duplicate_delivery
    rows_read: int = 0  # data rows counted in the file itself
    accepted: int = 0
    quarantined: int = 0
    staged: str = ""  # staged Parquet file name in the partition folder
    error: str = ""
    extra_columns: list[str] = field(default_factory=list)
    deduplicated: int = 0  # of the quarantined rows, those taken out by a rule over the period (a repeated key, a conflict)
    rules: str = ""  # fingerprint of the row rules the file was validated with

    def balanced(self) -> bool:
        return self.status != "ok" or self.rows_read == self.accepted + self.quarantined

    @classmethod
    def from_manifest(cls, d: dict) -> FileResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def artifact_name(source_name: str, sha: str) -> str:
    """Name of the staged and of the quarantine Parquet file made from one source file: only letters,
    digits, '-', '_' (never a glob character when the staged files are read back)."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", source_name.split(".")[0])[:80] or "file"
    return f"{stem}-{sha[:12]}.parquet"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# the layout of a staged file (2: __row always BIGINT; a CSV with rejected lines had written a DOUBLE)
STAGED_FORMAT = 2


def rules_fingerprint(rules: list[RowRule], opts: IngestOptions | None = None) -> str:
    """What a staged file depends on besides its bytes: the row rules, the encoding and time zone it was
    read with, the staged layout (STAGED_FORMAT). A change re-reads the file."""
    text = f"format {STAGED_FORMAT}\n" + "\n".join(f"{r.column}|{r.reason}|{r.fails_sql}|{r.typed_sql}" for r in rules)
    if opts is not None:
        text += f"\n{codecs.lookup(opts.encoding).name}|{opts.timezone}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---- what lies in the landing folder ---------------------------------------------------------------


def _format_of(name: str) -> str | None:
    """Contract format of a file name, whatever the case of its ending (MSC03.CSV is a CSV file)."""
    return file_format(name.lower())


def source_files(landing: Path, table: Table, key: str) -> list[Path]:
    """The files of a partition that are read, by exact path (links included, checked when read)."""
    return scan_partition(landing, table, key)[0]


def _marker(p: Path) -> bool:
    """An empty marker file such as `_SUCCESS` or `.keep`: it holds no rows and is not reported."""
    return p.name[:1] in ("_", ".") and p.is_file() and not p.is_symlink() and p.stat().st_size == 0


def scan_partition(landing: Path, table: Table, key: str) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The partition's data files, and what else is in its folder (with why it is unexpected)."""
    folder = landing / table.partition_dir(key)
    if not folder.is_dir():
        return [], []
    files: list[Path] = []
    other: list[tuple[Path, str]] = []
    for p in sorted(folder.iterdir()):
        if table.partitioning == "reference" and p.name.split(".")[0] != table.name:
            continue  # another reference table's file; strays are reported by landing_unexpected
        if _marker(p):
            continue
        if p.is_dir() and not p.is_symlink():
            other.append((p, "sub-folder of a partition"))
        elif _format_of(p.name) and (p.is_file() or p.is_symlink()):
            files.append(p)
        else:
            other.append((p, "not a .csv, .csv.gz or .parquet file"))
    return files, other


CHUNK_BYTES = 8 << 20  # files are read in chunks of this size (counting records, transcoding)


def _records(data: bytes) -> int:
    """CSV records in `data` (header included): line breaks outside double quotes end a record, blank
    lines are none (as DuckDB's reader skips them). Quotes toggle the state; an escaped quote ("")
    toggles it twice."""
    return _count_records([data])


def _count_records(chunks) -> int:
    """_records over a file given as a stream of byte chunks (the whole file is never held), vectorised:
    a byte is inside quotes when an odd number of quotes precede it; a line break outside quotes that is
    followed by another one (\n or \r\n) ends a blank line. The last two bytes of a chunk wait for the next
    chunk (they need two bytes of look-ahead). A line break put before the first byte (and not counted)
    makes a blank first line one like any other."""
    breaks, blank = -1, 0
    inside = 0  # quotes before `carry`, mod 2
    carry = b"\n"  # bytes not scanned yet
    first = True
    last = b""
    for data in chunks:
        if not data:
            continue
        first = False
        last = data[-1:]
        buf = carry + data
        n = len(buf) - 2
        if n <= 0:
            carry = buf
            continue
        b, k, inside = _scan_breaks(buf, n, inside)
        breaks, blank = breaks + b, blank + k
        carry = buf[n:]
    if first:
        return 0
    if carry:
        b, k, _ = _scan_breaks(carry + b"\0\0", len(carry), inside)
        breaks, blank = breaks + b, blank + k
    return breaks + (0 if last == b"\n" else 1) - blank


def _scan_breaks(buf: bytes, n: int, inside: int) -> tuple[int, int, int]:
    """(line breaks outside quotes, of them those followed by \n or \r\n, quote parity after) over the first
    `n` bytes of `buf` (which holds at least 2 more), `inside` the quote parity before them."""
    a = np.frombuffer(buf, dtype=np.uint8)
    head = a[:n]
    quotes = np.flatnonzero(head == 34)
    nl = np.flatnonzero(head == 10)
    # a line break is outside quotes when an even number of quotes (and `inside`) precede it
    nl = nl[((np.searchsorted(quotes, nl) + inside) & 1) == 0]
    nxt, nxt2 = a[nl + 1], a[nl + 2]
    blank = int(np.count_nonzero((nxt == 10) | ((nxt == 13) & (nxt2 == 10))))
    return len(nl), blank, (inside + len(quotes)) & 1


def _chunks(path: Path):
    """The decompressed bytes of a file in chunks of CHUNK_BYTES."""
    name = path.name.lower()
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk


def count_data_rows(path: Path) -> int | None:
    """Data rows of a file counted from its bytes (CSV-like text: records after the header,
    Parquet: its footer); None when the file is not a kind that can be counted or cannot be read."""
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            return pq.read_metadata(path).num_rows
        if re.search(r"\.(csv|txt|tsv)(\.gz|\.bz2)?$", name):
            return max(_count_records(_chunks(path)) - 1, 0)
    except Exception as e:  # noqa: BLE001 - any reader error means: not countable
        if is_disk_full(e):
            raise
        return None
    return None


def _unexpected(landing: Path, table: str, partition: str, path: Path, why: str) -> FileResult:
    rel = path.relative_to(landing).as_posix()
    if path.is_dir() and not path.is_symlink():
        files = sorted(f for f in path.rglob("*") if f.is_file() and not f.is_symlink())  # links: not followed
        counts = [count_data_rows(f) for f in files]
        rows = sum(c for c in counts if c is not None)
        unknown = sum(c is None for c in counts)
        detail = f"{why}: {len(files)} file(s), {rows} data row(s)" + (f", {unknown} file(s) not countable" if unknown else "")
    else:
        c = count_data_rows(path) if path.exists() and not path.is_symlink() else None
        rows = c or 0
        detail = f"{why}: " + (f"{c} data row(s)" if c is not None else "rows not countable")
    return FileResult(table, rel, partition, "", "unexpected", rows_read=rows, error=detail)


DAY_KEY = re.compile(r"^dt=\d{4}-\d{2}-\d{2}$")
MONTH_KEY = re.compile(r"^month=\d{4}-(0[1-9]|1[0-2])$")
LOOSE_PERIOD = re.compile(r"^(?:dt|month)=(\d{4})-(\d{1,2})(?:\D|$)")


def _valid_key(table: Table, name: str) -> bool:
    if table.partitioning == "day":
        if not DAY_KEY.match(name):
            return False
        try:
            dt.date.fromisoformat(name[3:])
        except ValueError:
            return False
        return True
    return bool(MONTH_KEY.match(name))


def table_unexpected(landing: Path, table: Table, period: str) -> list[FileResult]:
    """Entries of a table's folder outside its partition layout that may belong to `period`: malformed
    partition names (dt=2026-10-5, dt=2026-10-32) of the period, and anything that names no period."""
    if table.partitioning == "reference":
        return []
    folder = landing / table.name
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        if (p.is_dir() and _valid_key(table, p.name)) or _marker(p):
            continue
        m = LOOSE_PERIOD.match(p.name)
        if m and f"{m.group(1)}-{int(m.group(2)):02d}" != period:
            continue  # another period's (malformed) partition: reported by that period's run
        why = "malformed partition folder" if p.is_dir() else "file outside any partition"
        out.append(_unexpected(landing, table.name, p.name, p, why))
    return out


def landing_unexpected(landing: Path) -> list[FileResult]:
    """Top-level entries that are no contract table, and reference files of no reference table."""
    names = set(INPUT_TABLES) | {"reference"}
    ref = {t.name for t in INPUT_TABLES.values() if t.partitioning == "reference"}
    out = []
    for p in sorted(landing.iterdir()):
        if p.name not in names and not _marker(p):
            out.append(_unexpected(landing, "landing", "", p, "not a contract table folder"))
    if (landing / "reference").is_dir():
        for p in sorted((landing / "reference").iterdir()):
            if p.name.split(".")[0] not in ref and not _marker(p):
                out.append(_unexpected(landing, "landing", "reference", p, "not a reference table file"))
    return out


def refusal(path: Path, landing: Path, opts: IngestOptions) -> str:
    """Why a file must not be read (its real path lies outside the landing folder), else ''."""
    if opts.allow_links_outside_landing:
        return ""
    real = path.resolve()
    roots = [landing.resolve(), *(Path(r).resolve() for r in opts.link_roots)]
    if any(real == r or real.is_relative_to(r) for r in roots):
        return ""
    return f"resolves outside the landing folder (to {real}); allow it with sources.link_roots"


# ---- reading ------------------------------------------------------------------------------------


def exact_path(path: Path, tmpdir: Path) -> str:
    """A path that DuckDB reads as exactly this one file: a name with glob characters is read
    through a plain-named link in `tmpdir`."""
    text = str(path)
    if not (GLOB_CHARACTERS & set(text)):
        return text
    fmt = _format_of(path.name) or "data"
    link = tmpdir / f"source.{fmt}"
    link.unlink(missing_ok=True)
    link.symlink_to(path.resolve())
    return str(link)


def _opener(path: Path):
    return gzip.open if path.name.lower().endswith(".gz") else open


def _csv_to_utf8(path: Path, encoding: str, tmpdir: Path) -> tuple[Path, dict[int, str]]:
    """Transcode a non-UTF-8 CSV to UTF-8 in chunks of whole lines (one decode call per chunk); in a chunk
    that does not decode, line by line: lines that do not decode are returned as rejects (0-based line
    number -> the line with its bad bytes escaped) and replaced by a stand-in line that the CSV reader
    rejects, so line numbers stay."""
    bad: dict[int, str] = {}
    out = tmpdir / "transcoded.csv"
    line_no = 0
    rest = b""
    with open(out, "w", encoding="utf-8", newline="") as dst:
        for chunk in _chunks(path):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            rest = data[cut:]
            line_no = _transcode(data[:cut], encoding, line_no, dst, bad)
        if rest:
            _transcode(rest, encoding, line_no, dst, bad)
    return out, bad


def _transcode(block: bytes, encoding: str, line_no: int, dst, bad: dict[int, str]) -> int:
    """Write `block` (whole lines) decoded; returns the line number after it."""
    try:
        dst.write(block.decode(encoding))
        return line_no + block.count(b"\n")
    except UnicodeDecodeError:
        pass
    lines = block.split(b"\n")
    for i, line in enumerate(lines):
        if i == len(lines) - 1:
            if not line:
                break
        else:
            line += b"\n"
        try:
            dst.write(line.decode(encoding))
        except UnicodeDecodeError:
            bad[line_no] = line.decode(encoding, errors="backslashreplace").rstrip("\r\n")
            dst.write("\x00\n")
        line_no += 1
    return line_no


def _first_line(path: Path) -> bytes | None:
    with _opener(path)(path, "rb") as fh:
        line = fh.readline()
    return line.rstrip(b"\r\n") if line else None


def _raw_lines(path: Path, wanted: set[int]) -> dict[int, bytes]:
    """The lines of a file (0-based numbers) in `wanted`, read in chunks."""
    out: dict[int, bytes] = {}
    line_no, rest = 0, b""
    for chunk in _chunks(path):
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for part in parts:
            if line_no in wanted:
                out[line_no] = part
            line_no += 1
    if line_no in wanted:
        out[line_no] = rest
    return out


def read_csv_text(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, encoding: str, tmpdir: Path | None = None
) -> tuple[list[tuple[int, str, str, str]], list[str]]:
    """Read a CSV file with DuckDB's reader into TEMP VIEW __raw: all columns as text plus __row (1-based
    data row); returns the rejected rows and the extra column names. Rows stay inside DuckDB (within its
    memory limit, spilling); only the rejected rows come to Python.

    Rejects are (row_number, column, reason, raw). Raises OSError (one line) when the file cannot be read.
    """
    if tmpdir is None:
        with tempfile.TemporaryDirectory(prefix="groupscope-") as td:
            return read_csv_text(con, path, table, encoding, Path(td))
    src = path
    pre_bad: dict[int, str] = {}
    gz = path.name.lower().endswith(".gz")
    try:
        if codecs.lookup(encoding).name != "utf-8":
            src, pre_bad = _csv_to_utf8(path, encoding, tmpdir)
            gz = False
        first = _first_line(src)
    except (OSError, EOFError, zlib.error) as e:
        if is_disk_full(e):
            raise
        raise OSError(f"cannot read{' (truncated or corrupt gzip)' if gz or path.name.lower().endswith('.gz') else ''}: {e}") from None
    names = None
    if first is not None:
        try:
            header = next(csv.reader([first.decode("utf-8-sig")]))
        except UnicodeDecodeError:
            raise OSError("header row is not valid text in the configured encoding") from None
        missing = [c for c in table.column_names if c not in header]
        if missing:
            raise SchemaError(f"missing contract column(s): {', '.join(missing)}")
        names = header
    if names is None:
        cols = ", ".join(f"CAST(NULL AS VARCHAR) AS \"{c}\"" for c in table.column_names)
        con.execute(f"CREATE OR REPLACE TEMP VIEW __raw AS SELECT {cols}, CAST(NULL AS BIGINT) AS __row WHERE false")
        return [], []
    extra = [c for c in names if c not in table.column_names]
    cols = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in names) + "}"
    sql = (
        f"SELECT * FROM read_csv({lit(exact_path(src, tmpdir))}, header=true, auto_detect=false, columns={cols}, "
        f"delim=',', quote='\"', escape='\"', strict_mode=true, store_rejects=true, "
        f"compression='{'gzip' if gz else 'none'}', "
        f"rejects_table='__rejects_t', rejects_scan='__rejects_s', null_padding=false, max_line_size=10000000)"
    )
    try:
        # insertion order is kept: rowid is the accepted row's ordinal in the file
        con.execute(f"CREATE OR REPLACE TEMP TABLE __csv AS {sql}")
        rejects = con.execute("SELECT line, column_name, error_type, csv_line FROM __rejects_t ORDER BY line").fetchall()
        con.execute("DROP TABLE IF EXISTS __rejects_t; DROP TABLE IF EXISTS __rejects_s")
    except duckdb.Error as e:
        if is_disk_full(e):
            raise
        raise OSError(_short(e)) from None
    out: dict[int, tuple[int, str, str, str]] = {}
    need_raw: list[int] = []
    for line, _column, etype, csv_line in rejects:
        row = int(line) - 1
        if row in pre_bad:  # the stand-in line of a row that did not decode
            continue
        if etype == "INVALID ENCODING" or csv_line is None:
            need_raw.append(row)
        else:
            # in a CRLF file DuckDB's line can begin with the LF of the line before; a line holds no line break at its ends
            out[row] = (row, "", "unparseable line", csv_line.strip("\r\n"))
    if need_raw:
        lines = _raw_lines(path, set(need_raw))
        for row in need_raw:
            raw = lines.get(row, b"").decode("utf-8", errors="backslashreplace").rstrip("\r")
            out[row] = (row, "", f"not valid {_label(encoding)}", raw)
    for i, raw in pre_bad.items():
        out[i] = (i, "", f"not valid {_label(encoding)}", raw)
    rejected = sorted(out)
    select = ", ".join(f'd."{c}"' for c in table.column_names + extra)
    if not rejected:
        con.execute(f"CREATE OR REPLACE TEMP VIEW __raw AS SELECT {select}, d.rowid + 1 AS __row FROM __csv AS d")
    else:
        # accepted rows keep file order: the k-th accepted row's number is the k-th of 1..n not rejected,
        # k plus the rejected rows r_i with r_i - i < k (i: rank of r_i among the rejected)
        con.execute("CREATE OR REPLACE TEMP TABLE __rej (r BIGINT)")
        con.executemany("INSERT INTO __rej VALUES (?)", [[r] for r in rejected])
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __gaps AS SELECT g, sum(count(*)) OVER (ORDER BY g) AS before "
            "FROM (SELECT r - row_number() OVER (ORDER BY r) AS g FROM __rej) GROUP BY g"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW __raw AS SELECT {select}, d.rowid + 1 + coalesce(k.before, 0) AS __row "
            "FROM __csv AS d ASOF LEFT JOIN __gaps AS k ON d.rowid + 1 > k.g"
        )
    return [out[r] for r in rejected], extra


def _parquet_text(c, arrow_type: pa.DataType, q: str | None = None) -> tuple[str, str]:
    """SQL for one Parquet column (`q`, by default its name) as contract text, and a note on a physical type
    the contract does not expect (the reason of a failing row then says what was stored)."""
    q = q or f'"{c.name}"'
    temporal = pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type)
    if c.type == "datetime" and temporal:
        return f"strftime(CAST({q} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')", ""
    if c.type == "date" and temporal:
        return f"strftime(CAST({q} AS DATE), '%Y-%m-%d')", ""
    note = ""
    if c.type in ("date", "datetime") and not _is_text(arrow_type):
        note = f"stored as {arrow_type} in Parquet"
    return f"CAST({q} AS VARCHAR)", note


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", bool)(t)


def _parquet_typed(c, t: pa.DataType) -> str | None:
    """SQL for one Parquet column in its staged type (SQL_TYPES) when its physical type already is the
    contract's: text as a string, an integer as an integer, a datetime as a timestamp, a date as a date, money
    as a decimal of at most 2 places. None otherwise (the file is then read as text)."""
    q = f'"{c.name}"'
    if c.type in STRING_TYPES:
        return q if _is_text(t) else None
    if c.type == "int":
        return f"CAST({q} AS BIGINT)" if pa.types.is_integer(t) and t != pa.uint64() else None
    if c.type == "datetime" and pa.types.is_timestamp(t):
        # the value the text path stages: whole seconds (its strftime drops a fraction), in the session's
        # time zone (the contract's) when stored with one
        ts = f"CAST({q} AS TIMESTAMP)"
        return ts if t.unit == "s" and t.tz is None else f"date_trunc('second', {ts})"
    if c.type == "date" and pa.types.is_date(t):
        return f"CAST({q} AS DATE)"
    if c.type == "money" and pa.types.is_decimal(t) and 0 <= t.scale <= 2:
        return q  # staged with CAST AS DECIMAL(14,2) once the range rule passed
    return None


def read_parquet_source(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, tmpdir: Path, rules: list[RowRule] | None = None
) -> tuple[list[str], dict[str, str], dict[str, str] | None]:
    """A Parquet file as TEMP VIEW __raw: the contract columns plus __row (1-based); returns the extra columns,
    notes on unexpected physical types, and, when the columns are typed, the SQL of each column's text (the
    quarantine's raw row). Raises OSError (one line) on a damaged footer.

    When every contract column's physical type already is the contract's and every one of `rules` has a typed
    form, the columns are in their staged types, the rules are their typed forms, and a value goes through
    text only in the raw row of a quarantined row. Otherwise every column is text (CAST AS VARCHAR, strftime
    for dates and times), as a CSV file's are, and the text is returned as None."""
    try:
        schema = pq.read_schema(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        if is_disk_full(e):
            raise
        raise OSError(f"corrupt parquet: {_short(e)}") from None
    names = schema.names
    missing = [c for c in table.column_names if c not in names]
    if missing:
        raise SchemaError(f"missing contract column(s): {', '.join(missing)}")
    extra = [c for c in names if c not in table.column_names]
    typed = {c.name: _parquet_typed(c, schema.field(c.name).type) for c in table.columns}
    src = lit(exact_path(path, tmpdir))
    if rules is not None and all(typed.values()) and all(r.typed_sql is not None for r in rules):
        # the physical columns stay beside the typed ones (__src_k): the raw row of a failing one is their text
        cols = [f'{typed[c.name]} AS "{c.name}", "{c.name}" AS __src_{k}' for k, c in enumerate(table.columns)]
        text_of = {c.name: _parquet_text(c, schema.field(c.name).type, f"__src_{k}")[0] for k, c in enumerate(table.columns)}
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW __raw AS SELECT {', '.join(cols)}, file_row_number + 1 AS __row "
            f"FROM read_parquet({src}, file_row_number=true)"
        )
        return extra, {}, text_of
    cols, notes = [], {}
    for c in table.columns:
        expr, note = _parquet_text(c, schema.field(c.name).type)
        cols.append(f'{expr} AS "{c.name}"')
        if note:
            notes[c.name] = note
    # a view: its pages are decoded when the rules are applied, inside the file's error handling
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW __raw AS SELECT {', '.join(cols)}, file_row_number + 1 AS __row "
        f"FROM read_parquet({src}, file_row_number=true)"
    )
    return extra, notes, None


def _label(encoding: str) -> str:
    return codecs.lookup(encoding).name.upper()


def _short(e: Exception) -> str:
    return first_line(e)[:300]


# ---- validation and staging -------------------------------------------------------------------------


def rules_for(table: Table, partition: str, opts: IngestOptions) -> list[RowRule]:
    """Row rules of a partition, in order: the suite's, then the plausibility rules."""
    return row_rules(table.name) + plausibility_rules(table.name, opts.plausibility, partition)


def _rule_index_sql(rules: list[RowRule], typed: bool = False) -> str:
    """SQL: the 1-based index of the first row rule a row fails, NULL when it passes them all (over text
    columns, or with `typed` over columns in their staged types)."""
    return "CASE " + " ".join(f"WHEN {r.typed_sql if typed else r.fails_sql} THEN {i}" for i, r in enumerate(rules, 1)) + " END"


def _raw_sql(table: Table, text_of: dict[str, str] | None = None) -> str:
    """SQL: the row as a CSV line of its text columns (`text_of`: SQL of each column's text, by default the
    column itself)."""
    parts = []
    for c in table.column_names:
        q = (text_of or {}).get(c, f'"{c}"')
        parts.append(
            f"CASE WHEN {q} IS NULL THEN '' WHEN regexp_matches({q}, '[,\"\\n]') "
            f"THEN '\"' || replace({q}, '\"', '\"\"') || '\"' ELSE {q} END"
        )
    return " || ',' || ".join(parts)


def _typed_sql(table: Table, typed: bool = False) -> str:
    """SQL: the staged columns from text columns, or with `typed` from columns already in their staged types
    (read_parquet_source), which give the same values."""
    out = []
    for c in table.columns:
        q = f'"{c.name}"'
        v = f"NULLIF({q}, '')"
        if typed:
            e = f"CAST({q} AS {c.sql_type})" if c.type == "money" else v if c.type in STRING_TYPES else q
        elif c.type == "date":  # accepted rows passed the format rule: a plain cast reads them exactly
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


def _tmp_name(name: str) -> str:
    """A temporary file name of this process and thread (never shared with a concurrent writer)."""
    return f".{name}.{os.getpid()}-{threading.get_ident()}.tmp"


def stage_file(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    path: Path,
    table: Table,
    part: str,
    out_dir: Path,
    encoding: str | IngestOptions,
    sha: str,
    rel: str | None = None,
) -> tuple[FileResult, pa.Table]:
    """Validate and stage one source file on a cursor of its own (no result is ever left open on `con`)."""
    opts = encoding if isinstance(encoding, IngestOptions) else IngestOptions(encoding=encoding)
    rel = rel or path.relative_to(landing).as_posix()
    rules = rules_for(table, part, opts)
    res = FileResult(table.name, rel, part, sha, "ok", rules=rules_fingerprint(rules, opts))
    try:
        size = path.stat().st_size
    except OSError as e:
        if is_disk_full(e):
            raise
        res.status, res.error = "unreadable", f"cannot read: {e.strerror or e}"
        return res, _quarantine_rows([])
    if size == 0:
        res.status, res.error = "empty", "0-byte file (no header, no rows)"
        return res, _quarantine_rows([])
    cur = con.cursor()
    try:
        # a Parquet timestamp with a time zone becomes the contract's local time when cast to TIMESTAMP
        cur.execute(f"SET SESSION TimeZone = {lit(opts.timezone)}")
        with tempfile.TemporaryDirectory(prefix="groupscope-") as td:
            return _stage_on(cur, path, table, out_dir, opts, sha, rel, rules, res, Path(td))
    finally:
        cur.close()


def _stage_on(cur, path, table, out_dir, opts, sha, rel, rules, res, tmpdir) -> tuple[FileResult, pa.Table]:
    fmt = _format_of(path.name)
    rejects: list[tuple[int, str, str, str]] = []
    notes: dict[str, str] = {}
    text_of: dict[str, str] | None = None  # set when __raw holds typed columns: their text, for the raw row
    staged_name = artifact_name(path.name, sha)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / _tmp_name(staged_name)
    try:
        if fmt == "parquet":
            extra, notes, text_of = read_parquet_source(cur, path, table, tmpdir, rules)
            counted = rows = pq.read_metadata(path).num_rows
        else:
            try:
                counted = max(_count_records(_chunks(path)) - 1, 0)
            except (OSError, EOFError, zlib.error) as e:
                if is_disk_full(e):
                    raise
                gz = " (truncated or corrupt gzip)" if path.name.lower().endswith(".gz") else ""
                raise OSError(f"cannot read{gz}: {_short(e)}") from None
            rejects, extra = read_csv_text(cur, path, table, opts.encoding, tmpdir)
            rows = cur.execute("SELECT count(*) FROM __raw").fetchall()[0][0]
        typed = text_of is not None
        rule = _rule_index_sql(rules, typed)
        # one pass over the file: every value is read here (corrupt Parquet pages fail now, inside the file's
        # error handling), checked, and the accepted rows are written; no step reads the staged rows' order (the
        # period's dedupe and take-outs order by __file and __row; a CSV with rejected lines is not staged in file order)
        accepted = cur.execute(
            f"COPY (SELECT {_typed_sql(table, typed)}, {lit(rel)} AS __file, CAST(__row AS BIGINT) AS __row FROM __raw "
            f"WHERE ({rule}) IS NULL) "
            f"TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION snappy)"
        ).fetchall()[0][0]
        failed = []
        if accepted < rows:  # a second pass only for a file with failing rows: each one's first failing rule
            failed = cur.execute(
                f"SELECT __row, __rule, {_raw_sql(table, text_of)} FROM (SELECT *, {rule} AS __rule FROM __raw) "
                "WHERE __rule IS NOT NULL ORDER BY __row"
            ).fetchall()
    except SchemaError as e:  # the whole table stops: say which file lacks the columns
        tmp.unlink(missing_ok=True)
        raise SchemaError(f"{rel}: {e}") from None
    except duckdb.ConversionException as e:  # a value the rules let through and the typed cast refused
        tmp.unlink(missing_ok=True)
        res.status, res.error = "unreadable", f"a value does not convert to its contract type: {_short(e)}"
        return res, _quarantine_rows([])
    except READ_ERRORS as e:
        tmp.unlink(missing_ok=True)
        if is_disk_full(e) or str(tmp) in str(e):  # the staged file could not be written: not the source's fault
            raise
        msg = _short(e)
        if fmt == "parquet" and not msg.startswith("corrupt parquet"):
            msg = f"corrupt parquet: {msg}"
        res.status, res.error = "unreadable", msg
        return res, _quarantine_rows([])
    finally:
        cur.execute("DROP VIEW IF EXISTS __raw")
        if fmt != "parquet":
            cur.execute("DROP TABLE IF EXISTS __csv; DROP TABLE IF EXISTS __rej; DROP TABLE IF EXISTS __gaps")
    res.extra_columns = extra
    os.replace(tmp, out_dir / staged_name)

    def why(rule: RowRule) -> str:
        return f"{rule.reason} ({notes[rule.column]})" if rule.column in notes else rule.reason

    q = [(r, rules[k - 1].column, why(rules[k - 1]), raw) for r, k, raw in failed]
    qrows = [(table.name, rel, r, c, w, raw) for (r, c, w, raw) in rejects]
    qrows += [(table.name, rel, int(r), c, w, raw) for (r, c, w, raw) in q]
    res.accepted = int(accepted)
    res.quarantined = len(qrows)
    res.rows_read = int(counted)
    res.staged = staged_name
    return res, _quarantine_rows(qrows)


NOT_READ = ("unreadable", "refused")  # file statuses whose rows were not read: a file-level quarantine row


def file_level_row(res: FileResult) -> tuple:
    """The quarantine row of a file that was not read: no row number, the reader's error as the reason,
    and how many of its rows are lost (unknown unless the file says so)."""
    rows = f"{res.rows_read:,} rows" if res.rows_read else "rows unknown"
    return (res.table, res.file, None, "", f"file {res.status}, none of its rows read ({rows}): {res.error}", None)


def cap_raw(raw: str | None) -> str | None:
    """The raw row as kept in the quarantine: whole up to RAW_MAX_CHARS, else its start and how much is
    left out (a 1 MB cell_id stays readable in a spreadsheet; the source file keeps the rest)."""
    if raw is None or len(raw) <= RAW_MAX_CHARS:
        return raw
    return raw[:RAW_MAX_CHARS] + f"…[{len(raw) - RAW_MAX_CHARS} more characters]"


def _quarantine_rows(rows: list[tuple]) -> pa.Table:
    rows = [(*r[:-1], cap_raw(r[-1])) for r in rows]
    cols = list(zip(*rows)) if rows else [[] for _ in QUARANTINE_SCHEMA.names]
    return pa.table([pa.array(list(c), t) for c, t in zip(cols, QUARANTINE_SCHEMA.types)], schema=QUARANTINE_SCHEMA)


@dataclass
class PartitionResult:
    table: str
    partition: str
    files: list[FileResult]
    expected: bool = True  # False: a folder outside the layout (its files are all `unexpected`)

    @property
    def staged_paths(self) -> list[str]:
        return [f.staged for f in self.files if f.status == "ok"]


def _load_manifest(folder: Path) -> dict:
    p = folder / MANIFEST
    return json.loads(p.read_text()) if p.exists() else {"files": {}}


def _write_manifest(folder: Path, manifest: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / _tmp_name(MANIFEST)
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    os.replace(tmp, folder / MANIFEST)


def _fingerprint(path: Path) -> tuple[str, str]:
    """(sha256, '') of a readable file, ('', one-line error) of one that cannot be read."""
    try:
        return sha256_of(path), ""
    except OSError as e:
        if is_disk_full(e):
            raise
        return "", f"cannot read: {e.strerror or e}"


def ingest_partition(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    work: Path,
    table: Table,
    part: str,
    encoding: str | IngestOptions,
    sql_source=None,
) -> PartitionResult:
    """Stage one partition of one table; reuse staged files whose source checksum and rules are unchanged.

    With `sql_source` (config SqlSource) the partition is extracted from that SQL table instead.
    """
    opts = encoding if isinstance(encoding, IngestOptions) else IngestOptions(encoding=encoding)
    staged_dir = work / "staged" / table.name / part
    quar_dir = work / "quarantine" / table.name / part
    manifest = _load_manifest(staged_dir)
    old = manifest["files"]
    new: dict[str, dict] = {}
    seen_sha: dict[str, str] = {}
    results: list[FileResult] = []
    fingerprint = rules_fingerprint(rules_for(table, part, opts), opts)
    if sql_source is not None:
        from pipelines.extract import extract_sql_table

        dest = work / "extract" / table.name / part / f"{table.name}.csv"
        sources, other = [extract_sql_table(sql_source, table, part.split("=", 1)[1], dest)], []
    else:
        sources, other = scan_partition(landing, table, part)
    for path in sources:
        rel = sql_source.table if sql_source is not None else path.relative_to(landing).as_posix()
        why_not = refusal(path, landing, opts) if sql_source is None else ""
        if why_not:
            res = FileResult(table.name, rel, part, "", "refused", error=why_not, rows_read=0)
            results.append(res)
            new[rel] = asdict(res)
            continue
        sha, err = _fingerprint(path)
        if err:
            res = FileResult(table.name, rel, part, "", "unreadable", error=err)
            results.append(res)
            new[rel] = asdict(res)
            continue
        if sha in seen_sha:
            res = FileResult(table.name, rel, part, sha, "duplicate_delivery", error=f"same content as {seen_sha[sha]}")
            results.append(res)
            new[rel] = asdict(res)
            continue
        seen_sha[sha] = rel
        prev = old.get(rel)
        reusable = (
            prev
            and prev["sha256"] == sha
            and prev["status"] in ("ok", "empty")
            and prev.get("rules") == fingerprint
            # rows taken out as duplicates or conflicts depend on the other files of the period: read it again
            and not prev.get("deduplicated")
        )
        if reusable and (not prev["staged"] or (staged_dir / prev["staged"]).exists()):
            res = FileResult.from_manifest(prev)
        else:
            res, qt = stage_file(con, landing, path, table, part, staged_dir, opts, sha, rel)
            quar_dir.mkdir(parents=True, exist_ok=True)
            qfile = quar_dir / artifact_name(path.name, sha)
            tmp = quar_dir / _tmp_name(qfile.name)
            pq.write_table(qt, tmp)
            os.replace(tmp, qfile)
        results.append(res)
        new[rel] = asdict(res)
    for res in results:
        if res.status in NOT_READ:  # nothing lost silently: the file itself is a quarantine row
            quar_dir.mkdir(parents=True, exist_ok=True)
            qfile = quar_dir / artifact_name(Path(res.file).name, res.sha256)
            tmp = quar_dir / _tmp_name(qfile.name)
            pq.write_table(_quarantine_rows([file_level_row(res)]), tmp)
            os.replace(tmp, qfile)
    for path, why in other:
        res = _unexpected(landing, table.name, part, path, why)
        results.append(res)
        new[res.file] = asdict(res)
    # files no longer delivered (or re-delivered with new content): drop what came from them
    keep_staged = {r["staged"] for r in new.values() if r["staged"]}
    if staged_dir.exists():
        for f in staged_dir.glob("*.parquet"):
            if f.name not in keep_staged:
                f.unlink()
    keep_q = {artifact_name(Path(r["file"]).name, r["sha256"]) for r in new.values()
              if r["sha256"] or r["status"] in NOT_READ}
    if quar_dir.exists():
        for f in quar_dir.glob("*.parquet"):
            if f.name not in keep_q:
                f.unlink()
    _write_manifest(staged_dir, {"files": new})
    return PartitionResult(table.name, part, results)


def _period_files(work: Path, table: Table, parts: list[PartitionResult]) -> list[Path]:
    files = [work / "staged" / table.name / p.partition / f for p in parts for f in p.staged_paths]
    return [f for f in files if f.exists()]


def dedupe_period(con: duckdb.DuckDBPyConnection, work: Path, table: Table, parts: list[PartitionResult]) -> int:
    """Quarantine rows whose key repeats an earlier row (file order, then row order) in the period."""
    dk = dedupe_key(table.name)
    files = _period_files(work, table, parts)
    if not dk or not files:
        return 0
    key, reason = dk
    keys = ", ".join(f'"{k}"' for k in key)
    lst = "[" + ", ".join(lit(str(f)) for f in files) + "]"
    # hashes of the key seen more than once (an aggregate over 8-byte values, not over the key's text), then
    # ranks by the key itself among the rows with those hashes only (two keys that share a hash are ranked
    # apart: neither is taken out). DuckDB's string hash alone makes such pairs of 19-digit record ids by the
    # million (digits swapped between 8-byte words); hashed once more with a shifted copy, none in 30M.
    h = f"hash({keys}, '#' || CAST(\"{key[0]}\" AS VARCHAR))"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __dupkeys AS SELECT {h} AS __h FROM read_parquet({lst}) "
        "GROUP BY __h HAVING count(*) > 1"
    )
    if not con.execute("SELECT count(*) FROM __dupkeys").fetchall()[0][0]:
        return 0
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __dups AS SELECT * FROM (SELECT *, filename AS __staged, "
        f"row_number() OVER (PARTITION BY {keys} ORDER BY __file, __row) AS __n "
        f"FROM read_parquet({lst}, filename=true) WHERE {h} IN (SELECT __h FROM __dupkeys)) WHERE __n > 1"
    )
    return _take_out(con, work, table, parts, "__dups", key[0], reason)


def quarantine_conflicts(con: duckdb.DuckDBPyConnection, work: Path, table: Table, parts: list[PartitionResult]) -> int:
    """Quarantine every row of a conflict (expectations/suites.py CONFLICT_RULES) among the period's staged
    rows; run after dedupe_period, so a row delivered twice is one row, not a conflict with itself."""
    n = 0
    for rule in conflict_rules(table.name):
        files = _period_files(work, table, parts)
        if not files:
            return n
        rows = "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "], filename=true)"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __conflicts AS SELECT * EXCLUDE ({rule.measure}), filename AS __staged "
            f"FROM ({rule.sql(rows)}) WHERE {rule.measure} > 1"
        )
        n += _take_out(con, work, table, parts, "__conflicts", rule.column, rule.reason)
    return n


def _take_out(con: duckdb.DuckDBPyConnection, work: Path, table: Table, parts: list[PartitionResult],
              rows: str, column: str, reason: str) -> int:
    """Move the staged rows listed in temp table `rows` (staged columns plus __staged, the staged file) to
    their files' quarantine with `column` and `reason`, and count them in the manifests as taken out by a
    rule over the period (so their source files are read again next time)."""
    n = con.execute(f"SELECT count(*) FROM {rows}").fetchall()[0][0]
    if not n:
        return 0
    raw_cols = " || ',' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in table.column_names)
    by_staged = con.execute(f"SELECT DISTINCT __staged FROM {rows}").fetchall()
    for (staged,) in by_staged:
        sp = Path(staged)
        part = sp.parent.name
        manifest = _load_manifest(sp.parent)
        entry = next(v for v in manifest["files"].values() if v["staged"] == sp.name)
        q = con.execute(
            f"SELECT {lit(table.name)}, __file, __row, {lit(column)}, {lit(reason)}, {raw_cols} "
            f"FROM {rows} WHERE __staged = {lit(staged)} ORDER BY __row"
        ).fetchall()
        qdir = work / "quarantine" / table.name / part
        qfile = qdir / sp.name  # same name as the staged file
        existing = pq.read_table(qfile) if qfile.exists() else _quarantine_rows([])
        qtmp = qdir / _tmp_name(qfile.name)
        pq.write_table(pa.concat_tables([existing, _quarantine_rows([tuple(r) for r in q])]).sort_by("row_number"), qtmp)
        os.replace(qtmp, qfile)
        tmp = sp.parent / _tmp_name(sp.name)
        con.execute(
            f"COPY (SELECT * FROM read_parquet({lit(staged)}, hive_partitioning=false) WHERE (__file, __row) NOT IN "
            f"(SELECT (__file, __row) FROM {rows} WHERE __staged = {lit(staged)}) ORDER BY __row) "
            f"TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
        )
        os.replace(tmp, sp)
        entry["accepted"] -= len(q)
        entry["quarantined"] += len(q)
        entry["deduplicated"] = entry.get("deduplicated", 0) + len(q)
        _write_manifest(sp.parent, manifest)
        for p in parts:
            for f in p.files:
                if f.staged == sp.name and f.partition == part:
                    f.accepted, f.quarantined, f.deduplicated = entry["accepted"], entry["quarantined"], entry["deduplicated"]
    return int(n)


def ingest_table(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    work: Path,
    table_name: str,
    period: str,
    encoding: str | IngestOptions,
    sql_source=None,
) -> list[PartitionResult]:
    """Stage every partition of a table for the period, quarantine duplicate keys across the period, and
    report folders of the table that lie outside its partition layout (a PartitionResult with
    expected=False)."""
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
    quarantine_conflicts(con, work, table, parts)
    if sql_source is None:
        stray = table_unexpected(landing, table, period)
        if stray:
            parts.append(PartitionResult(table.name, "(outside the layout)", stray, expected=False))
    return parts
