"""Monthly tables from a SQL source (the real PostgreSQL here): same validation, quarantine names the table."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from groupscope.config import config_from_dict
from groupscope.errors import StopRun
from pipelines.run import ingest_period

PERIOD = "2026-10"


def _bills(landing) -> list[dict]:
    rows = []
    for f in sorted(landing.glob(f"billing/month={PERIOD}/*.csv")):
        with open(f, encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


@pytest.mark.postgres
def test_billing_from_postgres(small_operator, pg_url, pg_schema, tmp_path):
    landing, _ = small_operator
    bills = _bills(landing)
    eng = sa.create_engine(pg_url)
    with eng.begin() as c:
        c.execute(
            sa.text(
                f"""CREATE TABLE {pg_schema}.bills (
                bill_id text PRIMARY KEY, msisdn text, bill_month text, voice_fee numeric(12,2),
                data_fee numeric(12,2), sms_fee numeric(12,2), vas_fee numeric(12,2), discount numeric(12,2),
                total_due numeric(12,2), paid_amount numeric(12,2), paid_at timestamp, extra_note text)"""
            )
        )
        for b in bills:
            b = {k: (v if v != "" else None) for k, v in b.items()}
            b["extra_note"] = "x"
            c.execute(
                sa.text(
                    f"INSERT INTO {pg_schema}.bills VALUES (:bill_id, :msisdn, :bill_month, :voice_fee, :data_fee, "
                    ":sms_fee, :vas_fee, :discount, :total_due, :paid_amount, :paid_at, :extra_note)"
                ),
                b,
            )
        # a bill whose total does not add up, and one of another month that must not be read
        c.execute(sa.text(f"UPDATE {pg_schema}.bills SET total_due = total_due + 1 WHERE bill_id = :i"), {"i": bills[5]["bill_id"]})
        c.execute(sa.text(f"UPDATE {pg_schema}.bills SET bill_month = '2026-09' WHERE bill_id = :i"), {"i": bills[7]["bill_id"]})
    cfg = config_from_dict(
        {
            "work_dir": str(tmp_path / "w"),
            "sources": {"sql": {"billing": {"url": pg_url, "table": f"{pg_schema}.bills", "period_column": "bill_month"}}},
            "validation": {"gx_sample_rows": 5000},
        }
    )
    s = ingest_period(cfg, landing, PERIOD)
    assert s.read["billing"] == len(bills) - 1
    assert s.quarantined["billing"] == 1
    q = [f for f in s.files if f["table"] == "billing"]
    assert q[0]["file"] == f"{pg_schema}.bills"
    # the same source again: unchanged checksum, nothing re-read, same result
    s2 = ingest_period(cfg, landing, PERIOD)
    assert s2.accepted["billing"] == s.accepted["billing"]


@pytest.mark.postgres
def test_unreachable_or_missing_sql_source_stops_the_run(small_operator, pg_url, tmp_path):
    landing, _ = small_operator
    for url, table, msg in [
        (pg_url, "public.no_such_table_here", "does not exist"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/test", "bills", "unreachable"),
    ]:
        cfg = config_from_dict(
            {"work_dir": str(tmp_path / "w"), "sources": {"sql": {"billing": {"url": url, "table": table}}}}
        )
        with pytest.raises(StopRun, match=msg):
            ingest_period(cfg, landing, PERIOD)
