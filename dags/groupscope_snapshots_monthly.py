"""Monthly: stage and quarantine the month's snapshot tables (groups, subscribers, memberships, billing,
account managers, surveys, campaign feedback) and the reference tables."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task
from groupscope_common import DEFAULT_ARGS, SNAPSHOTS_STAGED, landing_default, run_stage, work_dir_default


@dag(
    dag_id="groupscope_snapshots_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),  # one run per calendar month, after it
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,
    default_args=DEFAULT_ARGS,
    params={"landing": Param(landing_default(), type="string"), "work_dir": Param(work_dir_default(), type="string")},
    tags=["groupscope", "ingest"],
    doc_md=__doc__,
)
def groupscope_snapshots_monthly():
    @task(outlets=[SNAPSHOTS_STAGED])
    def stage_snapshots(params=None, data_interval_start=None, outlet_events=None):
        from pipelines import stages

        period = data_interval_start.strftime("%Y-%m")
        cfg = stages.config(params["work_dir"])
        out = run_stage("stage snapshots", stages.stage_snapshots, cfg, params["landing"], period)
        outlet_events[SNAPSHOTS_STAGED].extra = {"period": period}
        return out

    stage_snapshots()


groupscope_snapshots_monthly()
