"""Number normalisation, carrier lookup with portability, and the MOC/MTC collapse, on hand-made rows."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
import pytest
import sqlglot

from groupscope.synth.numbers import number_ranges_rows
from transforms.calls import calls_sql, normalised_cdr_sql
from transforms.numbers import national_number_sql
from transforms.sql import render


@pytest.mark.parametrize(
    "signalled, national",
    [
        ("13800138000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("1795113800138000", "13800138000"),
        ("1259301058581234", "01058581234"),
        ("01058581234", "01058581234"),
        ("+861058581234", "01058581234"),
        ("+8675512345678", "075512345678"),
        ("10086", "10086"),
        ("95588", "95588"),
        ("17951", "17951"),
    ],
)
def test_national_number(signalled, national):
    con = duckdb.connect()
    assert con.execute(f"SELECT {national_number_sql('x')} FROM (SELECT ? AS x)", [signalled]).fetchone()[0] == national


def _con(records: list[tuple], ported: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    cols = ["record_id", "record_type", "served_msisdn", "other_party", "start_time", "duration_s", "cell_id"]
    cdr = pd.DataFrame(records, columns=cols)
    cdr["start_time"] = pd.to_datetime(cdr["start_time"])
    ranges = pd.DataFrame(number_ranges_rows())
    ports = pd.DataFrame(list(ported), columns=["msisdn", "carrier", "ported_at"])
    ports["ported_at"] = pd.to_datetime(ports["ported_at"]).dt.date
    con.register("cdr_df", cdr)
    con.register("ranges_df", ranges)
    con.register("ports_df", ports)
    con.execute("CREATE TABLE cdr AS SELECT *, record_id AS record_key FROM cdr_df")  # any unique key pairs them
    con.execute("CREATE TABLE number_ranges AS SELECT * FROM ranges_df")
    con.execute("CREATE TABLE ported_numbers AS SELECT msisdn::VARCHAR AS msisdn, carrier::VARCHAR AS carrier, CAST(ported_at AS DATE) AS ported_at FROM ports_df")
    con.execute(f"CREATE TABLE norm AS {normalised_cdr_sql('cdr', 'number_ranges', 'ported_numbers', 'CMCC')}")
    return con


A, B, C = "13800000001", "13900000002", "18600000003"  # CMCC, CMCC, CUCC by prefix


def test_carrier_by_longest_prefix_and_portability_as_of_the_day():
    recs = [
        ("1", "MOC", A, "17050000001", "2026-10-01 10:00:00", 60, "c1"),  # 1705: MVNO_CM, not 170 (MVNO_CT)
        ("2", "MOC", A, "17000000001", "2026-10-01 10:00:00", 60, "c1"),  # 1700: MVNO_CT
        ("3", "MOC", A, C, "2026-10-10 10:00:00", 60, "c1"),  # CUCC before its port
        ("4", "MOC", A, C, "2026-10-20 10:00:00", 60, "c1"),  # CMCC after its port on the 15th
        ("5", "MOC", A, "01058581234", "2026-10-20 10:00:00", 60, "c1"),
        ("6", "MOC", A, "10086", "2026-10-20 10:00:00", 60, "c1"),
        ("7", "MOC", A, "99999", "2026-10-20 10:00:00", 60, "c1"),
    ]
    con = _con(recs, [(C, "CMCC", "2026-10-15")])
    got = {r[0]: r[1:] for r in con.execute("SELECT record_key, other_type, other_carrier, other_on_net FROM norm").fetchall()}
    assert got["1"] == ("mobile", "MVNO_CM", False)
    assert got["2"] == ("mobile", "MVNO_CT", False)
    assert got["3"] == ("mobile", "CUCC", False)
    assert got["4"] == ("mobile", "CMCC", True)
    assert got["5"][0] == "fixed" and got["5"][2] is False
    assert got["6"] == ("service", "CMCC", False)
    assert got["7"][0] == "unknown"


def test_on_net_pair_is_one_call_and_lonely_records_stay():
    t = "2026-10-01 09:00:00"
    recs = [
        # on-net call A -> B: MOC on A, MTC on B one second later
        ("m1", "MOC", A, B, t, 120, "cellA"),
        ("t1", "MTC", B, "+86" + A, "2026-10-01 09:00:01", 120, "cellB"),
        # on-net SMS B -> A
        ("m2", "SMS_MO", B, A, "2026-10-01 11:00:00", 0, "cellB"),
        ("t2", "SMS_MT", A, B, "2026-10-01 11:00:00", 0, "cellA"),
        # off-net incoming call C -> A: one MTC
        ("t3", "MTC", A, C, "2026-10-01 12:00:00", 30, "cellA"),
        # on-net MTC whose MOC twin is missing (lost file): kept
        ("t4", "MTC", B, A, "2026-10-01 13:00:00", 45, "cellB"),
        # a second, distinct call A -> B with another duration: not merged
        ("m5", "MOC", A, B, "2026-10-01 09:00:02", 30, "cellA"),
        ("t5", "MTC", B, A, "2026-10-01 09:00:03", 30, "cellB"),
    ]
    con = _con(recs)
    rows = con.execute(
        f"SELECT strftime(start_time, '%H:%M:%S'), caller, callee, is_sms, duration_s, caller_cell, callee_cell FROM ({calls_sql('norm')}) ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("09:00:00", A, B, False, 120, "cellA", "cellB"),  # m1, with t1's cell: t1 is dropped
        ("09:00:02", A, B, False, 30, "cellA", "cellB"),  # m5 with t5's
        ("11:00:00", B, A, True, 0, "cellB", "cellA"),  # m2 with t2's
        ("12:00:00", C, A, False, 30, None, "cellA"),  # t3, off-net
        ("13:00:00", A, B, False, 45, None, "cellB"),  # t4, no twin
    ]


def test_records_are_keyed_by_their_file_and_row():
    from transforms.calls import ROW_SPAN, record_keys_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE staged AS SELECT * FROM (VALUES ('b.csv', 1), ('a.parquet', 1), ('b.csv', 2)) AS t(__file, __row)")
    con.execute("CREATE TABLE files AS SELECT * FROM (VALUES ('a.parquet', 0), ('b.csv', 1)) AS t(__file, file_no)")
    got = con.execute(f"SELECT __file, __row, record_key FROM ({record_keys_sql('staged', 'files')}) ORDER BY 3").fetchall()
    assert got == [("a.parquet", 1, 1), ("b.csv", 1, ROW_SPAN + 1), ("b.csv", 2, ROW_SPAN + 2)]


def test_transforms_transpile_to_spark_sql():
    for sql in (normalised_cdr_sql("cdr", "number_ranges", "ported_numbers", "CMCC"), calls_sql("norm")):
        spark = render(sql, "spark")
        sqlglot.parse_one(spark, read="spark")  # valid Spark SQL as far as the parser can tell
        assert "INTERVAL" in spark.upper() or "LEFT JOIN" in spark.upper()
    with pytest.raises(ValueError, match="unknown engine"):
        render("SELECT 1", "oracle")


def test_time_is_local_wall_clock():
    con = _con([("1", "MOC", A, B, "2026-10-01 23:59:59", 1, "c")])
    assert con.execute("SELECT start_time FROM norm").fetchone()[0] == datetime(2026, 10, 1, 23, 59, 59)



def test_numbers_take_carrier_and_on_net_from_their_latest_record():
    from transforms.potential import numbers_sql

    con = duckdb.connect()
    rows = [
        # (caller, caller_on_net, callee, callee_on_net, other_carrier, start_time)
        ("13900000001", True, "18500000009", False, "CUCC", "2026-10-03 10:00:00"),  # 185... off-net (CUCC) early
        ("18500000009", True, "13900000001", True, "CMCC", "2026-10-20 10:00:00"),  # ... then ported in
        ("13900000002", True, "13900000001", True, "CMCC", "2026-10-02 09:00:00"),  # 139...2 on-net early
        ("13900000001", True, "13900000002", False, "CTCC", "2026-10-25 09:00:00"),  # ... then ported out
        ("13900000001", True, "18900000003", False, "CTCC", "2026-10-05 09:00:00"),  # never on-net
    ]
    con.execute(
        "CREATE TABLE calls AS SELECT caller, 'mobile' AS caller_type, caller_on_net, callee, 'mobile' AS callee_type, "
        "callee_on_net, other_carrier, CAST(start_time AS TIMESTAMP) AS start_time FROM (VALUES "
        + ", ".join(f"('{a}', {b}, '{c}', {d}, '{e}', '{f}')" for a, b, c, d, e, f in rows)
        + ") AS t(caller, caller_on_net, callee, callee_on_net, other_carrier, start_time)"
    )
    got = {r[0]: (r[2], r[3]) for r in con.execute(numbers_sql("calls", "CMCC")).fetchall()}
    assert got == {
        "13900000001": ("CMCC", True),
        "18500000009": ("CMCC", True),
        "13900000002": ("CTCC", False),
        "18900000003": ("CTCC", False),
    }
    sqlglot.parse_one(render(numbers_sql("calls", "CMCC"), "spark"), read="spark")
