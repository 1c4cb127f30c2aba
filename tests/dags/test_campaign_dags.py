"""The campaign DAGs run a whole win-over cycle with dag.test() on the embedded database: launch
(create, select, assign, targets) in month 1, the field's answers simulated from the truth, months 2
and 3 run, then the follow-up of month 2 (its feedback, evaluation with the bills through month 3).
A bad setting fails its task at once, naming the step."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.conftest import CAMPAIGN_MONTHS, copy_campaign_state
from tests.dags.conftest import DAGS

M1, M2, M3 = CAMPAIGN_MONTHS


def test_campaign_dags_run_a_whole_cycle(campaign_month1, tmp_path, airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from groupscope.config import load_config
    from groupscope.reporting import db, models
    from groupscope.synth.campaigns import simulate_campaign
    from pipelines.cli import main

    st = copy_campaign_state(campaign_month1, tmp_path)
    monkeypatch.setenv("GROUPSCOPE_CONFIG", str(st["config"]))
    monkeypatch.delenv("AIRFLOW_CONN_GROUPSCOPE_REPORTING", raising=False)
    bag = DagBag(dag_folder=str(DAGS))
    launch, followup = bag.get_dag("groupscope_campaign_launch"), bag.get_dag("groupscope_campaign_followup")
    conf = {"landing": str(st["landing"]), "work_dir": str(st["work"])}

    def states(dr):
        return {ti.task_id: ti.state for ti in dr.get_task_instances()}

    bad = launch.test(run_conf=conf | {"name": "bad", "period": M1, "criteria": ["colour=red"]})
    assert bad.state == "failed" and states(bad)["create"] == "failed"
    dr = launch.test(run_conf=conf | {"name": "airflow win-back", "period": M1, "criteria": ["on_net=false"],
                                      "offer_cost": 100.0, "budget": 100000.0, "capacity": 1000, "holdout": 0.2})
    assert dr.state == "success" and set(states(dr).values()) == {"success"}, states(dr)
    targets = next(ti for ti in dr.get_task_instances() if ti.task_id == "targets").xcom_pull(task_ids="targets")
    assert Path(targets).is_file()
    cid = Path(targets).parent.name
    assert list(Path(targets).parent.glob("worklist-*.csv"))
    # the field's answers in month 2, ports and bills in months 2 and 3; both months run
    simulate_campaign(st["landing"], targets, [M2, M3], st["truth"], seed=2)
    for period in (M2, M3):
        assert main(["run", "--landing", str(st["landing"]), "--period", period, "--config", str(st["config"])]) == 0
    # the follow-up of month 2: its feedback, then every campaign evaluated with the bills loaded (through month 3)
    dr = followup.test(run_conf=conf | {"period": M2})
    assert dr.state == "success" and set(states(dr).values()) == {"success"}, states(dr)
    from pipelines.campaigns import stage_feedback

    assert stage_feedback(load_config(st["config"]), str(st["landing"]), M3)["read"] == 0  # none delivered: nothing to do
    cfg = load_config(st["config"])
    eng = db.make_engine(cfg)
    with eng.connect() as c:
        camp = c.execute(sa.select(models.campaign.c.status).where(models.campaign.c.campaign_id == cid)).scalar()
        ev = c.execute(sa.select(models.campaign_evaluation).where(models.campaign_evaluation.c.campaign_id == cid,
                                                                   models.campaign_evaluation.c.level == "campaign")).one()
        fb = c.execute(sa.select(sa.func.count()).select_from(models.campaign_feedback)).scalar()
    eng.dispose()
    assert camp == "evaluated" and ev.evaluated_through == M3 and ev.converted > 0 and fb == ev.targets
    assert ev.billed > 0 and ev.uplift > 0
