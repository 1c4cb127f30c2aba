"""Monthly: stage and quarantine the month's snapshot tables (groups, subscribers, memberships, billing,
account managers, surveys, campaign feedback) and the reference tables."""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, dag, task
from groupscope_common import SNAPSHOTS_STAGED, dag_settings, run_stage


@dag(
    dag_id="groupscope_snapshots_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),  # one run per calendar month, after it
    max_active_runs=2,
    **dag_settings(__doc__, ["ingest"]),
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
