"""The synthetic operator: deterministic, contract-conformant, consistent with its ground truth."""

from __future__ import annotations

import csv
import gzip
import hashlib
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from groupscope.contract import CDR, INPUT_TABLES, file_format
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _csv_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    rows = list(csv.reader(raw.decode(encoding).splitlines()))
    return rows[0], rows[1:]


def _table_of(rel: str) -> str:
    first = rel.split("/")[0]
    return Path(rel).name.split(".")[0] if first == "reference" else first


def _valid_calendar(col_type: str, v: str) -> bool:
    if v == "":
        return True
    if col_type == "date":
        date.fromisoformat(v)
    elif col_type == "datetime":
        datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
    return True


def test_same_arguments_same_bytes(tmp_path):
    p = SynthParams(months=("2026-10",), subscribers=800, seed=3, faults=True)
    generate(p, tmp_path / "a" / "landing")
    generate(p, tmp_path / "b" / "landing")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    generate(SynthParams(months=("2026-10",), subscribers=800, seed=4), tmp_path / "c" / "landing")
    assert _digest(tmp_path / "a" / "landing") != _digest(tmp_path / "c" / "landing")


def test_truth_is_beside_landing_never_inside(tmp_path):
    with pytest.raises(ValueError, match="inside LANDING"):
        generate(SynthParams(months=("2026-10",), subscribers=300), tmp_path / "l", tmp_path / "l" / "truth")


def test_every_table_matches_the_contract(small_operator):
    landing, _ = small_operator
    seen = set()
    for path in sorted(landing.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(landing).as_posix()
        fmt = file_format(rel)
        assert fmt is not None, f"not a contract file ending: {rel}"
        table = INPUT_TABLES[_table_of(rel)]
        seen.add(table.name)
        if table.partitioning == "month":
            assert rel.startswith(f"{table.name}/month=20"), rel
        if table.partitioning == "day":
            assert rel.startswith("cdr/dt=2026-"), rel
        if fmt == "parquet":
            schema = pq.read_schema(path)
            assert schema.names == table.column_names, rel
            continue
        header, rows = _csv_rows(path)
        assert header == table.column_names, rel
        for row in rows:
            assert len(row) == len(header), (rel, row)
            for col, v in zip(table.columns, row):
                assert col.accepts_text(v), (rel, col.name, v)
                assert _valid_calendar(col.type, v)
    assert seen == set(INPUT_TABLES) - {"campaign_feedback"}


def test_parquet_cdr_values_conform(small_operator):
    landing, _ = small_operator
    f = next(iter(sorted(landing.glob("cdr/dt=*/*.parquet"))))
    t = pq.read_table(f).to_pylist()
    assert t
    for row in t[:2000]:
        for col in CDR.columns:
            v = row[col.name]
            text = "" if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else str(v))
            assert col.accepts_text(text), (col.name, v)


def test_formats_and_partitions(small_operator):
    landing, _ = small_operator
    endings = {file_format(p.name) for p in landing.glob("cdr/dt=*/*")}
    assert endings == {"csv", "csv.gz", "parquet"}
    days = sorted(p.name for p in landing.glob("cdr/dt=*"))
    assert len(days) == 30 + 31 and days[0] == "dt=2026-09-01" and days[-1] == "dt=2026-10-31"
    assert len(list(landing.glob("billing/month=2026-10/*.csv"))) == 2  # many files per partition


def test_billing_totals_reconcile_to_the_fen(small_operator):
    landing, _ = small_operator
    n = 0
    for f in landing.glob("billing/month=*/*.csv"):
        header, rows = _csv_rows(f)
        ix = {c: i for i, c in enumerate(header)}
        for r in rows:
            fen = {c: round(float(r[ix[c]]) * 100) for c in ("voice_fee", "data_fee", "sms_fee", "vas_fee", "discount", "total_due")}
            assert fen["voice_fee"] + fen["data_fee"] + fen["sms_fee"] + fen["vas_fee"] - fen["discount"] == fen["total_due"]
            n += 1
    assert n > 1000


def _month_csv(root: Path, table: str, month: str) -> list[dict]:
    """Rows of a landing table's month partition, or of a truth table (truth/month=M/table.csv)."""
    out = []
    paths = sorted(root.glob(f"{table}/month={month}/*.csv")) + sorted(root.glob(f"month={month}/{table}.csv"))
    for f in paths:
        header, rows = _csv_rows(f)
        out += [dict(zip(header, r)) for r in rows]
    return out


