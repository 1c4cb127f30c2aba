"""Hostile and broken deliveries, one fault at a time in a tiny generated month.

For every fault kind: the right quarantine reason, or one line on stderr and exit 2; rows counted from
the files = accepted + quarantined + unexpected; and after the fault is removed, a re-run on the same
work directory gives exactly what a clean run from scratch gives (staged and quarantined Parquet, row
counts).

Great Expectations re-validates staged data that these faults never reach; it is the slowest part of an
ingest (about 80% of one on this month), so most tests here replace it (`no_gx`); the first test runs it.
"""

from __future__ import annotations

import csv
import errno
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from groupscope.config import config_from_dict
from groupscope.errors import StopRun
from groupscope.synth.faults import CONFLICT_KINDS, FORMULA_NAME, ROW_FAULTS, inject_faults
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.cli import main
from pipelines.export import spreadsheet_safe
from pipelines.run import ingest_period

PERIOD = "2026-02"
TINY = SynthParams(months=(PERIOD,), subscribers=300, seed=5)
NEW_ROW_KINDS = [
    "cdr_int64_overflow", "billing_decimal_overflow", "cdr_outside_day", "cdr_implausible_duration",
    "cdr_sms_duration", "cdr_control_characters", "cdr_long_text",
]


def cfg_for(work: Path, severity: dict | None = None, **extra):
    data = {"work_dir": str(work), "validation": {"gx_sample_rows": 1000, "severity": severity or {}}}
    for k, v in extra.items():
        data.setdefault(k, {}).update(v) if isinstance(v, dict) else data.__setitem__(k, v)
    return config_from_dict(data)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    generate(TINY, root / "landing")
    return root / "landing"


@pytest.fixture()
def no_gx(monkeypatch):
    monkeypatch.setattr("pipelines.run.run_great_expectations", lambda *a, **k: ([], None))


def _outputs(work: Path) -> dict[str, str]:
    """Digest of every staged and quarantined Parquet file (names carry the source's checksum)."""
    return {
        p.relative_to(work).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for d in ("staged", "quarantine")
        for p in sorted((work / d).rglob("*.parquet"))
    }


def _counts(s) -> tuple:
    return s.read, s.accepted, s.quarantined, s.unexpected


@pytest.fixture(scope="module")
def clean_run(tiny, tmp_path_factory):
    work = tmp_path_factory.mktemp("clean-work")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("pipelines.run.run_great_expectations", lambda *a, **k: ([], None))
        s = ingest_period(cfg_for(work), tiny, PERIOD)
    return work, s


