"""The fault truth lists exactly the rows and files that --faults broke."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from groupscope.synth.faults import ALL_KINDS
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams


def _lines(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.split(b"\n")[1:-1]


def _read_truth(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_fault_truth_lists_exactly_the_broken_rows(small_operator, faulty_operator):
    clean, _ = small_operator
    faulty, truth = faulty_operator
    faults = _read_truth(truth / "faults.csv")
    files = _read_truth(truth / "fault_files.csv")
    assert {f["kind"] for f in faults} | {f["kind"] for f in files} == set(ALL_KINDS)
    file_level = {f["file"] for f in files}
    expected = {(f["file"], int(f["row_number"])) for f in faults}
    differing = set()
    for path in sorted(clean.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(clean).as_posix()
        if rel in file_level or any(rel.startswith(d + "/") for d in file_level):
            continue
        if rel.endswith(".parquet"):
            assert path.read_bytes() == (faulty / rel).read_bytes(), rel
            continue
        a, b = _lines(path), _lines(faulty / rel)
        assert len(a) == len(b), rel  # nothing inserted or dropped
        differing |= {(rel, i + 1) for i, (x, y) in enumerate(zip(a, b)) if x != y}
    assert differing == expected


def test_file_faults_are_what_they_say(faulty_operator):
    faulty, truth = faulty_operator
    files = {f["kind"]: f for f in _read_truth(truth / "fault_files.csv")}
    with pytest.raises((EOFError, OSError)):
        gzip.decompress((faulty / files["cdr_truncated_gzip"]["file"]).read_bytes())
    import pyarrow.parquet as pq

    with pytest.raises(Exception):  # noqa: B017 - any reader error is the point
        pq.read_table(faulty / files["cdr_corrupt_parquet"]["file"])
    assert not (faulty / files["cdr_missing_day"]["file"]).exists()
    header = _lines_with_header(faulty / files["cdr_extra_column"]["file"])
    assert header.endswith(b'imei')
    assert int(files["cdr_missing_day"]["rows_lost"]) > 0


def _lines_with_header(path: Path) -> bytes:
    return path.read_bytes().split(b"\n")[0]


def test_broken_rows_carry_the_injected_values(faulty_operator):
    faulty, truth = faulty_operator
    for f in _read_truth(truth / "faults.csv"):
        line = _lines(faulty / f["file"])[int(f["row_number"]) - 1]
        if f["kind"] == "groups_gbk_bytes":
            with pytest.raises(UnicodeDecodeError):
                line.decode("utf-8")
        else:
            assert f["value"].encode() in line or f["value"].replace('"', '""').encode() in line, f


def test_unknown_fault_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown fault kinds: nope"):
        generate(SynthParams(months=("2026-10",), subscribers=300, faults=True, fault_kinds=("nope",)), tmp_path / "l")


def test_generator_options_that_would_do_nothing_are_refused():
    with pytest.raises(ValueError, match="faults are off"):
        SynthParams(months=("2026-10",), subscribers=300, fault_kinds=("cdr_outside_day",))
    with pytest.raises(ValueError, match="unknown table.*GBK: nosuch"):
        SynthParams(months=("2026-10",), subscribers=300, gbk_sources=("nosuch",))
