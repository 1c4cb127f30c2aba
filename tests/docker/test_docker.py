"""docker/: the compose file validates against the compose specification, the Dockerfile passes hadolint,
and the commands the services run work here (Docker itself cannot run on this machine)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE = ROOT / "docker" / "docker-compose.yml"


def _run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def test_compose_file_follows_the_compose_specification():
    r = _run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_passes_hadolint():
    r = _run(str(BIN / "hadolint"), "--no-color", str(ROOT / "docker" / "Dockerfile"))
    assert r.returncode == 0, r.stdout + r.stderr


def _services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_compose_runs_airflow_3_services_on_local_executor_with_the_landing_mounted():
    s = _services()
    assert {"postgres", "airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor"} <= set(s)
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor"):
        env = s[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert any(v.endswith(":/opt/groupscope/landing:ro") for v in s[name]["volumes"])
        assert env["GROUPSCOPE_PSEUDONYM_KEY"].startswith("${")  # from the environment, not the file


@pytest.mark.parametrize("service", ["airflow-api-server", "airflow-scheduler", "airflow-dag-processor"])
def test_long_running_service_commands_exist_with_their_arguments(service):
    # the image's entrypoint runs `airflow <command>`; --help checks the command and its options parse
    cmd = _services()[service]["command"]
    r = _run(str(BIN / "airflow"), *cmd, "--help", env=os.environ | {"AIRFLOW_HOME": str(ROOT / ".pytest_cache" / "af-help")})
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.postgres
def test_init_service_command_migrates_airflow_and_sets_up_reporting_roles(pg_url, tmp_path):
    script = _services()["airflow-init"]["command"][-1]
    parts = [shlex.split(p) for p in script.split("&&")]
    assert parts[0] == ["airflow", "db", "migrate"]
    assert parts[1][:3] == ["groupscope", "db", "grant"] and parts[1][3] == "--db"
    env = os.environ | {"AIRFLOW_HOME": str(tmp_path / "af")}
    r = _run(str(BIN / "airflow"), *parts[0][1:], env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    schema = f"gs_{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "gs.yaml"
    cfg.write_text(f"reporting:\n  schema_name: {schema}\n  restricted_schema: {schema}_r\n"
                   f"  bi_role: {schema}_bi\n  am_role: {schema}_am\n", encoding="utf-8")
    r = _run(str(BIN / "groupscope"), *parts[1][1:3], "--db", pg_url, "--config", str(cfg), "--work-dir", str(tmp_path))
    try:
        assert r.returncode == 0, r.stderr
        assert f"{schema}_bi" in r.stdout
    finally:
        eng = sa.create_engine(pg_url)
        with eng.begin() as c:
            for s in (schema, f"{schema}_r"):
                c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{s}" CASCADE'))
            for role in (f"{schema}_bi", f"{schema}_am"):
                c.execute(sa.text(f'DROP OWNED BY "{role}"'))
                c.execute(sa.text(f'DROP ROLE "{role}"'))
        eng.dispose()
