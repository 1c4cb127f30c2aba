"""Spark parity, executed: one generated month through the DuckDB engine and through Spark (PySpark local
mode), every derived table compared: scores equal to 1e-9, flags, lists and counts identical.

Also the dialect overrides of transforms/sql.py, each checked by running the same query on both engines.
One Spark session for the module (local[2], 1 shuffle partition, no whole-stage code generation)
keeps the runtime modest.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from groupscope.config import config_from_dict
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.analytics import build_group_analytics
from pipelines.calls import build_calls
from pipelines.engine import DuckDBEngine, SparkEngine
from pipelines.run import ingest_period
from pipelines.storage import derived_path
from pipelines.value import build_value
from transforms.calls import calls_sql
from transforms.sql import render

pyspark = pytest.importorskip("pyspark", reason="the dev extra installs pyspark; `make test` runs this")

PERIOD = "2026-10"
DERIVED = [
    "calls", "call_graph", "numbers", "number_activity", "member_scores", "potential_members", "group_summary",
    "market_calibration", "prospect_groups", "prospect_members", "subscriber_value", "retention_model", "group_value",
]
TOL = 1e-9


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]").appName("groupscope-parity")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "2")
        # tiny data: compiling generated code and re-planning adaptively cost more than they save
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
    import logging

    logging.getLogger("py4j").setLevel(logging.WARNING)  # no "closing down" lines after pytest closed its streams


# --- the dialect overrides, each run on both engines -------------------------------------------------


def _both(spark, sql: str, setup: str = "") -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect()
    if setup:
        con.execute(setup)
        for name in [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]:
            spark.createDataFrame(con.sql(f"SELECT * FROM {name}").to_arrow_table()).createOrReplaceTempView(name)
    d = con.execute(sql).fetchall()
    s = [tuple(r) for r in spark.sql(render(sql, "spark")).collect()]
    return d, s


def test_isodow_on_spark_is_iso(spark):
    # 2026-10-05 is a Monday; one week of days, Thursday and Friday included
    sql = "SELECT CAST(d AS DATE) AS day, isodow(d) AS dow, isodow(d) <= 5 AS weekday FROM t ORDER BY day"
    setup = "CREATE TABLE t AS SELECT CAST(x AS TIMESTAMP) AS d FROM range(TIMESTAMP '2026-10-05', TIMESTAMP '2026-10-12', INTERVAL 1 DAY) AS r(x)"
    d, s = _both(spark, sql, setup)
    assert [r[1] for r in d] == [1, 2, 3, 4, 5, 6, 7]
    assert s == d


def test_two_argument_quantile_and_decimal_median_match(spark):
    setup = (
        "CREATE TABLE t AS SELECT i % 3 AS g, i * 1.37 / 3 AS f, CAST(i * 1.37 AS DECIMAL(12, 2)) AS x FROM range(1, 12) AS r(i)"
    )
    # quantile_cont of a DOUBLE (as the transforms use it); the median of a DECIMAL taken as DOUBLE, as
    # transforms.value_scores does: DuckDB would otherwise round it to the input's scale
    sql = (
        "SELECT g, quantile_cont(f, 0.75) AS q, median(CAST(x AS DOUBLE)) AS m, count(*) * 1.0 / 7 AS share "
        "FROM t GROUP BY g ORDER BY g"
    )
    d, s = _both(spark, sql, setup)
    assert len(d) == 3
    for a, b in zip(d, s):
        assert a[0] == b[0]
        assert all(math.isclose(float(x), float(y), rel_tol=0, abs_tol=TOL) for x, y in zip(a[1:], b[1:])), (a, b)


def test_month_boundaries_and_decimal_division(spark):
    setup = "CREATE TABLE t AS SELECT DATE '2026-01-31' AS a, DATE '2026-02-01' AS b, CAST(1 AS DECIMAL(10, 2)) AS n, CAST(3 AS DECIMAL(10, 2)) AS m"
    sql = "SELECT date_diff('month', a, b) AS months, date_diff('day', a, b) AS days, n / m AS ratio FROM t"
    d, s = _both(spark, sql, setup)
    assert d[0][:2] == (1, 1) and s[0][:2] == d[0][:2]
    assert abs(float(s[0][2]) - 1 / 3) < 1e-15 and abs(float(d[0][2]) - 1 / 3) < 1e-15


def test_implausible_surveys_are_left_out_alike_on_spark(spark):
    """The survey rule (median ratio, latest plausible survey per group, left-out counts per scope) on a
    hand-built month in which it acts (the generated month of this file's parity test leaves nothing out):
    G3's latest survey (100000) is left out and its earlier one used, G4's (1 for 30 on-net staff) left out."""
    from transforms import market

    setup = (
        "CREATE TABLE counts AS SELECT * FROM (VALUES ('G1', '10-29', 10, 8, 2.0, 4.0, 2, 2), ('G2', '10-29', 9, 9, 1.0, 6.0, 1, 5), "
        "('G3', '10-29', 5, 5, 0.0, 2.0, 0, 1), ('G4', '30-99', 30, 30, 3.0, 5.0, 1, 2)) "
        "AS t(group_id, size_band, listed_members, onnet_registered_staff, onnet_expected, offnet_expected, onnet_detected, offnet_key_competitor); "
        "CREATE TABLE surveys AS SELECT group_id, surveyed_headcount, CAST(d AS DATE) AS surveyed_at FROM (VALUES "
        "('G1', 20, '2026-10-15'), ('G2', 24, '2026-10-15'), ('G3', 100000, '2026-10-15'), ('G3', 9, '2026-09-15'), "
        "('G4', 1, '2026-10-01')) AS t(group_id, surveyed_headcount, d)"
    )
    rows = f"SELECT group_id, CAST(surveyed_at AS VARCHAR), implausible, used, left_out FROM ({market.surveyed_groups_sql('counts', 'surveys', 4.0)}) AS v ORDER BY 1, 2"
    d, s = _both(spark, rows, setup)
    assert s == d and [r[0] for r in d if r[4]] == ["G3", "G4"] and [r[:2] for r in d if r[3]] == [("G1", "2026-10-15"), ("G2", "2026-10-15"), ("G3", "2026-09-15")]
    cal = (f"SELECT scope, surveys, surveys_excluded, coefficient, rule_coefficient FROM "
           f"({market.calibration_sql('counts', 'surveys', 2, [3, 9, 29, 99], 3.0, 10.0, 4.0)}) AS c ORDER BY 1")
    d, s = _both(spark, cal, setup)
    assert [r[:3] for r in d] == [r[:3] for r in s] and ("global", 3, 2) in [r[:3] for r in d]
    for a, b in zip(d, s):
        assert all(math.isclose(float(x), float(y), rel_tol=0, abs_tol=TOL) for x, y in zip(a[3:], b[3:]) if x is not None), (a, b)


def test_unpaired_mt_is_an_anti_join_not_a_nested_loop(spark):
    plan_sql = render(calls_sql("norm"), "spark")
    assert "NOT IN" not in plan_sql.upper()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE norm AS SELECT 1 AS record_key, 'MOC' AS record_type, '13800000001' AS served_msisdn, "
        "'13800000002' AS other_party, '13800000002' AS other_number, 'mobile' AS other_type, 'CMCC' AS other_carrier, "
        "true AS other_on_net, TIMESTAMP '2026-10-05 10:00:00' AS start_time, 60 AS duration_s, 'c1' AS cell_id, "
        "false AS is_sms, true AS is_mo"
    )
    spark.createDataFrame(con.sql("SELECT * FROM norm").to_arrow_table()).createOrReplaceTempView("norm")
    plan = spark.sql(plan_sql)._jdf.queryExecution().executedPlan().toString()
    assert "NestedLoopJoin" not in plan, plan


# --- a generated month through both engines -----------------------------------------------------------


@pytest.fixture(scope="module")
def both_engines(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    generate(SynthParams(months=(PERIOD,), subscribers=700, seed=23), root / "landing")
    base = {"validation": {"gx_sample_rows": 1000}}
    duck = config_from_dict(base | {"work_dir": str(root / "duck")})
    ingest_period(duck, root / "landing", PERIOD)
    sp = config_from_dict(base | {"work_dir": str(root / "spark"), "engine": {"kind": "spark"}})
    shutil.copytree(duck.work_path / "staged", sp.work_path / "staged")
    for cfg, eng in ((duck, DuckDBEngine(duck.duckdb_connect())), (sp, SparkEngine(spark))):
        build_calls(cfg, PERIOD, eng)
        build_group_analytics(cfg, PERIOD, eng)
        build_value(cfg, PERIOD, eng)
    return duck, sp


def _plain(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return v


def _rows(path) -> tuple[list[str], list[tuple]]:
    t = pq.read_table(path)
    cols = t.column_names
    data = [t.column(c).to_pylist() for c in cols]
    return cols, [tuple(_plain(v) for v in r) for r in zip(*data)]


def _key(row: tuple) -> tuple:
    """Sort key: every value, floats rounded (the engines may differ in the last bits), None first."""
    def k(v):
        if isinstance(v, float):
            v = round(v, 6) if math.isfinite(v) else -math.inf
        return (v is not None, v if v is not None else 0)

    return tuple(k(v) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=TOL, abs_tol=TOL)
    return a == b


@pytest.mark.parametrize("name", DERIVED)
def test_every_derived_table_is_the_same_on_spark(both_engines, name):
    duck, sp = both_engines
    dcols, drows = _rows(derived_path(duck.work_path, name, PERIOD))
    scols, srows = _rows(derived_path(sp.work_path, name, PERIOD))
    assert scols == dcols
    assert len(srows) == len(drows)
    if name not in ("retention_model", "market_calibration"):
        assert len(drows) > 0, f"{name} is empty: the comparison would prove nothing"
    drows.sort(key=_key)
    srows.sort(key=_key)
    bad = []
    for dr, sr in zip(drows, srows):
        for c, a, b in zip(dcols, dr, sr):
            if not _same(a, b):
                bad.append(f"{c}: duckdb {a!r} spark {b!r}")
    assert not bad, f"{name}: {len(bad)} differing values, first: {bad[:5]}"
