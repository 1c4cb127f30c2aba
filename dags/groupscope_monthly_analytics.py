"""Monthly group analytics, scheduled on the staging assets: when a day of calls or a month's snapshots
is staged, check whether that month is complete and, if so, validate it, build the call graph, member
scores, potential members, market share and value, load the reporting database, write the lists and
the month's HTML report.

Set `period` (YYYY-MM) in the run's conf to run a given month by hand or in a backfill.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from groupscope_common import (
    CDR_STAGED,
    REPORTING_LOADED,
    SNAPSHOTS_STAGED,
    dag_settings,
    reporting_url,
    run_stage,
)


@dag(
    dag_id="groupscope_monthly_analytics",
    schedule=(CDR_STAGED | SNAPSHOTS_STAGED),
    max_active_runs=1,
    **dag_settings(
        __doc__,
        ["analytics"],
        period=Param("", type="string", pattern=r"^([0-9]{4}-(0[1-9]|1[0-2]))?$",
                     description="YYYY-MM; empty: the month of the triggering asset event"),
    ),
)
def groupscope_monthly_analytics():
    @task
    def resolve_period(params=None, triggering_asset_events=None) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        if params["period"]:
            return params["period"]
        periods = sorted(
            ev.extra["period"] for events in (triggering_asset_events or {}).values() for ev in events
            if ev.extra and ev.extra.get("period")
        )
        if not periods:
            raise AirflowFailException("groupscope resolve period: no period in the run conf or the asset events")
        return periods[-1]

    @task.short_circuit
    def month_complete(period: str, params=None) -> bool:
        from pipelines import stages

        state = stages.month_ready(stages.config(params["work_dir"]), period)
        print(f"period {period}: " + ("complete" if state["ready"] else f"waiting for {state['missing']}"))
        return state["ready"]

    @task
    def validate(period: str, params=None) -> dict:
        from pipelines import stages

        cfg = stages.config(params["work_dir"])
        return run_stage("validate", stages.validate_month, cfg, params["landing"], period, reporting_url())

    @task
    def call_graph(period: str, params=None) -> str:
        from pipelines import stages

        return run_stage("calls", stages.compute_calls, stages.config(params["work_dir"]), period)

    @task
    def group_analytics(period: str, params=None) -> dict:
        from pipelines import stages

        return run_stage("group analytics", stages.compute_group_analytics, stages.config(params["work_dir"]), period)

    @task
    def value(period: str, params=None) -> dict:
        from pipelines import stages

        return run_stage("value", stages.compute_value, stages.config(params["work_dir"]), period)

    @task(outlets=[REPORTING_LOADED])
    def load(period: str, validated: dict, params=None) -> dict:
        from pipelines import stages

        cfg = stages.config(params["work_dir"])
        return run_stage("load", stages.load, cfg, period, reporting_url(), validated["run_id"])

    @task
    def export(period: str, params=None) -> dict:
        from pipelines import stages

        return run_stage("export", stages.export_all, stages.config(params["work_dir"]), period, reporting_url())

    @task
    def report(period: str, params=None) -> str:
        from pipelines import stages

        return run_stage("report", stages.write_report, stages.config(params["work_dir"]), period, reporting_url())

    period = resolve_period()
    ready = month_complete(period)
    checked = validate(period)
    calls = call_graph(period)
    groups = group_analytics(period)
    values = value(period)
    loaded = load(period, checked)
    ready >> checked >> calls >> groups >> values >> loaded >> [export(period), report(period)]


groupscope_monthly_analytics()
