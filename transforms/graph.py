"""The month's call graph and the calling fingerprint of every number, as SQL over the calls table.

Working time comes from the working calendar (groupscope.working_calendar, config section `calendar`):
a table of the hours of the CDR clock (calendar_slots), each with its local day, whether it is a
working day (national holidays and make-up working days included) and its time bin, joined to the
calls by the hour. No weekday arithmetic in SQL, so the query means the same on DuckDB and Spark.
Service codes and unknown numbers are not nodes.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from groupscope.working_calendar import WorkCalendar
from transforms.sql import lit

NODE_TYPES = "('mobile', 'fixed')"

# the time bin of a record whose hour is not in the calendar table (never the case for a period's calls)
UNKNOWN_BIN = 2

CALENDAR_SCHEMA = pa.schema(
    [
        ("slot", pa.timestamp("s")),  # start of an hour on the CDR clock
        ("day", pa.date32()),  # local calendar day
        ("hour", pa.int32()),  # local hour
        ("is_workday", pa.bool_()),
        ("is_work", pa.bool_()),  # working day and working hours
        ("time_bin", pa.int32()),  # 0 work, 1 working-day evening, 2 working-day night, 3 rest-day daytime, 4 rest-day evening/night
    ]
)


def day_bit_sql(day: str) -> str:
    """SQL: the bit of a day (an SQL DATE) in a BIGINT day mask, its day number modulo 63."""
    return f"CAST(1 AS BIGINT) << CAST(((date_diff('day', DATE '1970-01-01', {day}) % 63) + 63) % 63 AS INTEGER)"


def distinct_days_sql(day: str) -> str:
    """SQL aggregate: the distinct days (SQL DATEs) among a group's rows, without a distinct count: the
    bits of the days OR-ed and counted (exact for the days of any 63 consecutive days, so for a month;
    about half the cost of count(DISTINCT day) on DuckDB; Spark has bit_or, bit_count, shiftleft)."""
    return f"CAST(bit_count(bit_or({day_bit_sql(day)})) AS BIGINT)"


def calendar_slots(cal: WorkCalendar, first: datetime | None, last: datetime | None) -> pa.Table:
    """The calendar table for the CDR clock's hours from `first` to `last` (empty when there are no calls)."""
    rows = cal.hour_slots(first, last) if first is not None and last is not None else []
    cols = list(zip(*rows)) if rows else [[] for _ in CALENDAR_SCHEMA]
    return pa.table([pa.array(list(c), f.type) for c, f in zip(cols, CALENDAR_SCHEMA)], schema=CALENDAR_SCHEMA)


def events_sql(calls: str, calendar: str, nodes_only: bool = True) -> str:
    """Calls between graph nodes, one row per call or SMS, with the local day and time flags of the
    calendar table `calendar` (calendar_slots). With nodes_only=False every call of the month (service
    codes and unknown numbers too): where a subscriber was seen does not depend on whom it called."""
    nodes = f"c.caller_type IN {NODE_TYPES} AND c.callee_type IN {NODE_TYPES} AND " if nodes_only else ""
    return f"""
SELECT c.caller AS a, c.callee AS b, c.caller_on_net AS a_on_net, c.callee_on_net AS b_on_net,
       c.start_time, coalesce(k.day, CAST(c.start_time AS DATE)) AS day, c.duration_s, c.is_sms,
       c.caller_cell, c.callee_cell,
       coalesce(k.is_work, false) AS is_work,
       coalesce(k.time_bin, {UNKNOWN_BIN}) AS time_bin
FROM {calls} AS c
LEFT JOIN {calendar} AS k ON k.slot = date_trunc('hour', c.start_time)
WHERE {nodes}c.caller <> c.callee
"""


GRAPH_EVENT_COLUMNS = ("a", "b", "day", "duration_s", "is_sms", "is_work")  # the columns of events that call_graph_sql reads


CALL_GRAPH_COLUMNS = ("u", "v", "calls", "sms", "events", "duration_s", "active_days", "reciprocal", "work_events", "work_share")
TIME_BINS = 5  # time_bin 0..4 of the calendar table (CALENDAR_SCHEMA)
BIN_COLUMNS = tuple(f"bin{k}_events" for k in range(TIME_BINS))  # events per time bin of a pair (call_graph_sql(bins=True))


def call_graph_sql(events: str, bins: bool = False) -> str:
    """One undirected edge per number pair (u < v), in one aggregation by pair.

    Active days (distinct days with an event) as a day mask (distinct_days_sql): a distinct count, or a
    first aggregation by pair and day, costs about twice as much on DuckDB (docs/scale.md).
    With `bins`, also the pair's events in each time bin (BIN_COLUMNS), from which the calling profile
    of a number comes without another pass over the events (adjacency_profile_sql)."""
    per_bin = "".join(f",\n       count(*) FILTER (WHERE time_bin = {k}) AS {c}" for k, c in enumerate(BIN_COLUMNS)) if bins else ""
    return f"""
SELECT least(a, b) AS u, greatest(a, b) AS v,
       count(*) FILTER (WHERE NOT is_sms) AS calls,
       count(*) FILTER (WHERE is_sms) AS sms,
       count(*) AS events,
       CAST(sum(duration_s) AS BIGINT) AS duration_s,
       {distinct_days_sql('day')} AS active_days,
       bool_or(a < b) AND bool_or(a > b) AS reciprocal,
       count(*) FILTER (WHERE is_work) AS work_events,
       count(*) FILTER (WHERE is_work) * 1.0 / count(*) AS work_share{per_bin}
FROM {events}
GROUP BY least(a, b), greatest(a, b)
"""


