"""Shared fixtures: small generated operators, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams

SMALL = dict(months=("2026-09", "2026-10"), subscribers=2500, seed=11)


@pytest.fixture(scope="session")
def small_operator(tmp_path_factory) -> tuple[Path, Path]:
    """A clean two-month landing zone and its truth folder."""
    root = tmp_path_factory.mktemp("op")
    generate(SynthParams(**SMALL), root / "landing")
    return root / "landing", root / "landing_truth"


@pytest.fixture(scope="session")
def faulty_operator(tmp_path_factory) -> tuple[Path, Path]:
    """The same operator as small_operator, with every kind of fault injected."""
    root = tmp_path_factory.mktemp("opf")
    generate(SynthParams(**SMALL, faults=True), root / "landing")
    return root / "landing", root / "landing_truth"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


PG_URL = os.environ.get("GROUPSCOPE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The real PostgreSQL of this machine. Skips locally when absent; under CI=true it must be there."""
    import sqlalchemy as sa

    try:
        with sa.create_engine(PG_URL).connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any failure to connect
        if in_ci():
            pytest.fail(f"PostgreSQL required under CI=true but unreachable at {PG_URL}: {e}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    return PG_URL


@pytest.fixture()
def pg_schema(pg_url):
    """A fresh schema in the test database, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    name = f"gs_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(pg_url)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {name}"))
    yield name
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))


CAMPAIGN_MONTHS = ("2026-09", "2026-10", "2026-11")


@pytest.fixture(scope="session")
def campaign_month1(tmp_path_factory) -> dict[str, Path]:
    """A three-month operator (small, for the win-over campaign cycle) with only its first month run,
    on the embedded database: the state in which a campaign is created. Tests copy it."""
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("campaign_op")
    generate(SynthParams(months=CAMPAIGN_MONTHS, subscribers=1000, seed=11), root / "landing")
    cfg_file = root / "groupscope.yaml"
    cfg_file.write_text(f"work_dir: {root / 'work'}\nvalidation:\n  gx_sample_rows: 2000\n", encoding="utf-8")
    assert main(["run", "--landing", str(root / "landing"), "--period", CAMPAIGN_MONTHS[0], "--config", str(cfg_file)]) == 0
    return {"root": root, "landing": root / "landing", "truth": root / "landing_truth", "work": root / "work",
            "config": cfg_file}


def copy_campaign_state(state: dict[str, Path], dest: Path) -> dict[str, Path]:
    """A private copy of campaign_month1 (landing, truth, work dir with its embedded database)."""
    import shutil

    for name in ("landing", "landing_truth", "work"):
        shutil.copytree(state["root"] / name, dest / name)
    cfg_file = dest / "groupscope.yaml"
    cfg_file.write_text(f"work_dir: {dest / 'work'}\nvalidation:\n  gx_sample_rows: 2000\n", encoding="utf-8")
    return {"root": dest, "landing": dest / "landing", "truth": dest / "landing_truth", "work": dest / "work",
            "config": cfg_file}


def pytest_unconfigure(config):
    """After pytest's summary: keep DuckDB's bindings' teardown leak report (see groupscope.console.batch_mode)
    out of the test output."""
    import atexit

    from groupscope.console import silence_teardown

    atexit.register(silence_teardown)  # at exit, once pytest has given the terminal its file descriptors back
