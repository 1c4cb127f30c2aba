"""The group-analytics stage's one-pass forms give the same rows as the direct ones, on hand-made calls:
the profile from the graph's time-bin counts, the number table from number_sides_sql, the
restricted presence, and the candidates with their shared per-group parts."""

from __future__ import annotations

from datetime import datetime

import duckdb

from transforms import graph, membership, potential

CALLS = [  # caller, caller_type, caller_on_net, callee, callee_type, callee_on_net, other_carrier, start, is_sms, cells
    ("13800000001", "mobile", True, "13800000002", "mobile", True, None, "2026-10-05 10:00:00", False, "c1", "c1"),
    ("13800000002", "mobile", True, "13800000001", "mobile", True, None, "2026-10-05 11:00:00", True, "c1", "c2"),
    ("13800000001", "mobile", True, "13900000003", "mobile", False, "CUCC", "2026-10-06 21:00:00", False, "c3", None),
    ("13900000003", "mobile", False, "13800000002", "mobile", True, "CUCC", "2026-10-07 10:30:00", False, None, "c1"),
    ("13900000003", "mobile", False, "13800000001", "mobile", True, "CTCC", "2026-10-08 10:30:00", False, None, "c1"),
    ("13800000004", "mobile", True, "13800000002", "mobile", True, None, "2026-10-10 15:00:00", False, "c9", "c1"),
    ("13800000004", "mobile", True, "10086", "service", False, None, "2026-10-10 16:00:00", False, "c9", None),
    ("13800000001", "mobile", True, "01058581234", "fixed", False, "CTCC", "2026-10-11 09:30:00", False, "c1", None),
]


def _con():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE calls (caller VARCHAR, caller_type VARCHAR, caller_on_net BOOLEAN, callee VARCHAR, callee_type VARCHAR, "
        "callee_on_net BOOLEAN, other_carrier VARCHAR, start_time TIMESTAMP, is_sms BOOLEAN, caller_cell VARCHAR, callee_cell VARCHAR, "
        "duration_s BIGINT DEFAULT 60)"
    )
    con.executemany("INSERT INTO calls (caller, caller_type, caller_on_net, callee, callee_type, callee_on_net, other_carrier, "
                    "start_time, is_sms, caller_cell, callee_cell) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", CALLS)
    # working time 09-18 on 5-9 and 12-16 October, the rest bins by the hour (enough for the identities)
    con.execute("""CREATE TABLE cal AS SELECT s AS slot, CAST(s AS DATE) AS day, hour(s) AS hour, true AS is_workday,
                   hour(s) BETWEEN 9 AND 17 AS is_work, CASE WHEN hour(s) BETWEEN 9 AND 17 THEN 0 ELSE 1 + hour(s) % 4 END AS time_bin
                   FROM range(TIMESTAMP '2026-10-01', TIMESTAMP '2026-11-01', INTERVAL 1 HOUR) AS t(s)""")
    con.execute(f"CREATE VIEW events AS {graph.events_sql('calls', 'cal')}")
    con.execute(f"CREATE VIEW all_events AS {graph.events_sql('calls', 'cal', nodes_only=False)}")
    con.execute(f"CREATE TABLE g AS {graph.call_graph_sql('events', bins=True)}")
    con.execute(f"CREATE VIEW adj AS {graph.adjacency_sql('g')}")
    con.execute("CREATE TABLE members AS SELECT * FROM (VALUES ('G1', '13800000001'), ('G1', '13800000002')) AS t(group_id, msisdn)")
    con.execute("CREATE TABLE member_numbers AS SELECT DISTINCT msisdn FROM members")
    con.execute(f"CREATE TABLE member_adj AS {graph.adjacency_sql('g', 'member_numbers', graph.BIN_COLUMNS)}")
    return con