ADJACENCY_COLUMNS = ("calls", "sms", "events", "work_events", "duration_s", "active_days", "reciprocal", "work_share")


def adjacency_sql(graph: str, numbers: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """Both directions of every edge: (x, y) for x's view of its contact y. With `numbers` (a relation
    with a column msisdn), only the rows whose x is one of them (every contact of those numbers, for the
    steps that read no other rows). `extra`: more columns of the graph (e.g. BIN_COLUMNS)."""
    cols = ", ".join((*ADJACENCY_COLUMNS, *extra))
    if numbers is None:
        return f"""
SELECT u AS x, v AS y, {cols} FROM {graph}
UNION ALL
SELECT v AS x, u AS y, {cols} FROM {graph}
"""
    return f"""
SELECT u AS x, v AS y, {cols} FROM {graph} WHERE u IN (SELECT msisdn FROM {numbers})
UNION ALL
SELECT v AS x, u AS y, {cols} FROM {graph} WHERE v IN (SELECT msisdn FROM {numbers})
"""


def adjacency_profile_sql(adj: str) -> str:
    """The calling profile (number, time_bin, n) of the numbers x of an adjacency with BIN_COLUMNS: the
    same rows as membership.profile_sql over the events the graph was built from (each event counts
    once on either side, in its time bin; only bins with events), from the pairs instead of the events."""
    pick = " ".join(f"WHEN {k} THEN a.{c}" for k, c in enumerate(BIN_COLUMNS))
    bins = ", ".join(f"({k})" for k in range(TIME_BINS))
    return f"""
SELECT number, time_bin, n FROM (
    SELECT a.x AS number, b.time_bin, CAST(sum(CASE b.time_bin {pick} END) AS BIGINT) AS n
    FROM {adj} AS a CROSS JOIN (VALUES {bins}) AS b(time_bin)
    GROUP BY a.x, b.time_bin
) AS p WHERE n > 0
"""


def presence_sql(events: str, all_bins_for: str | None = None) -> str:
    """Where and when each home subscriber was seen: (number, cell, time_bin, records).

    A record places its served subscriber: the caller's cell for the caller, the callee's for the callee.
    With `all_bins_for` (a relation with a column msisdn), only what the group analytics read: every
    number's working-time presence (time_bin 0: co-location) and those numbers' (the members') in every bin.
    """
    if all_bins_for is None:
        side = lambda n, cell, on_net: f"SELECT {n} AS number, {cell} AS cell, time_bin FROM {events} WHERE {on_net} AND {cell} IS NOT NULL"  # noqa: E731
    else:
        side = lambda n, cell, on_net: (  # noqa: E731
            f"SELECT e.{n} AS number, e.{cell} AS cell, e.time_bin FROM {events} AS e "
            f"LEFT JOIN {all_bins_for} AS k ON k.msisdn = e.{n} "
            f"WHERE e.{on_net} AND e.{cell} IS NOT NULL AND (e.time_bin = 0 OR k.msisdn IS NOT NULL)"
        )
    return f"""
SELECT number, cell, time_bin, count(*) AS records FROM (
    {side("a", "caller_cell", "a_on_net")}
    UNION ALL
    {side("b", "callee_cell", "b_on_net")}
) AS p
GROUP BY number, cell, time_bin
"""


ACTIVITY_COLUMNS = ("number", "events", "service_events", "active_days", "voice_seconds", "sms", "last_start")


def activity_sql(calls: str) -> str:
    """Per home number (every number with an on-net record): events with graph nodes and with service
    codes, days active, seconds of voice, SMS and its last record's start (every record on its side of
    the calls, whoever the other party is), in one pass over the calls' home sides. The group analytics
    read the first three, the value stage's usage indicators the last four (written as derived
    number_activity, so the value stage does not pass over the calls again)."""
    return f"""
SELECT number, count(*) FILTER (WHERE other_type IN {NODE_TYPES}) AS events,
       count(*) FILTER (WHERE other_type = 'service') AS service_events,
       {distinct_days_sql('CAST(start_time AS DATE)')} AS active_days,
       CAST(sum(CASE WHEN is_sms THEN 0 ELSE duration_s END) AS BIGINT) AS voice_seconds,
       count(*) FILTER (WHERE is_sms) AS sms, max(start_time) AS last_start
FROM (
    SELECT caller AS number, callee_type AS other_type, start_time, is_sms, duration_s FROM {calls} WHERE caller_on_net
    UNION ALL
    SELECT callee AS number, caller_type AS other_type, start_time, is_sms, duration_s FROM {calls} WHERE callee_on_net
) AS t
GROUP BY number
"""


def number_sides_sql(calls: str, home_carrier: str) -> str:
    """Every graph node's records on either side of the calls, in one pass, one row per (number,
    number_type, on_net, carrier) it was seen with, and when it was last seen so (the start of its
    latest record, last_start): what the number table (potential.numbers_sql with `sides`) is a small
    aggregation of. Only what that table reads: a wider row (the activity's counts and day mask as well)
    made this pass spill at 100M records under 2 GB, slower than the separate on-net pass of activity_sql."""
    def side(n: str, t: str, on_net: str) -> str:
        return (f"SELECT {n} AS number, {t} AS number_type, {on_net} AS on_net, "
                f"CASE WHEN {on_net} THEN {lit(home_carrier)} ELSE other_carrier END AS carrier, start_time "
                f"FROM {calls} WHERE {t} IN {NODE_TYPES}")
    return f"""
SELECT number, number_type, on_net, carrier, max(start_time) AS last_start
FROM (
    {side("caller", "caller_type", "caller_on_net")}
    UNION ALL
    {side("callee", "callee_type", "callee_on_net")}
) AS s
GROUP BY number, number_type, on_net, carrier
"""
