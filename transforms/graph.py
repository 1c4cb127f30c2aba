"""The month's call graph and the calling fingerprint of every number, as SQL over the calls table.

Working time is a weekday (Monday-Friday) hour in [work_start, work_end); the operator's holidays
are not modelled here. Service codes and unknown numbers are not nodes.
"""

from __future__ import annotations

NODE_TYPES = "('mobile', 'fixed')"


def _is_work(ts: str, work_start: int, work_end: int) -> str:
    return f"(isodow({ts}) <= 5 AND hour({ts}) >= {work_start} AND hour({ts}) < {work_end})"


def _time_bin(ts: str, work_start: int, work_end: int, evening_end: int, rest_day: tuple[int, int]) -> str:
    """Coarse time-of-week bin: 0 weekday work, 1 weekday evening (until `evening_end`), 2 weekday night,
    3 rest-day daytime (`rest_day` hours), 4 rest-day evening/night. The hours come from
    analytics.model (evening_end, rest_day_hours)."""
    rs, re_ = rest_day
    return (
        f"(CASE WHEN isodow({ts}) <= 5 THEN "
        f"CASE WHEN hour({ts}) >= {work_start} AND hour({ts}) < {work_end} THEN 0 "
        f"WHEN hour({ts}) >= {work_end} AND hour({ts}) < {evening_end} THEN 1 ELSE 2 END "
        f"ELSE CASE WHEN hour({ts}) >= {rs} AND hour({ts}) < {re_} THEN 3 ELSE 4 END END)"
    )


def events_sql(calls: str, work_start: int, work_end: int, evening_end: int, rest_day: tuple[int, int],
               nodes_only: bool = True) -> str:
    """Calls between graph nodes, one row per call or SMS, with time flags. With nodes_only=False every
    call of the month (service codes and unknown numbers too): where a subscriber was seen does not
    depend on whom it called."""
    where = f"caller_type IN {NODE_TYPES} AND callee_type IN {NODE_TYPES} AND " if nodes_only else ""
    return f"""
SELECT caller AS a, callee AS b, caller_on_net AS a_on_net, callee_on_net AS b_on_net,
       start_time, CAST(start_time AS DATE) AS day, duration_s, is_sms,
       caller_cell, callee_cell,
       {_is_work("start_time", work_start, work_end)} AS is_work,
       {_time_bin("start_time", work_start, work_end, evening_end, rest_day)} AS time_bin
FROM {calls}
WHERE {where}caller <> callee
"""


def call_graph_sql(events: str) -> str:
    """One undirected edge per number pair (u < v)."""
    return f"""
SELECT least(a, b) AS u, greatest(a, b) AS v,
       count(*) FILTER (WHERE NOT is_sms) AS calls,
       count(*) FILTER (WHERE is_sms) AS sms,
       count(*) AS events,
       sum(duration_s) AS duration_s,
       count(DISTINCT day) AS active_days,
       count(*) FILTER (WHERE a < b) > 0 AND count(*) FILTER (WHERE a > b) > 0 AS reciprocal,
       count(*) FILTER (WHERE is_work) AS work_events,
       count(*) FILTER (WHERE is_work) * 1.0 / count(*) AS work_share
FROM {events}
GROUP BY least(a, b), greatest(a, b)
"""


def adjacency_sql(graph: str) -> str:
    """Both directions of every edge: (x, y) for x's view of its contact y."""
    return f"""
SELECT u AS x, v AS y, calls, sms, events, work_events, duration_s, active_days, reciprocal, work_share FROM {graph}
UNION ALL
SELECT v AS x, u AS y, calls, sms, events, work_events, duration_s, active_days, reciprocal, work_share FROM {graph}
"""


def presence_sql(events: str) -> str:
    """Where and when each home subscriber was seen: (number, cell, time_bin, records).

    A record places its served subscriber: the caller's cell for the caller, the callee's for the callee.
    """
    return f"""
SELECT number, cell, time_bin, count(*) AS records FROM (
    SELECT a AS number, caller_cell AS cell, time_bin FROM {events} WHERE a_on_net AND caller_cell IS NOT NULL
    UNION ALL
    SELECT b AS number, callee_cell AS cell, time_bin FROM {events} WHERE b_on_net AND callee_cell IS NOT NULL
) AS p
GROUP BY number, cell, time_bin
"""


def activity_sql(calls: str) -> str:
    """Per number: events with graph nodes and with service codes, and days active."""
    return f"""
SELECT number, count(*) FILTER (WHERE other_type IN {NODE_TYPES}) AS events,
       count(*) FILTER (WHERE other_type = 'service') AS service_events,
       count(DISTINCT CAST(start_time AS DATE)) AS active_days
FROM (
    SELECT caller AS number, callee_type AS other_type, start_time FROM {calls} WHERE caller_on_net
    UNION ALL
    SELECT callee AS number, caller_type AS other_type, start_time FROM {calls} WHERE callee_on_net
) AS t
GROUP BY number
"""
