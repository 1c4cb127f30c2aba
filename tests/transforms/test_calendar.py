"""The working calendar: national holidays and make-up days, configured days, time zones, and the
calendar table that gives the call graph its working time (on DuckDB, and as Spark SQL)."""

from __future__ import annotations

import logging
from datetime import date, datetime

import duckdb
import pytest
import sqlglot

from groupscope.config import config_from_dict
from groupscope.working_calendar import WorkCalendar, national_days
from transforms.graph import calendar_slots, events_sql
from transforms.sql import render


def test_2026_state_council_calendar():
    cal = WorkCalendar()
    # National Day and Mid-Autumn: 1-7 October are rest days, Sunday 20 September and Saturday 10 October work
    assert [cal.is_workday(date(2026, 10, d)) for d in range(1, 12)] == [
        False, False, False, False, False, False, False, True, True, True, False
    ]  # fmt: skip
    assert cal.is_workday(date(2026, 9, 20)) and not cal.is_workday(date(2026, 9, 25))
    assert cal.kind_of_day(date(2026, 10, 10)) == "makeup"
    assert cal.kind_of_day(date(2026, 10, 5)) == "holiday"
    assert cal.kind_of_day(date(2026, 10, 17)) == "weekend"
    # Spring Festival 15-23 February with make-up Saturdays 14 and 28 February
    assert not any(cal.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert cal.is_workday(date(2026, 2, 14)) and cal.is_workday(date(2026, 2, 28))
    hol, wd = national_days(2026)
    assert len(hol) == 33 and len(wd) == 6


def test_configured_days_win_and_none_is_monday_to_friday():
    cal = config_from_dict(
        {"calendar": {"holidays": ["2026-10-09"], "workdays": ["2026-10-07"], "working_hours": [8, 17]}}
    ).calendar.work_calendar()
    assert not cal.is_workday(date(2026, 10, 9)) and cal.is_workday(date(2026, 10, 7))
    assert cal.is_work_time(datetime(2026, 10, 7, 8, 30)) and not cal.is_work_time(datetime(2026, 10, 7, 17, 0))
    plain = WorkCalendar(national="none")
    assert plain.is_workday(date(2026, 10, 1)) and not plain.is_workday(date(2026, 10, 10))


def test_a_year_the_package_does_not_know_warns_and_is_monday_to_friday(caplog):
    cal = WorkCalendar(holidays=frozenset({date(2031, 1, 1)}))
    with caplog.at_level(logging.WARNING):
        assert not cal.is_workday(date(2031, 1, 1))  # configured
        assert cal.is_workday(date(2031, 1, 2))  # a Thursday
    assert "knows no holidays for 2031" in caplog.text


def test_time_bins():
    cal = WorkCalendar()
    bins = {t: cal.time_bin(datetime.fromisoformat(t)) for t in (
        "2026-10-09 10:00", "2026-10-09 19:30", "2026-10-09 23:30", "2026-10-09 03:00",  # working Friday
        "2026-10-10 09:00",  # make-up Saturday: working time
        "2026-10-05 10:00", "2026-10-05 20:00",  # National Day Monday: a rest day
    )}  # fmt: skip
    assert list(bins.values()) == [0, 1, 2, 2, 0, 3, 4]


def test_hour_slots_convert_the_cdr_clock_to_local_time():
    cal = WorkCalendar(cdr_timezone="UTC")
    rows = cal.hour_slots(datetime(2026, 10, 9, 0, 10), datetime(2026, 10, 9, 2, 59))
    # 01:00 UTC is 09:00 in Shanghai: the first working hour of Friday 9 October
    assert [(r[0].hour, r[1], r[2], r[4]) for r in rows] == [
        (0, date(2026, 10, 9), 8, False), (1, date(2026, 10, 9), 9, True), (2, date(2026, 10, 9), 10, True)
    ]  # fmt: skip
    # 16:00 UTC on 30 September is 00:00 local on 1 October, a holiday
    (r,) = cal.hour_slots(datetime(2026, 9, 30, 16), datetime(2026, 9, 30, 16))
    assert r[1] == date(2026, 10, 1) and not r[3]
    with pytest.raises(ValueError, match="fraction of an hour"):
        WorkCalendar(cdr_timezone="Asia/Kolkata").hour_slots(datetime(2026, 10, 9), datetime(2026, 10, 9, 1))


def test_hour_slots_are_unique_across_a_daylight_saving_change():
    cal = WorkCalendar(national="none", cdr_timezone="Europe/Berlin", timezone="UTC")
    rows = cal.hour_slots(datetime(2026, 10, 25, 0), datetime(2026, 10, 25, 5))
    slots = [r[0] for r in rows]
    assert len(slots) == len(set(slots)) == 6
    # 03:00 Berlin after the change (CET, UTC+1) is 02:00 UTC
    assert rows[3][2] == 2


def _calls(con, rows):
    con.execute(
        "CREATE TABLE calls (caller VARCHAR, callee VARCHAR, caller_on_net BOOLEAN, callee_on_net BOOLEAN, "
        "caller_type VARCHAR, callee_type VARCHAR, start_time TIMESTAMP, duration_s BIGINT, is_sms BOOLEAN, "
        "caller_cell VARCHAR, callee_cell VARCHAR)"
    )
    con.executemany(
        "INSERT INTO calls VALUES (?, ?, true, true, 'mobile', 'mobile', ?, 60, false, 'c1', 'c2')",
        [[a, b, t] for a, b, t in rows],
    )


def test_events_take_working_time_from_the_calendar_table():
    con = duckdb.connect()
    _calls(con, [
        ("13800000001", "13800000002", "2026-10-07 10:15:00"),  # Wednesday of National Day: rest-day daytime
        ("13800000001", "13800000002", "2026-10-10 10:15:00"),  # make-up Saturday: working time
        ("13800000001", "13800000002", "2026-10-12 20:00:00"),  # Monday evening
        ("13800000001", "13800000002", "2026-10-17 21:00:00"),  # Saturday evening
        ("13800000001", "13800000002", "2026-10-13 03:00:00"),  # Tuesday night
    ])  # fmt: skip
    cal = WorkCalendar()
    ((first, last),) = con.execute("SELECT min(start_time), max(start_time) FROM calls").fetchall()
    con.register("work_calendar", calendar_slots(cal, first, last))
    got = con.execute(f"SELECT day, is_work, time_bin FROM ({events_sql('calls', 'work_calendar')}) ORDER BY start_time").fetchall()
    assert got == [
        (date(2026, 10, 7), False, 3), (date(2026, 10, 10), True, 0), (date(2026, 10, 12), False, 1),
        (date(2026, 10, 13), False, 2), (date(2026, 10, 17), False, 4),
    ]  # fmt: skip
    # the same calls on a UTC switch clock: 10:15 UTC is 18:15 in Shanghai, after working hours
    con.register("utc_calendar", calendar_slots(WorkCalendar(cdr_timezone="UTC"), first, last))
    got = con.execute(f"SELECT is_work, time_bin FROM ({events_sql('calls', 'utc_calendar')}) ORDER BY start_time").fetchall()
    assert got[1] == (False, 1)
    # 03:00 UTC on Tuesday 13 October is 11:00 local: working time
    assert got[3] == (True, 0)


def test_no_calls_give_an_empty_calendar():
    t = calendar_slots(WorkCalendar(), None, None)
    assert t.num_rows == 0 and t.schema.names == ["slot", "day", "hour", "is_workday", "is_work", "time_bin"]


def test_events_sql_is_spark_sql_without_weekday_arithmetic():
    spark = render(events_sql("calls", "work_calendar"), "spark")
    sqlglot.parse_one(spark, read="spark")
    assert "DAYOFWEEK" not in spark.upper() and "ISODOW" not in spark.upper()
    assert "DATE_TRUNC('HOUR'" in spark.upper()
