"""Daily: stage and quarantine one day of call records (cdr/dt=YYYY-MM-DD), one run per day partition."""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, dag, task
from groupscope_common import CDR_STAGED, dag_settings, run_stage


@dag(
    dag_id="groupscope_cdr_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),  # one run per calendar day, after it
    max_active_runs=4,
    **dag_settings(__doc__, ["ingest"]),
)
def groupscope_cdr_daily():
    @task(outlets=[CDR_STAGED])
    def stage_cdr_day(params=None, data_interval_start=None, outlet_events=None):
        from pipelines import stages

        day = data_interval_start.strftime("%Y-%m-%d")
        cfg = stages.config(params["work_dir"])
        out = run_stage("stage cdr day", stages.stage_cdr_day, cfg, params["landing"], day)
        outlet_events[CDR_STAGED].extra = {"period": out["period"], "day": day}
        return out

    stage_cdr_day()


groupscope_cdr_daily()
