"""Daily: stage and quarantine one day of call records (cdr/dt=YYYY-MM-DD), one run per day partition."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task
from groupscope_common import CDR_STAGED, DEFAULT_ARGS, landing_default, run_stage, work_dir_default


@dag(
    dag_id="groupscope_cdr_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),  # one run per calendar day, after it
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    default_args=DEFAULT_ARGS,
    params={"landing": Param(landing_default(), type="string"), "work_dir": Param(work_dir_default(), type="string")},
    tags=["groupscope", "ingest"],
    doc_md=__doc__,
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
