"""Malformed input of the kinds operators really receive, injected into a clean landing zone.

Every broken row is written to `truth/faults.csv` (source, file, row_number, column, kind, reason,
value) and every broken file or partition to `truth/fault_files.csv`, so that ingest can be checked
against exactly what was broken. Row faults are only put into CSV files (Parquet is typed by its
writer); a row gets at most one fault, so its expected reason is unambiguous.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groupscope.synth.params import SynthParams


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
]  # fmt: skip

FILE_FAULTS = ["cdr_truncated_gzip", "cdr_corrupt_parquet", "cdr_missing_day", "cdr_extra_column"]
ALL_KINDS = [f.kind for f in ROW_FAULTS] + FILE_FAULTS
ROWS_PER_KIND_AND_MONTH = 3


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
    unknown = kinds - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown))} (known: {', '.join(ALL_KINDS)})")
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
        value=value,
    )


def _write_csv(path: Path, cols: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
