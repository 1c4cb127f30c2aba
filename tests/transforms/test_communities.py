"""Prospect groups on a hand-built month of ties: every rule of transforms/communities.py has a case."""

from __future__ import annotations

import itertools

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from groupscope.config import AnalyticsConfig
from pipelines.analytics import build_prospects
from transforms import communities
from transforms.graph import adjacency_sql
from transforms.sql import render

_serial = itertools.count()


def numbers(k: int, prefix: str = "138") -> list[str]:
    return [f"{prefix}{next(_serial):08d}" for _ in range(k)]


class Month:
    """Ties of a month: graph rows (u < v) with events and working-time events."""

    def __init__(self) -> None:
        self.edges: dict[tuple[str, str], tuple[int, int]] = {}
        self.members: list[tuple[str, str]] = []
        self.employees: list[tuple[str, str, float]] = []
        self.offnet: set[str] = set()

    def tie(self, a: str, b: str, events: int = 6, work: int = 5) -> None:
        self.edges[(min(a, b), max(a, b))] = (events, work)

    def clique(self, nums: list[str], **kw) -> list[str]:
        for a, b in itertools.combinations(nums, 2):
            self.tie(a, b, **kw)
        return nums

    def connection(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        u, v = zip(*self.edges)
        ev, we = zip(*self.edges.values())
        con.register("g_arrow", pa.table({"u": u, "v": v, "events": ev, "work_events": we}))
        con.execute(
            "CREATE TABLE graph AS SELECT u, v, events AS calls, 0 AS sms, events, 60.0 * events AS duration_s, "
            "events AS active_days, true AS reciprocal, work_events, work_events * 1.0 / events AS work_share FROM g_arrow"
        )
        con.execute(f"CREATE TABLE adj AS {adjacency_sql('graph')}")
        every = sorted({n for e in self.edges for n in e})
        con.register("n_arrow", pa.table({"number": every, "on_net": [n not in self.offnet for n in every]}))
        con.execute(
            "CREATE TABLE numbers AS SELECT number, 'mobile' AS number_type, "
            "CASE WHEN on_net THEN 'CMCC' ELSE 'CUCC' END AS carrier, on_net FROM n_arrow"
        )
        con.execute("CREATE TABLE members (group_id VARCHAR, msisdn VARCHAR)")
        con.execute("CREATE TABLE employee (group_id VARCHAR, msisdn VARCHAR, score DOUBLE)")
        for table, rows in (("members", self.members), ("employee", self.employees)):
            if rows:
                con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.execute("CREATE TABLE regions AS SELECT number AS msisdn, 'shenzhen' AS region FROM numbers WHERE on_net")
        return con


def prospects(m: Month, **settings) -> tuple[list[dict], dict[int, list[str]]]:
    con = m.connection()
    groups_sql, members_sql = build_prospects(con, AnalyticsConfig(**settings), "regions")
    groups = con.sql(groups_sql).to_arrow_table().to_pylist()
    listed: dict[int, list[str]] = {}
    for pid, msisdn, _carrier, _on_net in con.execute(members_sql).fetchall():
        listed.setdefault(pid, []).append(msisdn)
    return groups, listed


def _as_sets(listed: dict[int, list[str]]) -> set[frozenset[str]]:
    return {frozenset(v) for v in listed.values()}


def test_small_companies_stay_apart_and_departments_of_one_company_join():
    m = Month()
    a = m.clique(numbers(6))
    b = m.clique(numbers(5))
    m.tie(a[0], b[0])  # one business call between two small companies
    friend = numbers(1)[0]
    m.tie(a[1], friend, events=2, work=1)  # pulled towards A by one tie: not staff
    c1, c2 = m.clique(numbers(6)), m.clique(numbers(6))
    for x, y in zip(c1[:3], c2[:3]):  # departments: three ties between distinct people
        m.tie(x, y)
    groups, listed = prospects(m)
    assert _as_sets(listed) == {frozenset(a), frozenset(b), frozenset(c1 + c2)}
    by_size = {g["size"]: g for g in groups}
    assert by_size[12]["teams"] == 2 and by_size[6]["teams"] == 1
    # numbered largest first
    assert [g["prospect_id"] for g in groups] == [0, 1, 2] and [g["size"] for g in groups] == [12, 6, 5]


def test_one_outside_contact_does_not_join_two_teams():
    m = Month()
    d, e = m.clique(numbers(6)), m.clique(numbers(6))  # 3 ties < 0.1 x 6 x 6: Leiden keeps them apart
    for y in e[:3]:  # one person of D calls three of E: three ties, but one number on D's side
        m.tie(d[0], y)
    _, listed = prospects(m)
    assert _as_sets(listed) == {frozenset(d), frozenset(e)}
    # with the distinct-number rule relaxed, the same ties join them
    _, listed = prospects(m, prospect_link_numbers=1)
    assert _as_sets(listed) == {frozenset(d + e)}


def test_registered_staff_family_circles_and_small_teams_are_not_prospects():
    m = Month()
    staff = m.clique(numbers(5))
    registered = m.clique(numbers(4))
    m.members += [("G1", x) for x in registered]
    for x in staff:  # unregistered staff of G1: they call its members at work
        for y in registered[:2]:
            m.tie(x, y, events=3, work=3)
    family = m.clique(numbers(5), events=10, work=2)  # evenings and weekends
    likely = m.clique(numbers(5))
    m.employees += [("G2", x, 0.9) for x in likely]  # already G2's potential members
    tiny = m.clique(numbers(4))  # below prospect_min_size
    keep = m.clique(numbers(5))
    m.offnet.update(keep[3:])
    groups, listed = prospects(m)
    assert _as_sets(listed) == {frozenset(keep)}
    (g,) = groups
    assert (g["size"], g["onnet"], g["offnet"], g["carrier_mix"], g["region"]) == (5, 3, 2, "CMCC:3;CUCC:2", "shenzhen")
    assert g["density"] == 1.0 and g["ties"] == 10 and abs(g["work_share"] - 5 / 6) < 1e-12
    # the attachment rule is what drops the registered group's staff
    _, listed = prospects(m, prospect_max_group_attachment=100.0)
    assert frozenset(staff) in _as_sets(listed) and frozenset(family) not in _as_sets(listed)
    assert frozenset(tiny) not in _as_sets(listed) and frozenset(likely) not in _as_sets(listed)


def test_results_do_not_depend_on_input_order():
    m = Month()
    teams = [m.clique(numbers(k)) for k in (5, 7, 6, 5)]
    for x, y in zip(teams[1][:3], teams[2][:3]):
        m.tie(x, y)
    first = prospects(m)
    m.edges = dict(reversed(list(m.edges.items())))
    assert prospects(m) == first


def test_team_core_drops_numbers_held_by_a_single_tie():
    con = duckdb.connect()
    # a 4-clique of colleagues (a..d), a relative (r) tied only to a, a friend (f) tied to a and b
    ties = [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d"), ("a", "r"), ("a", "f"), ("b", "f")]
    con.execute("CREATE TABLE edges AS SELECT * FROM (VALUES " + ", ".join(f"('{u}', '{v}')" for u, v in ties) + ") AS t(u, v)")
    con.execute("CREATE TABLE teams AS SELECT number, 0 AS team FROM (VALUES ('a'), ('b'), ('c'), ('d'), ('r'), ('f')) AS t(number)")
    assert [r[0] for r in con.execute(communities.team_core_sql("teams", "edges", 3)).fetchall()] == ["a", "b", "c", "d"]
    assert [r[0] for r in con.execute(communities.team_core_sql("teams", "edges", 2)).fetchall()] == ["a", "b", "c", "d", "f"]


@pytest.mark.parametrize("n_nodes", [0, 3])
def test_leiden_teams_without_ties(n_nodes):
    t = communities.leiden_teams(n_nodes, pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.int64())}), 0.1)
    assert t.num_rows == n_nodes and len(set(t["team"].to_pylist())) == n_nodes


def test_prospect_sql_transpiles_to_spark():
    queries = [
        communities.prospect_edges_sql("graph", "members", "numbers", "employee", 0.5, 1, 0.65),
        communities.team_nodes_sql("edges", 2),
        communities.node_edges_sql("edges", "nodes"),
        communities.team_core_sql("teams", "edges", 2),
        communities.team_stats_sql("core", "graph", "adj", "members", 0.2),
        communities.team_links_sql("core", "kept", "edges", 3, 2),
        communities.prospect_assignment_sql("core", "merged", 5),
        communities.prospects_sql("assign", "numbers", "regions", "graph", "adj", "members"),
        communities.prospect_members_sql("assign", "numbers"),
    ]
    for q in queries:
        sqlglot.parse_one(render(q, "spark"), read="spark")
