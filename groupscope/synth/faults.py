"""Malformed input of the kinds operators really receive, injected into a clean landing zone.

Every broken row is written to `truth/faults.csv` (source, file, row_number, column, kind, reason,
value) and every broken file or partition to `truth/fault_files.csv`, so that ingest can be checked
against exactly what was broken. Row faults are only put into CSV files (Parquet is typed by its
writer); a row gets at most one fault, so its expected reason is unambiguous.

`HOSTILE_KINDS` are deliveries that a month must survive with one clear line or a reason (corrupt
Parquet pages, unreadable or empty files, files outside the layout, links out of the landing folder,
formulas in names, ...). They are applied to the last month only when named in `fault_kinds`, one at
a time in tests/pipelines/test_hostile_input.py, and recorded in `fault_files.csv` with their effect.

`CONFLICT_KINDS` are rows that break a rule together with rows already delivered (two active subscribers
with one number, a number in two groups at once, a row delivered twice, a number written as +86 ...).
They too apply to the last month only when named. They append rows to the month's snapshot files;
`faults.csv` lists every row the quarantine must then hold (the rows already there that a new row
conflicts with included), and `fault_files.csv` the look-alike rows that are legitimate and must stay
accepted (effect `accepted: ...`).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groupscope.config import PlausibilityConfig
from groupscope.period import Period
from groupscope.synth.params import SynthParams

_BOUNDS = PlausibilityConfig()  # the default plausibility bounds the row faults below break


@dataclass(frozen=True)
class RowFault:
    kind: str
    source: str
    column: str  # '' when the row as a whole is unreadable
    reason: str  # short reason the quarantine is expected to give
    mutate: Callable[[list[str], np.random.Generator], str]  # returns the new text of the field


def _bad_msisdn(v, rng):
    return [v[:10], v[:5] + "O" + v[6:], "1" + v + "9"][int(rng.integers(3))]


def _negative(v, rng):
    return f"-{int(rng.integers(1, 600))}"


def _bad_time(v, rng):
    return [v.replace(" ", "T") + "Z", v[:11] + "25:61:00", "2026-13-01 08:00:00"][int(rng.integers(3))]


ROW_FAULTS: list[RowFault] = [
    RowFault("cdr_bad_msisdn", "cdr", "served_msisdn", "served_msisdn not an 11-digit mobile number", lambda v, r: _bad_msisdn(v, r)),
    RowFault("cdr_negative_duration", "cdr", "duration_s", "duration_s < 0", lambda v, r: _negative(v, r)),
    RowFault("cdr_bad_time", "cdr", "start_time", "start_time not a valid datetime", lambda v, r: _bad_time(v, r)),
    RowFault("cdr_bad_record_type", "cdr", "record_type", "record_type not allowed", lambda v, r: ["VOICE", "moc", "MOCX"][int(r.integers(3))]),
    RowFault("cdr_bad_other_party", "cdr", "other_party", "other_party not a number", lambda v, r: ["unknown", "138-0013-8000", "*#06#"][int(r.integers(3))]),
    RowFault("cdr_duplicate_id", "cdr", "record_id", "duplicate record_id", lambda v, r: v),  # value set by caller
    RowFault("cdr_broken_quoting", "cdr", "", "unparseable line", lambda v, r: v),  # line built by caller
    RowFault("billing_total_mismatch", "billing", "total_due", "total_due != voice_fee+data_fee+sms_fee+vas_fee-discount", lambda v, r: f"{float(v) + 0.37:.2f}"),
    RowFault("billing_negative_fee", "billing", "vas_fee", "vas_fee < 0", lambda v, r: v),  # set by caller
    RowFault("billing_bad_month", "billing", "bill_month", "bill_month not YYYY-MM", lambda v, r: v.replace("-", "/")),
    RowFault("subscribers_bad_status", "subscribers", "status", "status not allowed", lambda v, r: ["deleted", "ACTIVE", "frozen"][int(r.integers(3))]),
    RowFault("subscribers_bad_date", "subscribers", "activated_at", "activated_at not a valid date", lambda v, r: ["2026-02-30", "2025-13-01", "20250101"][int(r.integers(3))]),
    RowFault("memberships_bad_role", "memberships", "member_role", "member_role not allowed", lambda v, r: ["boss", "Member", "vip"][int(r.integers(3))]),
    RowFault("memberships_bad_msisdn", "memberships", "msisdn", "msisdn not an 11-digit mobile number", lambda v, r: "+86" + v),
    RowFault("groups_bad_date", "groups", "registered_at", "registered_at not a valid date", lambda v, r: "2021-04-31"),
    RowFault("groups_gbk_bytes", "groups", "", "not valid UTF-8", lambda v, r: v),  # re-encoded by caller
    # well-formed values that do not fit the staged type, or cannot be true
    RowFault("cdr_int64_overflow", "cdr", "duration_s", "duration_s out of range for BIGINT", lambda v, r: "99999999999999999999"),
    RowFault("billing_decimal_overflow", "billing", "voice_fee", "voice_fee out of range for DECIMAL(14,2)", lambda v, r: v),  # set by caller
    RowFault("cdr_outside_day", "cdr", "start_time", f"start_time outside its partition's day (± {_BOUNDS.record_day_tolerance_s} s)",
             lambda v, r: ["1970-01-01 08:00:00", "2031-05-01 12:00:00", _other_month(v)][int(r.integers(3))]),
    RowFault("cdr_implausible_duration", "cdr", "duration_s", f"duration_s above {_BOUNDS.max_call_duration_s} s for a call",
             lambda v, r: ["1000000000", "1000000000000", str(_BOUNDS.max_call_duration_s + 1)][int(r.integers(3))]),
    RowFault("cdr_sms_duration", "cdr", "duration_s", f"duration_s above {_BOUNDS.max_sms_duration_s} s for an SMS",
             lambda v, r: str(40 * 86400)),
    RowFault("cdr_control_characters", "cdr", "cell_id", "cell_id contains control characters",
             lambda v, r: [v[:6] + "\x00" + v[6:], v + "\x07", "\x1b[31m" + v][int(r.integers(3))]),
    RowFault("cdr_long_text", "cdr", "cell_id", f"cell_id longer than {_BOUNDS.max_text_length} characters",
             lambda v, r: v + "9" * (1 << 20)),
]  # fmt: skip

# row faults that need a record of one kind (voice or SMS)
_NEEDS_TYPE = {"cdr_implausible_duration": ("MOC", "MTC"), "cdr_sms_duration": ("SMS_MO", "SMS_MT"),
               "cdr_int64_overflow": ("MOC", "MTC")}


def _other_month(v: str) -> str:
    """The same time of day in a month before (the record is well-formed but filed under the wrong day)."""
    return f"{Period.parse(v[:7]).previous}-15{v[10:]}"

FILE_FAULTS = ["cdr_truncated_gzip", "cdr_corrupt_parquet", "cdr_missing_day", "cdr_extra_column"]
ALL_KINDS = [f.kind for f in ROW_FAULTS] + FILE_FAULTS
# Hostile deliveries, one at a time: only injected when named in fault_kinds (several of them stop a run
# on purpose, with one line and exit 2). Each is recorded in fault_files.csv with its expected effect.
HOSTILE_KINDS = [
    "cdr_corrupt_pages",       # Parquet data pages corrupt, footer intact: unreadable file
    "cdr_epoch_start_time",    # Parquet start_time stored as int64 epoch seconds: rows quarantined, value kept
    "cdr_unreadable_file",     # a file the process may not read (mode 000; root reads it anyway)
    "cdr_empty_file",          # a 0-byte file beside the day's files
    "groups_header_only",      # the groups file has its header and no rows
    "cdr_glob_name",           # a one-row file named msc0?.csv (a glob pattern if used as one)
    "cdr_upper_case_ext",      # MSC01.CSV: read like msc01.csv
    "cdr_sub_folder",          # a file moved into dt=.../late/: unexpected, with its rows
    "cdr_malformed_partition", # files moved into dt=YYYY-MM-5/ and dt=YYYY-MM-32/: unexpected, with their rows
    "cdr_bz2",                 # a file recompressed as .csv.bz2: unexpected, with its rows
    "cdr_symlink_outside",     # a file replaced by a link to a copy outside the landing folder: refused
    "groups_formula_name",     # a group name that a spreadsheet would run as a formula: escaped in exports
]
# Conflicts with rows already delivered: only injected when named in fault_kinds (see _conflict)
CONFLICT_KINDS = [
    "subscribers_shared_msisdn",  # a second active subscriber with an active number: both quarantined; a closed
                                  # line (recycled number) and a suspended line beside active ones: accepted
    "subscribers_repeated_id",    # a subscriber row delivered again in another file, and an id again with another
                                  # number: the later rows are duplicates (not a conflict of the number)
    "memberships_repeated_row",   # a membership row delivered twice: the later one is a duplicate
    "memberships_two_groups",     # a member registered in a second group at the same time: both quarantined; a
                                  # move from another group the day the member joined: accepted
    "msisdn_formats",             # numbers of an active subscriber, a member and a bill written +86..., 86...,
                                  # +86 1xx xxxx xxxx beside the 11-digit form: not 11 digits, quarantined
]
KNOWN_KINDS = ALL_KINDS + HOSTILE_KINDS + CONFLICT_KINDS
FORMULA_NAME = '=HYPERLINK("http://example.invalid/","open")'
ROWS_PER_KIND_AND_MONTH = 3
# The table-level check each file fault fails (validation.severity): under the default severities these
# stop `groupscope run` with exit 2; docs/faults.example.yaml makes the default --faults ones warnings.
BLOCKS = {
    "cdr_truncated_gzip": "files_readable", "cdr_corrupt_parquet": "files_readable",
    "cdr_missing_day": "days_complete", "cdr_corrupt_pages": "files_readable",
    "cdr_unreadable_file": "files_readable", "cdr_symlink_outside": "files_readable",
    "groups_header_only": "rows_present", "cdr_sub_folder": "unexpected_files",
    "cdr_malformed_partition": "unexpected_files", "cdr_bz2": "unexpected_files",
}


def blocking_checks(truth: Path) -> list[str]:
    """The checks that the file faults recorded in truth/fault_files.csv fail, sorted."""
    path = truth / "fault_files.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return sorted({BLOCKS[r["kind"]] for r in csv.DictReader(fh) if r["kind"] in BLOCKS})


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _write(path: Path, data: bytes) -> None:
    if path.name.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=3) as gz:
            gz.write(data)
        data = buf.getvalue()
    path.write_bytes(data)


def _fields(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8")]))


def _line(fields: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue().encode("utf-8")


class _File:
    """A CSV file held as lines while it is being broken."""

    def __init__(self, path: Path, landing: Path):
        self.path = path
        self.rel = path.relative_to(landing).as_posix()
        raw = _read(path)
        lines = raw.split(b"\n")
        assert lines[-1] == b"", f"{path} does not end with a newline"
        self.header = _fields(lines[0])
        self.rows = lines[1:-1]
        self.used: set[int] = set()

    def save(self) -> None:
        _write(self.path, b"\n".join([_line(self.header), *self.rows]) + b"\n")


def inject_faults(landing: Path, truth: Path, p: SynthParams) -> int:
    rng = np.random.default_rng([p.seed, 9])
    kinds = set(p.fault_kinds) if p.fault_kinds else set(ALL_KINDS)
    unknown = kinds - set(KNOWN_KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown))} (known: {', '.join(KNOWN_KINDS)})")
    row_truth: list[dict] = []
    file_truth: list[dict] = []

    # file-level faults first, so that row faults avoid files that are destroyed
    destroyed: set[Path] = set()
    first, last = p.months[0], p.months[-1]
    cdr_files = sorted(landing.glob("cdr/dt=*/*"))

    def count_rows(path: Path) -> int:
        if path.name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.read_metadata(path).num_rows
        return _read(path).count(b"\n") - 1

    if "cdr_truncated_gzip" in kinds:
        gz = [f for f in cdr_files if f.name.endswith(".csv.gz") and f"dt={first}" in str(f)]
        if gz:
            f = gz[-1]
            n = count_rows(f)
            data = f.read_bytes()
            f.write_bytes(data[: len(data) // 2])
            destroyed.add(f)
            file_truth.append(dict(source="cdr", file=f.relative_to(landing).as_posix(), kind="cdr_truncated_gzip", effect="unreadable: truncated gzip", rows_lost=n))  # noqa: E501
    if "cdr_corrupt_parquet" in kinds:
        pqs = [f for f in cdr_files if f.name.endswith(".parquet") and f"dt={first}" in str(f)]
        if pqs:
            f = pqs[len(pqs) // 2]
            n = count_rows(f)
            data = bytearray(f.read_bytes())
            mid = len(data) // 2
            data[mid : mid + 64] = bytes(rng.integers(0, 256, 64, dtype=np.uint8))
            data[-8:-4] = b"\xff\xff\xff\x7f"  # footer length beyond the file
            f.write_bytes(bytes(data))
            destroyed.add(f)
            file_truth.append(dict(source="cdr", file=f.relative_to(landing).as_posix(), kind="cdr_corrupt_parquet", effect="unreadable: corrupt parquet", rows_lost=n))  # noqa: E501
    if "cdr_missing_day" in kinds:
        days = sorted(landing.glob(f"cdr/dt={last}-*"))
        if len(days) > 15:
            day = days[14]
            n = sum(count_rows(f) for f in day.iterdir())
            for f in day.iterdir():
                destroyed.add(f)
            shutil.rmtree(day)
            file_truth.append(dict(source="cdr", file=day.relative_to(landing).as_posix(), kind="cdr_missing_day", effect="missing partition", rows_lost=n))  # noqa: E501
    if "cdr_extra_column" in kinds:
        csvs = [f for f in cdr_files if f.name.endswith(".csv") and f"dt={last}" in str(f) and f not in destroyed]
        if csvs:
            f = csvs[-1]
            cf = _File(f, landing)
            cf.header = [*cf.header, "imei"]
            cf.rows = [r + b',"86' + str(int(rng.integers(10**12, 10**13))).encode() + b'"' for r in cf.rows]
            cf.save()
            destroyed.add(f)  # keep row faults out of it: its rows are otherwise good
            file_truth.append(dict(source="cdr", file=cf.rel, kind="cdr_extra_column", effect="extra column imei", rows_lost=0))  # noqa: E501

    for kind in HOSTILE_KINDS:
        if kind in kinds:
            file_truth += _hostile(kind, landing, p, rng, destroyed)
    for kind in CONFLICT_KINDS:
        if kind in kinds:
            rows, files = _conflict(kind, landing, p, rng, destroyed)
            row_truth += rows
            file_truth += files

    # row-level faults
    for month in p.months:
        files: dict[str, list[_File]] = {}
        for source in {f.source for f in ROW_FAULTS}:
            pattern = f"cdr/dt={month}-*/*" if source == "cdr" else f"{source}/month={month}/*"
            paths = [
                f
                for f in sorted(landing.glob(pattern))
                if f not in destroyed and (f.name.endswith(".csv") or f.name.endswith(".csv.gz"))
            ]
            if source in p.gbk_sources:
                paths = []  # keep GBK sources clean: their encoding is the feature under test
            files[source] = [_File(f, landing) for f in paths]
        for fault in ROW_FAULTS:
            if fault.kind not in kinds or not files.get(fault.source):
                continue
            for k in range(ROWS_PER_KIND_AND_MONTH):
                cf = files[fault.source][k % len(files[fault.source])]
                rec = _inject_row(cf, fault, rng)
                if rec is not None:
                    row_truth.append(rec)
        for fl in files.values():
            for cf in fl:
                if cf.used:
                    cf.save()

    truth.mkdir(parents=True, exist_ok=True)
    _write_csv(truth / "faults.csv", ["source", "file", "row_number", "column", "kind", "reason", "value"], row_truth)
    _write_csv(truth / "fault_files.csv", ["source", "file", "kind", "effect", "rows_lost"], file_truth)
    return len(row_truth) + len(file_truth)


def _pick_row(cf: _File, rng: np.random.Generator, ok: Callable[[int], bool] = lambda i: True) -> int | None:
    n = len(cf.rows)
    for _ in range(200):
        i = int(rng.integers(1, n)) if n > 1 else 0  # never the first row: duplicates need an earlier one
        if i not in cf.used and ok(i):
            return i
    return None


def _inject_row(cf: _File, fault: RowFault, rng: np.random.Generator) -> dict | None:
    header = cf.header

    def col_ok(i: int) -> bool:
        if not fault.column:
            return True
        v = _fields(cf.rows[i])[header.index(fault.column)]
        if fault.kind == "cdr_negative_duration":
            return v not in ("", "0")
        if fault.kind == "billing_negative_fee":
            return v not in ("", "0.00")
        if fault.kind in _NEEDS_TYPE:
            return _fields(cf.rows[i])[header.index("record_type")] in _NEEDS_TYPE[fault.kind]
        return v != ""

    i = _pick_row(cf, rng, col_ok)
    if i is None:
        return None
    fields = _fields(cf.rows[i])
    value = ""
    if fault.kind == "cdr_broken_quoting":
        # a stray quote closes a field early and leaves text behind it: `"460-00-4101"-10001`
        j = header.index("cell_id")
        text = fields[j] or "460-00-4101-10001"
        fields_txt = _line(fields[:j]).decode() + "," + f'"{text[:6]}"{text[6:]}'
        if j + 1 < len(fields):
            fields_txt += "," + _line(fields[j + 1 :]).decode()
        cf.rows[i] = fields_txt.encode("utf-8")
        value = fields_txt
    elif fault.kind == "groups_gbk_bytes":
        text = _line(fields).decode("utf-8")
        try:
            raw = text.encode("gbk")
            raw.decode("utf-8")
            return None  # no byte that UTF-8 rejects: not a fault
        except UnicodeDecodeError:
            cf.rows[i] = raw
        except UnicodeEncodeError:
            return None
        value = text
    else:
        j = header.index(fault.column)
        if fault.kind == "cdr_duplicate_id":
            earlier = int(rng.integers(0, i))
            while earlier in cf.used:
                earlier = int(rng.integers(0, i))
            value = _fields(cf.rows[earlier])[j]
            cf.used.add(earlier)  # the first occurrence must stay a good row
        elif fault.kind == "billing_negative_fee":
            # a refund booked as a negative fee: the total still reconciles, only the sign is wrong
            old = float(fields[j])
            value = f"{-old:.2f}"
            t = header.index("total_due")
            fields[t] = f"{float(fields[t]) - 2 * old:.2f}"
        elif fault.kind == "billing_decimal_overflow":
            # a fee of 10 trillion yuan that still reconciles: only the staged type cannot hold it
            from decimal import Decimal

            value = str(Decimal(fields[j]) + Decimal("10000000000000.00"))
            t = header.index("total_due")
            fields[t] = str(Decimal(fields[t]) + Decimal("10000000000000.00"))
        else:
            value = fault.mutate(fields[j], rng)
        fields[j] = value
        cf.rows[i] = _line(fields)
    cf.used.add(i)
    return dict(
        source=fault.source,
        file=cf.rel,
        row_number=i + 1,
        column=fault.column,
        kind=fault.kind,
        reason=fault.reason,
        value=value[:1000],  # the start of a very long value (csv readers limit a field's size)
    )


def _write_csv(path: Path, cols: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


# ---- hostile deliveries ---------------------------------------------------------------------------


def _rows_of(path: Path) -> int:
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_metadata(path).num_rows
    return _read(path).count(b"\n") - 1


def _day_files(landing: Path, month: str, ending: str) -> list[Path]:
    return [f for f in sorted(landing.glob(f"cdr/dt={month}-*/*")) if f.name.endswith(ending)]


def _hostile(kind: str, landing: Path, p: SynthParams, rng: np.random.Generator, destroyed: set[Path]) -> list[dict]:
    """Apply one hostile kind to the last month; returns its truth rows (source, file, kind, effect, rows_lost)."""
    import bz2

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    month = p.months[-1]
    out: list[dict] = []

    def note(f: Path | str, effect: str, rows_lost: int, source: str = "cdr") -> None:
        rel = f if isinstance(f, str) else f.relative_to(landing).as_posix()
        out.append(dict(source=source, file=rel, kind=kind, effect=effect, rows_lost=rows_lost))

    def pick(ending: str, k: int = 0) -> Path | None:
        files = [f for f in _day_files(landing, month, ending) if f not in destroyed]
        if not files:
            return None
        f = files[(len(files) // 3 + k) % len(files)]
        destroyed.add(f)
        return f

    if kind in ("cdr_corrupt_pages", "cdr_epoch_start_time"):
        f = pick(".parquet")
        if f is None:
            return out
        t = pq.read_table(f)
        if kind == "cdr_epoch_start_time":
            i = t.schema.get_field_index("start_time")
            epoch = pc.cast(pc.cast(t["start_time"], pa.timestamp("s")), pa.int64())
            pq.write_table(t.set_column(i, "start_time", epoch), f, compression="zstd")
            note(f, "rows quarantined: start_time not a valid datetime (stored as int64 in Parquet)", t.num_rows)
        else:
            # pages written without dictionaries, then bytes in the middle of the column data
            # flipped: the footer still describes the file, the pages no longer decode
            pq.write_table(t, f, compression="zstd", use_dictionary=False, write_statistics=False)
            data = bytearray(f.read_bytes())
            meta = pq.read_metadata(f)
            col = meta.row_group(0).column(0)
            start, size = col.data_page_offset, col.total_compressed_size
            for k in range(start + 8, start + size - 8, max(size // 64, 1)):
                data[k] ^= 0xFF
            f.write_bytes(bytes(data))
            note(f, "unreadable: corrupt parquet", t.num_rows)
    elif kind == "cdr_unreadable_file":
        f = pick(".csv")
        if f is not None:
            n = _rows_of(f)
            f.chmod(0)
            note(f, "unreadable: permission denied", n)
    elif kind == "cdr_empty_file":
        f = landing / "cdr" / f"dt={month}-03" / "msc09.csv"
        f.write_bytes(b"")
        note(f, "empty: 0-byte file", 0)
    elif kind == "groups_header_only":
        for f in sorted(landing.glob(f"groups/month={month}/*")):
            lines = _read(f).split(b"\n")
            n = len(lines) - 2
            _write(f, lines[0] + b"\n")
            destroyed.add(f)
            note(f, "header only: no groups", n, "groups")
    elif kind == "cdr_glob_name":
        f = pick(".csv")
        if f is not None:
            cf = _File(f, landing)
            moved = cf.rows.pop()
            cf.save()
            g = f.parent / "msc0?.csv"
            g.write_bytes(_line(cf.header) + b"\n" + moved + b"\n")
            destroyed.add(g)
            note(g, "one row, read by exact name", 0)
    elif kind == "cdr_upper_case_ext":
        f = pick(".csv")
        if f is not None:
            g = f.with_name(f.name.split(".")[0].upper() + ".CSV")
            f.rename(g)
            destroyed.add(g)
            note(g, "read like a .csv file", 0)
    elif kind == "cdr_sub_folder":
        f = pick(".csv")
        if f is not None:
            late = f.parent / "late"
            late.mkdir()
            n = _rows_of(f)
            f.rename(late / f.name)
            destroyed.add(late / f.name)
            note(late, f"unexpected: sub-folder with {n} rows", n)
    elif kind == "cdr_malformed_partition":
        for k, bad in enumerate((f"dt={month}-5", f"dt={month}-32")):
            f = pick(".csv", k)
            if f is None:
                continue
            folder = landing / "cdr" / bad
            folder.mkdir(exist_ok=True)
            n = _rows_of(f)
            f.rename(folder / f.name)
            destroyed.add(folder / f.name)
            note(folder, f"unexpected: malformed partition with {n} rows", n)
    elif kind == "cdr_bz2":
        f = pick(".csv")
        if f is not None:
            n = _rows_of(f)
            g = f.with_name(f.name + ".bz2")
            g.write_bytes(bz2.compress(f.read_bytes()))
            f.unlink()
            note(g, f"unexpected: .csv.bz2 with {n} rows", n)
    elif kind == "cdr_symlink_outside":
        f = pick(".csv")
        if f is not None:
            outside = landing.parent / f"{landing.name}_outside"
            outside.mkdir(exist_ok=True)
            target = outside / f"{f.parent.name}-{f.name}"
            shutil.move(f, target)
            f.symlink_to(target)
            note(f, "refused: link resolves outside the landing folder", _rows_of(target))
    elif kind == "groups_formula_name":
        for f in sorted(landing.glob(f"groups/month={month}/*")):
            cf = _File(f, landing)
            j = cf.header.index("group_name")
            fields = _fields(cf.rows[0])
            fields[j] = FORMULA_NAME
            cf.rows[0] = _line(fields)
            cf.save()
            destroyed.add(f)
            note(f, f"accepted; group {fields[0]} exported with its name escaped", 0, "groups")
    return out



# ---- rows in conflict with rows already delivered ---------------------------------------------------

REASON_SHARED_MSISDN = "msisdn shared with another active subscriber"
REASON_TWO_GROUPS = "msisdn in another group at the same time"
REASON_FORMAT = "msisdn not an 11-digit mobile number"


def _snapshot(landing: Path, source: str, month: str, destroyed: set[Path]) -> list[_File]:
    return [_File(f, landing) for f in sorted(landing.glob(f"{source}/month={month}/*.csv")) if f not in destroyed]


def _conflict(kind: str, landing: Path, p: SynthParams, rng: np.random.Generator,
              destroyed: set[Path]) -> tuple[list[dict], list[dict]]:
    """Append rows that conflict with rows of the last month's snapshot; returns (rows the quarantine must
    hold, look-alike rows that must stay accepted) in the shapes of faults.csv and fault_files.csv."""
    month = p.months[-1]
    sources = {"subscribers_shared_msisdn": ["subscribers"], "subscribers_repeated_id": ["subscribers"],
               "memberships_repeated_row": ["memberships"], "memberships_two_groups": ["memberships"],
               "msisdn_formats": ["subscribers", "memberships", "billing"]}[kind]
    if any(s in p.gbk_sources for s in sources):
        return [], []  # the writer of a GBK source is the feature under test there
    quarantined: list[dict] = []
    accepted: list[dict] = []
    files = {s: _snapshot(landing, s, month, destroyed) for s in sources}
    if not all(files.values()):
        return [], []

    def rows_of(cf: _File) -> list[dict]:
        return [dict(zip(cf.header, _fields(r))) for r in cf.rows]

    changed: list[_File] = []

    def append(cf: _File, row: dict) -> int:
        cf.rows.append(_line([row[c] for c in cf.header]))
        if cf not in changed:
            changed.append(cf)
        return len(cf.rows)

    def expect(source: str, cf: _File, row_number: int, column: str, reason: str, value: str) -> None:
        quarantined.append(dict(source=source, file=cf.rel, row_number=row_number, column=column, kind=kind,
                                reason=reason, value=value))

    def legit(source: str, cf: _File, row_number: int, what: str) -> None:
        accepted.append(dict(source=source, file=cf.rel, kind=kind, effect=f"accepted: row {row_number}, {what}", rows_lost=0))

    member_files = files.get("memberships") or _snapshot(landing, "memberships", month, set())
    members = rows_of(member_files[0]) if member_files else []
    if "subscribers" in files:
        first, last = files["subscribers"][0], files["subscribers"][-1]
        in_group = {m["msisdn"] for m in members if not m["left_at"]}
        # active lines of the first file, registered members first (their memberships then follow a conflict)
        active = sorted(((i, r) for i, r in enumerate(rows_of(first)) if r["status"] == "active"),
                        key=lambda ir: ir[1]["msisdn"] not in in_group)
        numbers = {r["msisdn"] for cf in files["subscribers"] for r in rows_of(cf)}
        picks = [active[0], *(active[1 + int(k)] for k in rng.choice(len(active) - 1, size=2, replace=False))]
    if kind == "subscribers_shared_msisdn":
        (ia, a), (ib, b), (ic, c) = picks
        row = append(last, a | {"subscriber_id": a["subscriber_id"] + "B", "activated_at": f"{month}-10", "closed_at": ""})
        expect("subscribers", first, ia + 1, "msisdn", REASON_SHARED_MSISDN, a["msisdn"])
        expect("subscribers", last, row, "msisdn", REASON_SHARED_MSISDN, a["msisdn"])
        # the number's earlier holder, closed before the active line was activated: a recycled number
        row = append(last, b | {"subscriber_id": b["subscriber_id"] + "R", "status": "closed",
                                "activated_at": "2015-03-01", "closed_at": "2016-03-01"})
        legit("subscribers", last, row, f"closed line with the number of active {b['subscriber_id']}")
        # the contract holds a number unique among active lines only: a suspended one may share it
        row = append(last, c | {"subscriber_id": c["subscriber_id"] + "S", "status": "suspended"})
        legit("subscribers", last, row, f"suspended line with the number of active {c['subscriber_id']}")
    elif kind == "subscribers_repeated_id":
        (_, a), (_, b) = picks[:2]
        row = append(last, dict(a))  # the same row delivered again, in the last file: read after the first
        expect("subscribers", last, row, "subscriber_id", "duplicate subscriber_id", a["subscriber_id"])
        other = b["msisdn"]
        while other in numbers:
            other = "1" + "".join(str(d) for d in rng.integers(0, 10, 10))
        row = append(last, b | {"msisdn": other})  # the id again, with another (unused) number
        expect("subscribers", last, row, "subscriber_id", "duplicate subscriber_id", b["subscriber_id"])
    elif kind == "memberships_repeated_row":
        cf = files["memberships"][0]
        m = members[int(rng.integers(len(members)))]
        row = append(cf, dict(m))
        expect("memberships", cf, row, "group_id", "duplicate group_id, msisdn, joined_at", m["group_id"])
    elif kind == "memberships_two_groups":
        cf = files["memberships"][0]
        groups = [r for g in _snapshot(landing, "groups", month, set()) for r in rows_of(g) if r["status"] == "active"]
        once = {}
        for r in members:
            once[r["msisdn"]] = None if r["msisdn"] in once else r
        single = [(i, r) for i, r in enumerate(members) if once.get(r["msisdn"]) is r and not r["left_at"]]
        (ix, x), (_, y) = [single[int(k)] for k in rng.choice(len(single), size=2, replace=False)]
        other = [g["group_id"] for g in groups if g["group_id"] not in (x["group_id"], y["group_id"])]
        g2, g3 = other[int(rng.integers(len(other)))], other[int(rng.integers(len(other)))]
        row = append(cf, x | {"group_id": g2, "joined_at": f"{month}-05", "member_role": "member"})
        expect("memberships", cf, ix + 1, "msisdn", REASON_TWO_GROUPS, x["msisdn"])
        expect("memberships", cf, row, "msisdn", REASON_TWO_GROUPS, x["msisdn"])
        # in another group until the day it joined its group: one group at a time
        before = (dt.date.fromisoformat(y["joined_at"]) - dt.timedelta(days=400)).isoformat()
        row = append(cf, y | {"group_id": g3, "joined_at": before, "left_at": y["joined_at"], "member_role": "member"})
        legit("memberships", cf, row, f"member of {g3} until it joined {y['group_id']}")
    elif kind == "msisdn_formats":
        (_, a) = picks[0]
        n = a["msisdn"]
        for text in (f"+86{n}", f"86{n}", f"+86 {n[:3]} {n[3:7]} {n[7:]}"):
            row = append(last, a | {"msisdn": text})  # the same subscriber, its number as another system writes it
            expect("subscribers", last, row, "msisdn", REASON_FORMAT, text)
        cf = files["memberships"][0]
        m = members[int(rng.integers(len(members)))]
        row = append(cf, m | {"msisdn": "+86" + m["msisdn"]})
        expect("memberships", cf, row, "msisdn", REASON_FORMAT, "+86" + m["msisdn"])
        bf = files["billing"][-1]
        bill = rows_of(bf)[0]
        row = append(bf, bill | {"msisdn": "86" + bill["msisdn"]})
        expect("billing", bf, row, "msisdn", REASON_FORMAT, "86" + bill["msisdn"])
    for cf in changed:
        cf.save()
        destroyed.add(cf.path)
    return quarantined, accepted