def test_truth_is_consistent(small_operator):
    landing, truth = small_operator
    month = "2026-10"
    members = _month_csv(truth, "members", month)
    registered = {(m["group_id"], m["msisdn"]) for m in _month_csv(landing, "memberships", month) if not m["left_at"]}
    # every truth member (real or fake) is a registered member at month end, and the reverse
    assert {(m["group_id"], m["msisdn"]) for m in members} == registered
    fakes = [m for m in members if m["is_fake"] == "true"]
    share = len(fakes) / len(members)
    assert 0.04 < share < 0.16, share
    assert {m["fake_kind"] for m in fakes} == {"relative", "resold", "dormant"}
    # a number belongs to at most one group
    assert len({m["msisdn"] for m in members}) == len(members)
    # every true employee belongs to exactly one company and at most one group
    employees = _month_csv(truth, "employees", month)
    assert len({e["msisdn"] for e in employees}) == len(employees)
    subs = {s["msisdn"] for s in _month_csv(landing, "subscribers", month) if s["status"] != "closed"}
    for e in employees:
        if e["on_net"] == "true":
            assert e["msisdn"] in subs
            assert e["carrier"] == "CMCC"
        else:
            assert e["carrier"] != "CMCC"
    # registered real members are on-net employees of their group, or the company's data lines
    emp_group = {e["msisdn"]: e["group_id"] for e in employees}
    for m in members:
        if m["member_kind"] in ("data_card", "iot"):
            assert m["is_fake"] == "false" and m["msisdn"] not in emp_group
        elif m["is_fake"] == "false":
            assert emp_group[m["msisdn"]] == m["group_id"]
        else:
            assert emp_group.get(m["msisdn"], "") != m["group_id"]
    groups = _month_csv(truth, "groups", month)
    for g in groups:
        assert int(g["true_headcount"]) == int(g["onnet_employees"]) + int(g["offnet_employees"])
        assert int(g["listed_members"]) == int(g["registered_real"]) + int(g["registered_fake"])
    active = [g for g in groups if g["status"] == "active"]
    assert max(int(g["listed_members"]) for g in active) <= 2000
    assert min(int(g["listed_members"]) for g in active) >= 1  # tiny groups of 1-3 lines
    offnet = [int(g["offnet_employees"]) / int(g["true_headcount"]) for g in active if int(g["true_headcount"]) >= 20]
    assert 0.25 < sum(offnet) / len(offnet) < 0.65


def _national(n: str) -> str:
    for p in ("+86", "0086", "17951", "12593", "17911", "10193"):
        if n.startswith(p) and len(n) - len(p) == 11:
            return n[len(p):]
    if n.startswith("86") and len(n) == 13:
        return n[2:]
    return n


def test_on_net_calls_appear_as_matching_moc_and_mtc(small_operator):
    landing, _ = small_operator
    home = {s["msisdn"] for s in _month_csv(landing, "subscribers", "2026-10")}
    rows = []
    for f in sorted(landing.glob("cdr/dt=2026-10-01/*.csv")):
        header, rs = _csv_rows(f)
        rows += [dict(zip(header, r)) for r in rs]
    mtc = {}
    for r in rows:
        if r["record_type"] == "MTC":
            mtc.setdefault((r["served_msisdn"], _national(r["other_party"]), r["duration_s"]), []).append(
                datetime.strptime(r["start_time"], "%Y-%m-%d %H:%M:%S")
            )
    on_net_moc = [r for r in rows if r["record_type"] == "MOC" and _national(r["other_party"]) in home]
    assert len(on_net_moc) > 100
    matched = 0
    for r in on_net_moc:
        t = datetime.strptime(r["start_time"], "%Y-%m-%d %H:%M:%S")
        cands = mtc.get((_national(r["other_party"]), r["served_msisdn"], r["duration_s"]), [])
        matched += any(0 <= (c - t).total_seconds() <= 2 for c in cands)
    # every on-net MOC has its MTC twin (a callee whose subscription began or ended that day may lack it)
    assert matched / len(on_net_moc) > 0.99


def test_number_noise_and_services_are_present(small_operator):
    landing, _ = small_operator
    _, rows = _csv_rows(next(iter(sorted(landing.glob("cdr/dt=2026-10-01/*.csv")))))
    others = [r[3] for r in rows]
    assert any(o.startswith("+86") for o in others)
    assert any(o.startswith("0086") for o in others)
    assert any(o.startswith("17951") or o.startswith("12593") for o in others)
    assert any(o.startswith("0") and not o.startswith("0086") for o in others)  # fixed lines
    assert any(o in ("10086", "95588") for o in others)


def test_gbk_source_is_written_in_gbk(tmp_path):
    generate(SynthParams(months=("2026-10",), subscribers=400, gbk_sources=("groups",)), tmp_path / "l")
    raw = next(iter((tmp_path / "l").glob("groups/month=2026-10/*.csv"))).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "有限公司" in raw.decode("gbk") or "学" in raw.decode("gbk")
