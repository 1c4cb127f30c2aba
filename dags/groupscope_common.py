"""Shared wiring of the groupscope DAGs: assets, retry policy, settings from the environment and from
Airflow connections. Cheap to import: no pipeline code is imported at parse time."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param

# Emitted when a day of call records is staged, and when a month's snapshot tables are staged; the event's
# extra carries the period (and day) so the monthly analytics knows which month to consider.
CDR_STAGED = Asset(uri="groupscope://staged/cdr", name="groupscope_cdr_staged")
SNAPSHOTS_STAGED = Asset(uri="groupscope://staged/snapshots", name="groupscope_snapshots_staged")
REPORTING_LOADED = Asset(uri="groupscope://reporting/month", name="groupscope_reporting_loaded")

# Infrastructure hiccups are retried with backoff; a data problem (StopRun) fails at once (see run_stage).
DEFAULT_ARGS = {
    "owner": "groupscope",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}

REPORTING_CONN_ID = "groupscope_reporting"


def dag_settings(doc: str | None, tags: list[str], **params: Param) -> dict:
    """Keyword arguments every groupscope DAG shares: start, no automatic catch-up (backfills are
    explicit), retries, the landing and work-dir params (plus `params`), tags and docs."""
    return {
        "start_date": datetime(2026, 1, 1),
        "catchup": False,
        "default_args": DEFAULT_ARGS,
        "params": {
            "landing": Param(landing_default(), type="string", description="LANDING folder"),
            "work_dir": Param(work_dir_default(), type="string", description="groupscope work_dir"),
            **params,
        },
        "tags": ["groupscope", *tags],
        "doc_md": doc,
    }


def landing_default() -> str:
    return os.environ.get("GROUPSCOPE_LANDING", "/opt/groupscope/landing")


def work_dir_default() -> str:
    return os.environ.get("GROUPSCOPE_WORK_DIR", "/opt/groupscope/work")


def reporting_url() -> str | None:
    """The reporting database from the Airflow connection `groupscope_reporting` (for instance
    AIRFLOW_CONN_GROUPSCOPE_REPORTING=postgresql://user:pass@host:5432/db); without it, the embedded
    DuckDB file under the work dir."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(REPORTING_CONN_ID)
    except AirflowNotFoundException:
        return None
    return conn.get_uri()  # groupscope.reporting.db.database_url picks the driver


def run_stage(stage: str, fn, *args, **kwargs):
    """Call a pipeline stage; a data problem fails the task without retries, naming the stage and reason."""
    from airflow.sdk.exceptions import AirflowFailException

    from groupscope.console import batch_mode
    from groupscope.errors import StopRun

    batch_mode()  # no progress bars in task logs, no teardown noise of DuckDB's bindings
    try:
        return fn(*args, **kwargs)
    except StopRun as e:
        raise AirflowFailException(f"groupscope {stage}: {e}") from None