def _faulty(tiny: Path, tmp_path: Path, *kinds: str) -> tuple[Path, list[dict], list[dict]]:
    landing = tmp_path / "landing"
    shutil.copytree(tiny, landing, symlinks=True)
    truth = tmp_path / "truth"
    inject_faults(landing, truth, replace(TINY, faults=True, fault_kinds=kinds))
    with open(truth / "faults.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(truth / "fault_files.csv", encoding="utf-8", newline="") as fh:
        files = list(csv.DictReader(fh))
    return landing, rows, files


def _work_copy(clean_run, tmp_path: Path) -> Path:
    """A work directory where the clean month was already run: a faulty delivery then re-stages only what
    changed, as it would in production (and keeps these tests fast)."""
    work = tmp_path / "work"
    shutil.copytree(clean_run[0], work)
    return work


def _remove_fault(tiny: Path, landing: Path) -> None:
    for p in landing.rglob("*"):
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(landing)
    shutil.copytree(tiny, landing, symlinks=True)


def _assert_clean_rerun(tiny, landing, work, clean_run):
    _remove_fault(tiny, landing)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    clean_work, clean = clean_run
    assert _counts(s) == _counts(clean)
    assert _outputs(work) == _outputs(clean_work)


def _quarantine(work: Path) -> list[dict]:
    return [r for p in sorted((work / "quarantine").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def _cli_run(landing: Path, work: Path, capsys) -> tuple[int, str]:
    rc = main(["run", "--landing", str(landing), "--period", PERIOD, "--work-dir", str(work)])
    err = capsys.readouterr().err
    return rc, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---- row faults: a quarantine row with the right reason -------------------------------------------


@pytest.mark.parametrize("kind", NEW_ROW_KINDS)
def test_row_fault_is_quarantined_with_its_reason(kind, tiny, tmp_path, clean_run, no_gx):
    landing, injected, _ = _faulty(tiny, tmp_path, kind)
    assert len(injected) == 3, injected
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    got = {(q["file"], q["row_number"]): (q["column"], q["reason"]) for q in _quarantine(work)}
    want = {(f["file"], int(f["row_number"])): (f["column"], f["reason"]) for f in injected}
    assert got == want
    assert {f.reason for f in ROW_FAULTS if f.kind == kind} == {r for _, r in got.values()}
    assert s.balanced
    raws = {q["raw"] for q in _quarantine(work)}
    assert all(any(f["value"][:200] in r for r in raws) for f in injected)  # the value as it was delivered
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_plausibility_bounds_are_configurable_and_restage(tiny, tmp_path, clean_run, no_gx):
    work = _work_copy(clean_run, tmp_path)
    base = ingest_period(cfg_for(work), tiny, PERIOD)
    strict = cfg_for(work, {"quarantine_share": "warning"}, validation={"plausibility": {"max_call_duration_s": 60}})
    s = ingest_period(strict, tiny, PERIOD)
    assert s.quarantined["cdr"] > base.quarantined["cdr"] + 100
    reasons = {q["reason"] for q in _quarantine(work)}
    assert "duration_s above 60 s for a call" in reasons
    assert _counts(ingest_period(cfg_for(work), tiny, PERIOD)) == _counts(base)  # rules changed back: re-read


# ---- file faults ------------------------------------------------------------------------------------


def test_corrupt_parquet_pages_stop_with_one_line(tiny, tmp_path, capsys, clean_run):
    """With Great Expectations on: the whole ingest, as `groupscope run` does it."""
    landing, _, files = _faulty(tiny, tmp_path, "cdr_corrupt_pages")
    work = tmp_path / "work"
    rc, err = _cli_run(landing, work, capsys)
    line = _one_line(err)
    assert rc == 2
    assert "cdr: files_readable failed" in line and files[0]["file"] in line and "corrupt parquet" in line
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_parquet_epoch_start_time_keeps_what_was_there(tiny, tmp_path, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_epoch_start_time")
    work = _work_copy(clean_run, tmp_path)
    ingest_period(cfg_for(work), landing, PERIOD)
    f = files[0]["file"]
    epoch = pq.read_table(landing / f)["start_time"][0].as_py()
    assert isinstance(epoch, int)
    rows = [q for q in _quarantine(work) if q["file"] == f]
    assert len(rows) == int(files[0]["rows_lost"])
    assert {q["reason"] for q in rows} == {"start_time not a valid datetime (stored as int64 in Parquet)"}
    assert f",{epoch}," in rows[0]["raw"]
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_parquet_time_with_a_time_zone_is_read_in_local_time(tiny, tmp_path, clean_run, no_gx):
    import pyarrow as pa
    import pyarrow.compute as pc

    landing = tmp_path / "landing"
    shutil.copytree(tiny, landing)
    f = sorted(landing.glob("cdr/dt=*/*.parquet"))[0]
    t = pq.read_table(f)
    local = t["start_time"]
    i = t.schema.get_field_index("start_time")
    utc = pc.cast(pc.subtract(local, pa.scalar(8 * 3600 * 10**6, pa.duration("us"))), pa.timestamp("s"))
    pq.write_table(t.set_column(i, "start_time", utc.cast(pa.timestamp("s", tz="UTC"))), f)  # Asia/Shanghai is UTC+8
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    entry = next(e for e in s.files if e["file"] == f.relative_to(landing).as_posix())
    staged = pq.read_table(work / "staged" / "cdr" / entry["partition"] / entry["staged"])
    assert staged["start_time"].to_pylist() == local.to_pylist() and entry["quarantined"] == 0
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_file_the_process_may_not_read(tiny, tmp_path, capsys, clean_run, monkeypatch, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_unreadable_file")
    bad = (landing / files[0]["file"]).resolve()
    if os.geteuid() == 0:  # root reads a mode-000 file: make the open fail as it does for anyone else
        import pipelines.ingest as ingest

        real = ingest.sha256_of

        def denied(path):
            if Path(path).resolve() == bad:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(ingest, "sha256_of", denied)
    work = _work_copy(clean_run, tmp_path)
    rc, err = _cli_run(landing, work, capsys)
    line = _one_line(err)
    assert rc == 2 and files[0]["file"] in line and "Permission denied" in line
    monkeypatch.undo()
    monkeypatch.setattr("pipelines.run.run_great_expectations", lambda *a, **k: ([], None))
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_truncated_gzip_of_a_gbk_source_is_an_unreadable_file(tiny, tmp_path, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_truncated_gzip")
    cfg = cfg_for(_work_copy(clean_run, tmp_path), sources={"encodings": {"cdr": "gbk"}})
    with pytest.raises(StopRun) as e:
        ingest_period(cfg, landing, PERIOD)
    assert "cdr: files_readable failed" in str(e.value) and files[0]["file"] in str(e.value)
    assert "gzip" in str(e.value) and "\n" not in str(e.value)
    _assert_clean_rerun(tiny, landing, Path(cfg.work_dir), clean_run)  # read as UTF-8 again: re-staged


def test_a_file_not_read_is_a_file_level_quarantine_row_and_the_accounting_says_so(tiny, tmp_path, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_truncated_gzip")
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work, {"files_readable": "warning"}), landing, PERIOD)
    entry = next(f for f in s.files if f["file"] == files[0]["file"])
    assert entry["status"] == "unreadable"
    rows = [q for q in _quarantine(work) if q["row_number"] is None]
    assert [(q["source"], q["file"]) for q in rows] == [("cdr", entry["file"])]
    assert rows[0]["reason"].startswith("file unreadable, none of its rows read (rows unknown): ")
    assert "truncated or corrupt gzip" in rows[0]["reason"] and rows[0]["raw"] is None
    assert s.not_read["cdr"] == 1 and not s.balanced
    assert "+ 1 file(s) not read, rows unknown" in s.text()
    _assert_clean_rerun(tiny, landing, work, clean_run)  # the file-level row goes with the file


def test_zero_byte_file_is_reported_and_the_month_goes_on(tiny, tmp_path, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_empty_file")
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    entry = next(f for f in s.files if f["file"] == files[0]["file"])
    assert entry["status"] == "empty" and entry["rows_read"] == 0
    check = next(c for c in s.checks if c["expectation"] == "empty_files")
    assert check["severity"] == "warning" and files[0]["file"] in check["observed"]
    assert _counts(s) == _counts(clean_run[1])
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_default_faults_block_by_default_and_the_example_config_completes_them(tiny, tmp_path, clean_run, no_gx):
    from groupscope.config import load_config
    from groupscope.synth.faults import blocking_checks

    landing = tmp_path / "landing"
    shutil.copytree(tiny, landing)
    truth = tmp_path / "truth"
    inject_faults(landing, truth, replace(TINY, faults=True))  # what `generate --faults` injects
    assert blocking_checks(truth) == ["days_complete", "files_readable"]
    work = _work_copy(clean_run, tmp_path)
    with pytest.raises(StopRun):
        ingest_period(cfg_for(work), landing, PERIOD)
    import json

    checks = json.loads((work / "runs" / f"period={PERIOD}" / "summary.json").read_text())["checks"]
    assert {"days_complete", "files_readable"} <= {c["expectation"] for c in checks
                                                   if not c["success"] and c["severity"] == "blocking"}
    example = Path(__file__).resolve().parents[2] / "docs" / "faults.example.yaml"
    s = ingest_period(load_config(example, work_dir=str(tmp_path / "work")), landing, PERIOD)
    failed = {c["expectation"] for c in s.checks if not c["success"]}
    assert {"days_complete", "files_readable"} <= failed
    assert all(c["severity"] == "warning" for c in s.checks if not c["success"])


def test_quiet_run_keeps_warnings_on_stderr_and_prints_only_the_report_path(tiny, tmp_path, capsys, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_empty_file")
    work = _work_copy(clean_run, tmp_path)
    for quiet in (["-q"], []):
        rc = main([*quiet, "run", "--landing", str(landing), "--period", PERIOD, "--work-dir", str(work)])
        out, err = capsys.readouterr()
        assert rc == 0 and "warning: cdr: empty_files: 1 0-byte file(s)" in err and files[0]["file"] in err, err
        assert "empty_files" not in out and "[warning]" not in out  # results only on stdout
        assert out.strip().splitlines()[-1].startswith("report: ")
        if quiet:
            assert len(out.strip().splitlines()) == 1


def test_a_gbk_source_read_as_utf8_stops_naming_the_reason_and_the_setting(tiny, tmp_path, capsys, clean_run, no_gx):
    landing = tmp_path / "landing"
    shutil.copytree(tiny, landing)
    for f in landing.glob("groups/month=*/*.csv"):
        f.write_bytes(f.read_text(encoding="utf-8").encode("gbk"))
    rc, err = _cli_run(landing, _work_copy(clean_run, tmp_path), capsys)
    line = _one_line(err)
    assert rc == 2 and "groups: rows_present failed: 0 rows accepted" in line
    assert "most quarantined rows: not valid UTF-8 (" in line and "sources.encodings.groups: gbk" in line
    work = _work_copy(clean_run, tmp_path / "again")
    s = ingest_period(cfg_for(work, sources={"encodings": {"groups": "gbk"}}), landing, PERIOD)
    assert s.accepted["groups"] == clean_run[1].accepted["groups"] and s.quarantined["groups"] == 0


def test_groups_file_with_header_only_stops_with_one_line(tiny, tmp_path, capsys, clean_run, no_gx):
    landing, _, _ = _faulty(tiny, tmp_path, "groups_header_only")
    work = _work_copy(clean_run, tmp_path)
    rc, err = _cli_run(landing, work, capsys)
    assert rc == 2 and "groups: rows_present failed: 0 rows accepted" in _one_line(err)
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_file_name_with_glob_characters_is_read_by_its_exact_name(tiny, tmp_path, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_glob_name")
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    entry = next(f for f in s.files if f["file"] == files[0]["file"])
    assert (entry["rows_read"], entry["accepted"], entry["quarantined"]) == (1, 1, 0)
    assert "?" not in entry["staged"]
    assert _counts(s) == _counts(clean_run[1])  # the row moved, nothing duplicated
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_upper_case_extension_is_read(tiny, tmp_path, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_upper_case_ext")
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    entry = next(f for f in s.files if f["file"] == files[0]["file"])
    assert entry["status"] == "ok" and entry["accepted"] > 0
    assert _counts(s) == _counts(clean_run[1])
    _assert_clean_rerun(tiny, landing, work, clean_run)


@pytest.mark.parametrize("kind", ["cdr_sub_folder", "cdr_malformed_partition", "cdr_bz2"])
def test_files_outside_the_layout_are_reported_with_their_rows(kind, tiny, tmp_path, capsys, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, kind)
    rows = sum(int(f["rows_lost"]) for f in files)
    assert rows > 0
    work = _work_copy(clean_run, tmp_path)
    rc, err = _cli_run(landing, work, capsys)  # blocking by default
    line = _one_line(err)
    assert rc == 2 and "cdr: unexpected_files failed" in line and f"{rows} data row(s) not read" in line
    assert all(f["file"] in line for f in files)
    # as a warning the month goes on; every row of the files is accounted for
    s = ingest_period(cfg_for(work, {"unexpected_files": "warning", "days_complete": "warning"}), landing, PERIOD)
    assert s.unexpected["cdr"] == rows and s.balanced
    assert s.read["cdr"] == s.accepted["cdr"] + s.quarantined["cdr"] + rows == clean_run[1].read["cdr"]
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_stray_entry_of_the_landing_folder_is_reported(tiny, tmp_path, clean_run, no_gx):
    landing = tmp_path / "landing"
    shutil.copytree(tiny, landing)
    (landing / "exports").mkdir()
    (landing / "exports" / "old.csv").write_text("a,b\n1,2\n3,4\n")
    for marker in ("_SUCCESS", f"cdr/dt={PERIOD}-01/_SUCCESS", ".keep"):  # empty markers: not reported
        (landing / marker).write_bytes(b"")
    with pytest.raises(StopRun, match=r"landing: unexpected_files failed: 1 .* 2 data row\(s\) not read: exports \("):
        ingest_period(cfg_for(_work_copy(clean_run, tmp_path)), landing, PERIOD)


def test_link_outside_the_landing_folder_is_refused_unless_allowed(tiny, tmp_path, capsys, clean_run, no_gx):
    landing, _, files = _faulty(tiny, tmp_path, "cdr_symlink_outside")
    work = _work_copy(clean_run, tmp_path)
    rc, err = _cli_run(landing, work, capsys)
    line = _one_line(err)
    assert rc == 2 and "files_readable failed" in line and "resolves outside the landing folder" in line
    outside = landing.parent / f"{landing.name}_outside"
    s = ingest_period(cfg_for(work, sources={"link_roots": [str(outside)]}), landing, PERIOD)
    assert _counts(s) == _counts(clean_run[1])
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_formula_in_a_group_name_is_kept_and_escaped_for_spreadsheets(tiny, tmp_path, clean_run, no_gx):
    landing, _, _ = _faulty(tiny, tmp_path, "groups_formula_name")
    work = _work_copy(clean_run, tmp_path)
    ingest_period(cfg_for(work), landing, PERIOD)
    staged = next((work / "staged" / "groups" / f"month={PERIOD}").glob("*.parquet"))
    assert FORMULA_NAME in pq.read_table(staged)["group_name"].to_pylist()  # data as delivered
    assert spreadsheet_safe(FORMULA_NAME) == "'" + FORMULA_NAME
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_spreadsheet_safe_escapes_formula_starts_only():

    for v in ("=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(v) == "'" + v
    for v in ("集团", "13800138000", "", "a=b", -0.5, 3, None):
        assert spreadsheet_safe(v) == v


def test_export_writer_escapes_cells(tmp_path):
    from pipelines.export import _write

    out = tmp_path / "x.csv"
    _write([("G1", FORMULA_NAME, -0.25)], ["group_id", "group_name", "score"], out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[1] == ["G1", "'" + FORMULA_NAME, "-0.25"]


# ---- re-deliveries, concurrency, the disk -----------------------------------------------------------


def test_withdrawn_delivery_is_restaged_like_a_clean_run(tiny, tmp_path, clean_run, no_gx):
    landing = tmp_path / "landing"
    shutil.copytree(tiny, landing)
    part = landing / "billing" / f"month={PERIOD}"
    lines = (part / "bills-0.csv").read_bytes().split(b"\n")
    (part / "a-early.csv").write_bytes(b"\n".join(lines[:11]) + b"\n")  # 10 bills, read before bills-0
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    dup = [q for q in _quarantine(work) if q["reason"] == "duplicate bill_id"]
    assert len(dup) == 10 and {q["file"] for q in dup} == {f"billing/month={PERIOD}/bills-0.csv"}
    assert s.accepted["billing"] == clean_run[1].accepted["billing"]
    (part / "a-early.csv").unlink()  # the delivery is withdrawn
    s = ingest_period(cfg_for(work), landing, PERIOD)
    assert _counts(s) == _counts(clean_run[1])
    assert _outputs(work) == _outputs(clean_run[0])


def test_second_run_of_a_work_directory_stops_with_one_line(tiny, tmp_path, capsys, no_gx):
    work = tmp_path / "work"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pipelines.guard import work_lock\n"
         f"with work_lock({str(work)!r}):\n print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        rc, err = _cli_run(tiny, work, capsys)
        line = _one_line(err)
        assert rc == 2 and "another run of this work directory is in progress" in line and str(holder.pid) in line
        assert not (work / "runs").exists()  # nothing touched
    finally:
        holder.kill()
        holder.wait()
    t0 = time.time()
    ingest_period(cfg_for(work), tiny, PERIOD)  # the lock went with the process
    assert time.time() - t0 < 120


@pytest.mark.parametrize("error", ["oserror", "duckdb"])
def test_full_disk_is_one_line(error, tiny, tmp_path, capsys, monkeypatch, no_gx):
    import duckdb

    import pipelines.ingest as ingest

    def full(*a, **k):
        if error == "oserror":
            raise OSError(errno.ENOSPC, "No space left on device")
        raise duckdb.IOException('IO Error: Could not write file "x.parquet": Async write failed')

    monkeypatch.setattr(ingest, "stage_file", full)
    rc, err = _cli_run(tiny, tmp_path / "work", capsys)
    line = _one_line(err)
    assert rc == 2 and "no space left under the work directory" in line


def test_full_disk_for_real_on_a_small_filesystem(tiny, tmp_path, capsys, no_gx):
    """Where this process may mount a 400 KB tmpfs (root in a container), the real DuckDB and OS errors."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("no privilege to mount a small tmpfs; test_full_disk_is_one_line covers the messages")
    try:
        rc, err = _cli_run(tiny, mnt / "work", capsys)
        assert rc == 2 and "no space left under the work directory" in _one_line(err)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_rows_are_counted_from_the_files(clean_run, tiny):
    _, s = clean_run
    for f in s.files:
        assert f["status"] == "ok"
        src = tiny / f["file"]
        if src.name.endswith(".parquet"):
            n = pq.read_metadata(src).num_rows
        else:
            raw = src.read_bytes()
            n = (gzip.decompress(raw) if src.name.endswith(".gz") else raw).count(b"\n") - 1
        assert f["rows_read"] == n == f["accepted"] + f["quarantined"], f
    assert s.balanced


# ---- rows in conflict with rows already delivered ---------------------------------------------------

FORMAT = "msisdn not an 11-digit mobile number"
# per kind: rows appended to the month (groupscope/synth/faults.py _conflict) and the quarantine they
# must give, counted by hand
CONFLICTS = {
    # a second active line with an active number: both lines go (which one holds the number is unknown);
    # a closed line with another active number (recycled) and a suspended one with a third stay
    "subscribers_shared_msisdn": ({"subscribers": 3}, {("subscribers", "msisdn shared with another active subscriber"): 2}),
    # a row delivered again (one line, not two active lines with one number) and an id again with another
    # number: the later row of each is a duplicate
    "subscribers_repeated_id": ({"subscribers": 2}, {("subscribers", "duplicate subscriber_id"): 2}),
    "memberships_repeated_row": ({"memberships": 1}, {("memberships", "duplicate group_id, msisdn, joined_at"): 1}),
    # a member registered in a second group at once: its row in each group goes; a move into its group
    # from another one, on the day it joined, stays
    "memberships_two_groups": ({"memberships": 2}, {("memberships", "msisdn in another group at the same time"): 2}),
    # one subscriber's number as +86..., 86... and +86 1xx xxxx xxxx, a member's as +86..., a bill's as 86...
    "msisdn_formats": (
        {"subscribers": 3, "memberships": 1, "billing": 1},
        {("subscribers", FORMAT): 3, ("memberships", FORMAT): 1, ("billing", FORMAT): 1},
    ),
}


def _staged_rows(work: Path, table: str) -> list[dict]:
    return [r for p in sorted((work / "staged" / table).rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]


@pytest.mark.parametrize("kind", CONFLICT_KINDS)
def test_conflicting_rows_are_quarantined_together(kind, tiny, tmp_path, clean_run, no_gx):
    from collections import Counter

    appended, reasons = CONFLICTS[kind]
    landing, injected, lookalikes = _faulty(tiny, tmp_path, kind)
    work = _work_copy(clean_run, tmp_path)
    s = ingest_period(cfg_for(work), landing, PERIOD)
    clean = clean_run[1]
    q = _quarantine(work)
    assert Counter((r["source"], r["reason"]) for r in q) == Counter(reasons)
    got = {(r["file"], r["row_number"]): (r["column"], r["reason"]) for r in q}
    assert got == {(f["file"], int(f["row_number"])): (f["column"], f["reason"]) for f in injected}
    for table, n in appended.items():
        out = sum(k for (t, _), k in reasons.items() if t == table)
        assert (s.read[table], s.accepted[table]) == (clean.read[table] + n, clean.accepted[table] + n - out)
    assert s.balanced
    for f in lookalikes:  # legitimate look-alikes are staged
        row = int(f["effect"].split("row ")[1].split(",")[0])
        assert any((r["__file"], r["__row"]) == (f["file"], row) for r in _staged_rows(work, f["source"])), f
    active = Counter(r["msisdn"] for r in _staged_rows(work, "subscribers") if r["status"] == "active")
    assert max(active.values()) == 1
    _assert_clean_rerun(tiny, landing, work, clean_run)


def test_month_with_conflicts_runs_to_the_end_and_loads(tiny, tmp_path, capsys, clean_run):
    """The whole run, Great Expectations included: the rows of the conflicting number's other tables are
    judged by their own rules (accepted, with a referential-integrity warning for the number without a
    subscriber), and the suspended line beside an active one gives the number one value row."""
    import duckdb

    landing, _, _ = _faulty(tiny, tmp_path, "subscribers_shared_msisdn", "memberships_two_groups")
    work = _work_copy(clean_run, tmp_path)
    rc = main(["run", "--landing", str(landing), "--period", PERIOD, "--work-dir", str(work)])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err, err
    assert out.strip().splitlines()[-1].startswith("report: ")
    con = duckdb.connect(str(work / "reporting.duckdb"), read_only=True)
    try:
        counts = dict(con.execute(
            "SELECT reason, sum(rows) FROM groupscope.fact_quarantine_count WHERE period = ? GROUP BY reason", [PERIOD]
        ).fetchall())
        assert counts == {"msisdn shared with another active subscriber": 2, "msisdn in another group at the same time": 2}
        read, accepted, quarantined = con.execute(
            "SELECT sum(rows_read), sum(accepted), sum(quarantined) FROM groupscope.fact_source_rows WHERE period = ?", [PERIOD]
        ).fetchone()
        assert read == accepted + quarantined
        n, numbers = con.execute(
            "SELECT count(*), count(DISTINCT number_key) FROM groupscope.fact_subscriber_value WHERE period = ?", [PERIOD]
        ).fetchone()
        assert n == numbers > 0
        warned = con.execute(
            "SELECT source, observed FROM groupscope.fact_data_quality WHERE period = ? AND NOT success "
            "AND expectation = 'referential_integrity' AND severity = 'warning' ORDER BY source", [PERIOD],
        ).fetchall()
    finally:
        con.close()
    # the number lost its subscriber lines; its bill and its membership stay, each named by the check
    assert [(t, o.split(" of ")[0]) for t, o in warned] == [("billing", "1"), ("memberships", "1")], warned
