"""The value stage on a month in which no line closed (issue 12: it used to stop on `CAST(nan AS DOUBLE)`)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from pipelines.value import retention_model
from transforms.sql import num


def _subscribers(con, closed: int):
    con.execute("CREATE OR REPLACE TABLE subscribers (activated_at DATE, closed_at DATE)")
    rows = [["2020-01-15", None]] * 500 + [["2024-06-01", None]] * 500
    rows += [["2022-03-01", "2026-10-12"]] * closed
    con.executemany("INSERT INTO subscribers VALUES (?, ?)", rows)


def test_no_closure_and_no_history_is_a_stated_fallback():
    con = duckdb.connect()
    _subscribers(con, closed=0)
    r = retention_model(con, "2026-10")
    assert (r.alpha, r.beta, r.method, r.at_risk, r.churned) == (None, None, "no_churn_observed", 1000, 0)
    d = r.residual_lifetimes(np.arange(0, 5), 0.008)
    # half a closure among 1000 lines: p = 0.0005 a month; discounted lifetime sum_k ((1 - p) / 1.008)^k
    q = (1 - 0.0005) / 1.008
    expected = q * (1 - q**2000) / (1 - q)
    assert np.allclose(d, expected) and all(math.isfinite(x) for x in d)


def test_no_closure_keeps_the_previous_periods_model(tmp_path):
    con = duckdb.connect()
    prev = tmp_path / "retention_model.parquet"
    con.execute(f"COPY (SELECT 0.7 AS alpha, 3.5 AS beta) TO '{prev}' (FORMAT parquet)")
    _subscribers(con, closed=0)
    r = retention_model(con, "2026-10", prev)
    assert (r.alpha, r.beta, r.method) == (0.7, 3.5, "previous_period")
    con.register("after", pa.table({"x": [1]}))  # no result left open on the connection (build_value registers next)


def test_closures_are_fitted():
    con = duckdb.connect()
    _subscribers(con, closed=12)
    r = retention_model(con, "2026-10")
    assert r.method == "sbg" and r.churned == 12 and r.alpha > 0 and r.beta > 0


def test_sql_numbers_refuse_nan_and_infinity():
    assert num(None) == "CAST(NULL AS DOUBLE)"
    assert num(0.25) == "CAST(0.25 AS DOUBLE)"
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="no SQL literal"):
            num(bad)
