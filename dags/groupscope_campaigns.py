"""Win-over (策反) campaigns, two DAGs on the pipeline's campaign stages (pipelines/campaigns.py):

- groupscope_campaign_launch, triggered by hand with the campaign's settings: create the campaign on a
  loaded month's results, select its targets, assign them and write one worklist per account manager
  and the targets list;
- groupscope_campaign_followup, after every monthly load (or by hand for a `period`): take the month's
  campaign feedback, then evaluate every approached campaign with the bills loaded so far.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from groupscope_common import REPORTING_LOADED, dag_settings, reporting_url, run_stage

PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


@dag(
    dag_id="groupscope_campaign_launch",
    schedule=None,
    max_active_runs=1,
    **dag_settings(
        __doc__,
        ["campaigns"],
        name=Param("win-over", type="string", minLength=1, description="campaign name"),
        period=Param("2026-01", type="string", pattern=PERIOD, description="YYYY-MM whose potential members to select from"),
        criteria=Param([], type="array", items={"type": "string"},
                       description="KEY=VALUE criteria, e.g. on_net=false, min_score=0.5 (groupscope campaign create --help)"),
        offer_cost=Param(100.0, type="number", description="cost per approached target, yuan"),
        budget=Param(10000.0, type="number", description="budget for approached targets, yuan"),
        capacity=Param(50, type="integer", description="targets one account manager can work"),
        holdout=Param(0.1, type="number", description="share of targets held out to measure uplift"),
        seed=Param(1, type="integer", description="seed of tie-breaks and of the hold-out draw"),
    ),
)
def groupscope_campaign_launch():
    @task
    def create(params=None) -> str:
        from pipelines import campaigns, stages

        cfg = stages.config(params["work_dir"])
        return run_stage("campaign create", campaigns.create_campaign, cfg, params["name"], params["period"],
                         list(params["criteria"]), float(params["offer_cost"]), float(params["budget"]),
                         int(params["capacity"]), float(params["holdout"]), int(params["seed"]), None, reporting_url())

    @task
    def select(campaign_id: str, params=None) -> dict:
        from pipelines import campaigns, stages

        return run_stage("campaign select", campaigns.select_campaign, stages.config(params["work_dir"]), campaign_id,
                         reporting_url())

    @task
    def assign(campaign_id: str, params=None) -> dict:
        from pipelines import campaigns, stages

        return run_stage("campaign assign", campaigns.assign_campaign, stages.config(params["work_dir"]), campaign_id,
                         None, reporting_url())

    @task
    def targets(campaign_id: str, params=None) -> str:
        from pipelines import campaigns, stages

        return run_stage("campaign targets", campaigns.stage_targets, stages.config(params["work_dir"]), campaign_id,
                         reporting_url())

    cid = create()
    chosen = select(cid)
    assigned = assign(cid)
    chosen >> assigned >> targets(cid)


@dag(
    dag_id="groupscope_campaign_followup",
    schedule=[REPORTING_LOADED],
    max_active_runs=1,
    **dag_settings(
        __doc__,
        ["campaigns"],
        period=Param("", type="string", pattern=r"^([0-9]{4}-(0[1-9]|1[0-2]))?$",
                     description="YYYY-MM of the feedback to take; empty: the latest loaded month"),
        tranches=Param(5, type="integer", minimum=1, description="tranches of targets by rank"),
    ),
)
def groupscope_campaign_followup():
    @task
    def resolve_period(params=None) -> str:
        from pipelines import campaigns, stages

        if params["period"]:
            return params["period"]
        return run_stage("campaign period", campaigns.latest_loaded_period, stages.config(params["work_dir"]),
                         reporting_url())

    @task
    def feedback(period: str, params=None) -> dict:
        from pipelines import campaigns, stages

        return run_stage("campaign feedback", campaigns.stage_feedback, stages.config(params["work_dir"]),
                         params["landing"], period, reporting_url())

    @task
    def evaluate(params=None) -> dict:
        from pipelines import campaigns, stages

        return run_stage("campaign evaluate", campaigns.evaluate_all, stages.config(params["work_dir"]), reporting_url(),
                         int(params["tranches"]))

    feedback(resolve_period()) >> evaluate()


groupscope_campaign_launch()
groupscope_campaign_followup()