def _same(con, a: str, b: str, key: str = "") -> None:
    ra, rb = con.execute(f"SELECT * FROM ({a}) {key} ORDER BY ALL").fetchall(), con.execute(f"SELECT * FROM ({b}) {key} ORDER BY ALL").fetchall()
    assert ra == rb and ra


def test_profile_from_the_graph_bins_is_the_members_profile():
    con = _con()
    members = "WHERE number IN (SELECT msisdn FROM member_numbers)"
    _same(con, graph.adjacency_profile_sql("member_adj"), membership.profile_sql("events"), members)


def test_numbers_from_the_sides():
    con = _con()
    con.execute(f"CREATE TABLE sides AS {graph.number_sides_sql('calls', 'CMCC')}")
    _same(con, potential.numbers_sql("calls", "CMCC", "sides"), potential.numbers_sql("calls", "CMCC"))
    # the number seen from two carriers ends the month with its latest one
    assert con.execute(f"SELECT carrier FROM ({potential.numbers_sql('calls', 'CMCC', 'sides')}) WHERE number = '13900000003'").fetchone() == ("CTCC",)


def test_activity_of_the_home_numbers_worked_out_by_hand():
    """activity_sql's rows on the calls above (each 60 s): every record on a home number's own side counts,
    whatever the other party (a service code too); an off-net number has no row."""
    con = _con()
    rows = con.execute(f"SELECT {', '.join(graph.ACTIVITY_COLUMNS)} FROM ({graph.activity_sql('calls')}) ORDER BY number").fetchall()
    day = lambda t: datetime.fromisoformat(t)  # noqa: E731
    assert rows == [
        # 01: calls to 02, 03 and a fixed line, calls from 03, an SMS from 02; days 5, 6, 8, 11 October
        ("13800000001", 5, 0, 4, 240, 1, day("2026-10-11 09:30:00")),
        # 02: its SMS to 01, calls from 01, 03 and 04; days 5, 7, 10
        ("13800000002", 4, 0, 3, 180, 1, day("2026-10-10 15:00:00")),
        # 04: a call to 02 and one to the service code 10086, both on 10 October
        ("13800000004", 1, 1, 1, 120, 0, day("2026-10-10 16:00:00")),
    ]


def test_restricted_presence_keeps_what_is_read():
    con = _con()
    full, part = graph.presence_sql("all_events"), graph.presence_sql("all_events", "member_numbers")
    _same(con, part, full, "WHERE time_bin = 0 OR number IN (SELECT msisdn FROM member_numbers)")
    # a non-member's presence outside working time is left out (13800000004 at 15:00 is in it, in time bin 0)
    assert con.execute(f"SELECT count(*) FROM ({part}) WHERE time_bin <> 0 AND number NOT IN (SELECT msisdn FROM member_numbers)").fetchone() == (0,)


def test_candidates_with_shared_parts_equal_the_direct_ones():
    con = _con()
    con.execute(f"CREATE TABLE presence AS {graph.presence_sql('all_events', 'member_numbers')}")
    con.execute(f"CREATE TABLE numbers AS {potential.numbers_sql('calls', 'CMCC')}")
    con.execute(f"CREATE TABLE totals AS {potential.candidate_totals_sql('adj')}")
    con.execute(f"CREATE TABLE group_cells AS {potential.group_cells_sql('members', 'presence')}")
    con.execute(f"CREATE TABLE member_keys AS {potential.member_keys_sql('members')}")
    con.execute(f"CREATE TABLE member_ties AS {potential.member_ties_sql('member_keys', 'member_adj')}")
    direct = potential.candidate_features_sql("members", "adj", "presence", "numbers")
    for n in (1, 3):
        parts = [potential.candidate_features_sql("members", "member_adj", "presence", "numbers",
                                                  lambda e, p=p, n=n: f"hash({e}) % {n} = {p}", "totals", "group_cells", "member_ties",
                                                  "member_keys")
                 for p in range(n)]
        _same(con, " UNION ALL ".join(f"SELECT * FROM ({q})" for q in parts), direct)
