"""The command line as a person meets it: one-line errors with documented exit statuses, strict arguments,
quiet logs, progress bars only on a terminal, JSON log lines for collectors."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from groupscope import console
from pipelines import cli

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:  # argparse errors
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv, needle", [
    (["generate", "--out", "x", "--months", "2026-9"], "period must be YYYY-MM, got '2026-9'"),
    (["generate", "--out", "x", "--months", "2026-10,2026-09"], "distinct and in calendar order"),
    (["generate", "--out", "x", "--months", "2026-09", "--subscribers", "0"], "expected a positive number"),
    (["generate", "--out", "x", "--months", "2026-09", "--fake-share", "0.3,0.1"], "LO <= HI"),
    (["generate", "--out", "x", "--months", "2026-09", "--activity", "-1"], "expected a positive number"),
    (["run", "--landing", "x", "--period", "2026-9"], "period must be YYYY-MM, got '2026-9'"),
    (["run", "--landing", "x", "--period", "2026-13"], "got '2026-13'"),
    (["export", "nothing", "--period", "2026-10", "--out", "x"], "invalid choice: 'nothing'"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, needle):
    rc, out, err = _run(capsys, *argv)
    assert rc == cli.EXIT_USAGE == 2
    assert out == "" and len(err.strip().splitlines()) == 1 and needle in err, err


def test_user_errors_are_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("analytics:\n  fake_threshold: [0.5\nvalidation: {}\n", encoding="utf-8")
    rc, _, err = _run(capsys, "config", "--check", str(bad))
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert re.search(r"not valid YAML: line 3, column 11: expected ',' or ']'", err), err
    rc, _, err = _run(capsys, "run", "--landing", str(tmp_path / "nowhere"), "--period", "2026-10",
                      "--work-dir", str(tmp_path / "w"))
    assert rc == 2 and err.strip() == f"groupscope run: landing folder {tmp_path / 'nowhere'} does not exist"


@pytest.mark.parametrize("argv, needle", [
    (["export", "fake-members", "--period", "2026-10", "--out", "{f}/x.csv"], "--out {f}/x.csv: {f} is a file, not a folder"),
    (["export", "group-summary", "--period", "2026-10", "--out", "{d}"], "--out {d}: a folder is there, expected a file"),
    (["export", "worklist", "--period", "2026-10", "--out", "{f}"], "--out {f}: a file is there, expected a folder"),
    (["generate", "--out", "{f}/landing", "--months", "2026-10"], "--out {f}/landing: {f} is a file, not a folder"),
    (["generate", "--out", "{d}/landing", "--truth", "{f}", "--months", "2026-10"], "--truth {f}: a file is there"),
    (["bench", "--out", "{f}/b.json"], "--out {f}/b.json: {f} is a file"),
    (["campaign", "show", "C1", "--targets-out", "{f}/t/t.csv"], "--targets-out {f}/t/t.csv: {f} is a file"),
    (["campaign", "assign", "C1", "--out", "{f}"], "--out {f}: a file is there, expected a folder"),
])
def test_an_output_path_that_cannot_be_written_is_one_line_before_any_work(capsys, tmp_path, argv, needle):
    f, d = tmp_path / "afile", tmp_path / "adir"
    f.write_text("x")
    d.mkdir()
    work = ["--work-dir", str(tmp_path / "w")] if argv[0] in ("export", "campaign") else []
    rc, out, err = _run(capsys, *[a.format(f=f, d=d) for a in argv], *work)
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert needle.format(f=f, d=d) in err and "unexpected" not in err
    assert not (tmp_path / "w").exists()  # nothing was done


def test_help_points_to_the_projects_own_documents(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "docs/contract.md" in out and "CONTRACT.md section" not in out
    assert "--verbose" in out and "--quiet" in out


def test_output_options_before_or_after_the_subcommand():
    p = cli.build_parser()
    a = p.parse_args(["-q", "config"])
    b = p.parse_args(["config", "-q", "-v"])
    assert a.quiet and b.verbose is not None and b.quiet and b.verbose == 1


def test_readme_documents_every_exit_status():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Exit status"):]
    for code in (cli.EXIT_OK, cli.EXIT_FAILURE, cli.EXIT_USAGE, cli.EXIT_INTERRUPTED):
        assert re.search(rf"^\| {code} \|", table, flags=re.M), code


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)
    monkeypatch.delenv("GROUPSCOPE_PROGRESS", raising=False)
    monkeypatch.setitem(console._state, "batch", False)
    monkeypatch.setitem(console._state, "progress", True)
    tty, pipe = _Tty(), io.StringIO()
    for stream in (tty, pipe):
        with console.Progress(3, "ingest partitions", stream=stream) as bar:
            for _ in range(3):
                console.advance()
        assert bar.done == 3
    assert "ingest partitions" in tty.getvalue() and "3/3" in tty.getvalue()
    assert pipe.getvalue() == ""
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "groupscope_monthly_analytics")
    assert not console.progress_enabled(_Tty())
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID")
    monkeypatch.setitem(console._state, "batch", True)
    assert not console.progress_enabled(_Tty())


def test_json_log_lines_carry_the_extra_fields():
    buf = io.StringIO()
    console.setup_logging(0, json_lines=True, stream=buf)
    try:
        console.get_logger("run").info("period %s: load", "2026-10", extra={"stage": "load", "rows": 12})
        console.get_logger("run").debug("not shown at the default level")
    finally:
        console.setup_logging(0, json_lines=False, stream=io.StringIO())
    lines = buf.getvalue().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["msg"] == "period 2026-10: load" and rec["stage"] == "load" and rec["rows"] == 12
    assert rec["level"] == "info" and rec["logger"] == "groupscope.run"


def _python(code: str, tmp_path) -> subprocess.CompletedProcess:
    """Run code as a script file, as a task runs (PySpark's import takes a `python -c` for its doctests)."""
    script = tmp_path / f"script{len(list(tmp_path.iterdir()))}.py"
    script.write_text(code)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_no_library_noise_in_task_logs(tmp_path):
    """Importing groupscope first keeps Great Expectations' import chatter out of an INFO-level log (as
    Airflow's), and batch mode keeps DuckDB's bindings' leak report out of a task's end."""
    setup = "import logging; logging.basicConfig(level=logging.INFO)\n"
    heavy = "import duckdb, sqlalchemy, duckdb_engine, great_expectations\n"
    noisy = _python(setup + heavy, tmp_path)
    assert "Skipping registering function" in noisy.stderr  # the noise exists (and, with DuckDB 2.0, the leak report)
    quiet = _python(setup + "import groupscope\nfrom groupscope.console import batch_mode\nbatch_mode()\n" + heavy
                    + "logging.getLogger('groupscope.x').warning('still logged')\n", tmp_path)
    assert quiet.returncode == 0
    assert quiet.stderr.strip() == "WARNING:groupscope.x:still logged", quiet.stderr[:2000]


def test_library_warnings_keep_flowing_at_warning_level():
    console.setup_logging(0, stream=io.StringIO())
    assert logging.getLogger("great_expectations").getEffectiveLevel() == logging.WARNING


def test_known_library_warnings_are_not_shown_to_users(recwarn):
    import warnings

    buf = io.StringIO()
    with warnings.catch_warnings():
        console.setup_logging(0, stream=buf)
        warnings.warn("This pattern is interpreted as a regular expression, and has match groups.", UserWarning, stacklevel=1)
        warnings.warn("a warning of groupscope's own", UserWarning, stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["a warning of groupscope's own"]


def test_default_stderr_is_warnings_only_and_verbose_adds_stage_lines():
    quiet, verbose = io.StringIO(), io.StringIO()
    console.setup_logging(0, stream=quiet)
    console.get_logger("run").info("period 2026-10: calls")
    console.setup_logging(1, stream=verbose)
    console.get_logger("run").info("period 2026-10: calls")
    console.setup_logging(0, stream=io.StringIO())
    assert quiet.getvalue() == "" and verbose.getvalue() == "period 2026-10: calls\n"


def test_every_option_of_run_export_and_evaluate_has_help():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    for name in ("run", "export", "evaluate"):
        missing = [a.dest for a in sub.choices[name]._actions
                   if a.option_strings and not a.help and a.dest not in ("help",)]
        assert not missing, (name, missing)


def test_the_pipelines_import_in_a_python_c_session():
    """`python -c "from pipelines.run import run_period; ..."` runs its code: with PySpark installed, Great
    Expectations imports pyspark.sql.connect, which exits 0 at import under `-c` when the Spark Connect
    client's dependencies are missing (pyproject.toml pins them)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", "import pipelines.run, expectations.suites; print('imported')"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("imported"), r.stderr[-2000:]
