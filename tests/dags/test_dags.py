"""The Airflow DAGs: they parse fast without heavy imports, follow Airflow 3 style, and run end to end
with dag.test() into the real PostgreSQL (two months, a re-run that changes nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.dags.conftest import DAGS, ROOT

DAG_IDS = {"groupscope_cdr_daily", "groupscope_snapshots_monthly", "groupscope_monthly_analytics",
           "groupscope_campaign_launch", "groupscope_campaign_followup"}

PARSE_PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
out = {}
for path in sys.argv[1:]:
    t = time.perf_counter()
    bag = DagBag(dag_folder=path)
    out[path] = {"seconds": time.perf_counter() - t, "errors": {k: str(v) for k, v in bag.import_errors.items()},
                 "dags": sorted(bag.dag_ids)}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pipelines", "great_expectations", "duckdb", "transforms"))
print(json.dumps({"files": out, "heavy": heavy}))
"""


def test_dag_files_parse_without_errors_fast_and_without_heavy_imports():
    files = sorted(str(p) for p in DAGS.glob("groupscope_*.py") if p.name != "groupscope_common.py")
    r = subprocess.run([sys.executable, "-c", PARSE_PROBE, *files], capture_output=True, text=True,
                       env=os.environ | {"PYTHONPATH": f"{DAGS}:{ROOT}"}, check=True)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    found = set()
    for path, info in res["files"].items():
        assert info["errors"] == {}, path
        assert info["seconds"] < 2.0, (path, info["seconds"])
        found |= set(info["dags"])
    assert found == DAG_IDS
    assert res["heavy"] == []  # pipeline code is imported inside tasks, never at parse time


def test_dags_are_airflow_3_style():
    ruff = os.path.join(os.path.dirname(sys.executable), "ruff")
    r = subprocess.run([ruff, "check", "--select", "AIR3", "--no-cache", str(DAGS)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    text = "\n".join(p.read_text() for p in DAGS.glob("*.py"))
    assert "from airflow.sdk import" in text
    for old in ("airflow.decorators", "airflow.models.dag", "airflow.operators.python", "airflow.datasets"):
        assert old not in text


def test_a_data_problem_fails_the_task_naming_the_stage_without_retry():
    from airflow.sdk.exceptions import AirflowFailException
    from groupscope_common import run_stage

    from groupscope.errors import StopRun

    def broken():
        raise StopRun("memberships: columns_present failed: missing column msisdn")

    with pytest.raises(AirflowFailException, match=r"^groupscope validate: memberships: columns_present failed"):
        run_stage("validate", broken)


@pytest.fixture(scope="module")
def two_months(tmp_path_factory):
    from groupscope.synth.generate import generate
    from groupscope.synth.params import SynthParams

    root = tmp_path_factory.mktemp("af")
    generate(SynthParams(months=("2026-09", "2026-10"), subscribers=2500, seed=5), root / "landing")
    return root


def _snapshot(eng, schema):
    from groupscope.reporting import models

    names = {models.REPORTING: schema, models.RESTRICTED: f"{schema}_r"}
    out = {}
    with eng.connect() as c:
        for t in models.metadata.sorted_tables:
            if t.name != "fact_pipeline_run":
                cols = ", ".join(f'"{k}"' for k in t.c.keys())
                out[t.name] = sorted(map(tuple, c.execute(sa.text(f'SELECT {cols} FROM "{names[t.schema]}"."{t.name}"'))))
    return out


@pytest.mark.postgres
def test_dags_run_two_months_end_to_end_into_postgres(two_months, airflow_db, pg_url, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    schema = f"gs_af_{uuid.uuid4().hex[:6]}"
    cfg_file = two_months / "groupscope.yaml"
    cfg_file.write_text(f"reporting:\n  schema_name: {schema}\n  restricted_schema: {schema}_r\n"
                        "validation:\n  gx_sample_rows: 5000\n", encoding="utf-8")
    monkeypatch.setenv("GROUPSCOPE_CONFIG", str(cfg_file))
    monkeypatch.setenv("GROUPSCOPE_PSEUDONYM_KEY", "dag-test-key-0123456789")
    monkeypatch.setenv("AIRFLOW_CONN_GROUPSCOPE_REPORTING", pg_url.replace("postgresql+psycopg://", "postgresql://"))
    conf = {"landing": str(two_months / "landing"), "work_dir": str(two_months / "work")}
    bag = DagBag(dag_folder=str(DAGS))
    daily, monthly, analytics = (bag.get_dag(d) for d in
                                 ("groupscope_cdr_daily", "groupscope_snapshots_monthly", "groupscope_monthly_analytics"))
    eng = sa.create_engine(pg_url)

    def states(dr):
        return {ti.task_id: ti.state for ti in dr.get_task_instances()}

    try:
        for period, start, days in (("2026-09", datetime(2026, 9, 1, tzinfo=UTC), 30),
                                    ("2026-10", datetime(2026, 10, 1, tzinfo=UTC), 31)):
            # a run is for the interval that ended at its logical date: the day (month) before
            month_end = start + timedelta(days=days)
            assert monthly.test(logical_date=month_end, run_conf=conf).state == "success"
            for d in range(days):
                if d == 1:  # the month is not complete yet: the analytics run stops politely
                    dr = analytics.test(run_conf=conf | {"period": period})
                    assert dr.state == "success" and states(dr)["validate"] == "skipped"
                dr = daily.test(logical_date=start + timedelta(days=d + 1), run_conf=conf)
                assert dr.state == "success", (period, d)
            dr = analytics.test(run_conf=conf | {"period": period})
            assert dr.state == "success" and set(states(dr).values()) == {"success"}, states(dr)
        with eng.connect() as c:
            per = dict(c.execute(sa.text(f"SELECT period, count(*) FROM {schema}.fact_group_month GROUP BY 1")).fetchall())
            trend = c.execute(sa.text(
                f"SELECT count(*) FROM {schema}.v_market_share_trend WHERE period = '2026-10' AND previous_market_share IS NOT NULL"
            )).scalar()
        assert set(per) == {"2026-09", "2026-10"} and min(per.values()) > 10
        assert trend > 10  # the month-over-month trend reads both months
        exports = two_months / "work" / "exports" / "period=2026-10"
        assert (exports / "worklists").is_dir()
        for name in ("fake-members", "potential-members", "group-summary", "quarantine", "prospect-groups"):
            assert (exports / f"{name}.csv").read_text(encoding="utf-8").count("\n") >= 1, name
        # the month's HTML report, read from PostgreSQL: both months in the market-share trend
        report = (two_months / "work" / "reports" / "period=2026-10" / "report.html").read_text(encoding="utf-8")
        assert 'data-chart="market_trend"' in report and "months loaded: 2026-09, 2026-10" in report
        assert 'id="calls"' in report and "Only one month is loaded" not in report
        # re-running a month changes nothing
        before = _snapshot(eng, schema)
        dr = analytics.test(run_conf=conf | {"period": "2026-09"})
        assert dr.state == "success"
        assert _snapshot(eng, schema) == before
    finally:
        with eng.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_r" CASCADE'))
        eng.dispose()
