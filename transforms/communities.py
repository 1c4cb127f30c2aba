"""Prospect groups: tightly knit calling communities that look like companies but are not registered.

Four steps, each a pure function:

1. `prospect_edges_sql`: the month's work-like ties (mostly in working hours) between mobile numbers
   that belong to no registered group (neither registered members nor likely employees of one).
2. `team_nodes_sql`, `leiden_teams`, `team_core_sql`: teams are Leiden communities under the Constant Potts Model
   on the unweighted tie graph. Its resolution is a density: a set of numbers is one team when more
   than that share of its pairs call each other, and two teams merge only when the ties between them
   exceed resolution x size1 x size2. Unlike modularity, which merges any two small groups that share
   a tie or two once the graph is large (its resolution limit grows with the graph), this does not
   depend on the size of the operator. Numbers with fewer than `min_ties` ties in all are left out
   beforehand (they could not stay in any team). Each team is then cut to its core: numbers with ties to at
   least `min_ties` others of the team (a relative or friend pulled in by one tie is not staff).
3. `team_stats_sql` and `team_links_sql`: teams that call one registered group's members in working
   hours at more than `max_attachment` of their own working-time calls are that group's unregistered
   staff (whose ties to the members are too few to make each one a likely employee) and are dropped. The remaining teams
   are the departments of companies: two teams linked by at least `link_ties` work-like ties, with
   at least `link_numbers` distinct numbers on each side (so one client or supplier calling a
   department does not join two companies), belong to one prospect, `merge_teams`.
4. `prospect_assignment_sql`, `prospects_sql`, `prospect_members_sql`: prospects of at least `min_size`
   numbers, each with size, carrier mix, density, working-time share, number of teams, region, and the
   registered group whose members it calls most in working time.
"""

from __future__ import annotations

import random

import igraph as ig
import numpy as np
import pyarrow as pa


def prospect_edges_sql(
    graph: str, members: str, numbers: str, potential: str, min_work_share: float, min_events: int, employee_threshold: float
) -> str:
    """Work-like ties (u, v) between mobile numbers that belong to no registered group: neither
    registered members nor likely employees of a group (those are the group's potential members)."""
    return f"""
WITH taken AS (
    SELECT msisdn FROM {members}
    UNION SELECT msisdn FROM {potential} WHERE score >= {employee_threshold}
)
SELECT g.u, g.v
FROM {graph} AS g
JOIN {numbers} AS nu ON nu.number = g.u AND nu.number_type = 'mobile'
JOIN {numbers} AS nv ON nv.number = g.v AND nv.number_type = 'mobile'
WHERE g.work_share >= {min_work_share} AND g.events >= {min_events}
  AND NOT EXISTS (SELECT 1 FROM taken AS t WHERE t.msisdn = g.u)
  AND NOT EXISTS (SELECT 1 FROM taken AS t WHERE t.msisdn = g.v)
ORDER BY g.u, g.v
"""


def team_nodes_sql(edges: str, min_ties: int) -> str:
    """The numbers that can belong to a team's core (at least `min_ties` ties in all), numbered from 0
    in number order: (number, node). Leiden then works on integers and on fewer nodes."""
    return f"""
WITH ends AS (SELECT u AS number FROM {edges} UNION ALL SELECT v FROM {edges})
SELECT number, CAST(row_number() OVER (ORDER BY number) - 1 AS BIGINT) AS node
FROM ends GROUP BY number HAVING count(*) >= {min_ties}
"""


def node_edges_sql(edges: str, nodes: str) -> str:
    """The ties between numbered nodes: (a, b)."""
    return f"""
SELECT x.node AS a, y.node AS b FROM {edges} AS e
JOIN {nodes} AS x ON x.number = e.u JOIN {nodes} AS y ON y.number = e.v
ORDER BY a, b
"""


def leiden_teams(n_nodes: int, edges: pa.Table, density: float, seed: int = 7) -> pa.Table:
    """Nodes 0..n_nodes-1 and ties (a, b) -> (node, team): Leiden under the Constant Potts Model with
    resolution `density`, unweighted. Teams are numbered largest first, then by their smallest node."""
    pairs = np.column_stack([edges["a"].to_numpy(), edges["b"].to_numpy()]) if edges.num_rows else np.zeros((0, 2), np.int64)
    g = ig.Graph(n=n_nodes, edges=pairs)
    # igraph's own Leiden (its C core); two iterations, as leidenalg's default. Seeded through a private
    # generator so that a run's teams do not depend on what else used Python's `random` before.
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function="CPM", resolution=density, n_iterations=2)
    finally:
        ig.set_random_number_generator(random)
    teams = sorted((sorted(c) for c in part if c), key=lambda c: (-len(c), c[0]))
    node = np.concatenate([np.asarray(c, np.int64) for c in teams]) if teams else np.zeros(0, np.int64)
    team = np.repeat(np.arange(len(teams), dtype=np.int64), [len(c) for c in teams])
    return pa.table({"node": pa.array(node, pa.int64()), "team": pa.array(team, pa.int64())})


def team_core_sql(teams: str, edges: str, min_ties: int) -> str:
    """The numbers of each team with ties to at least `min_ties` other numbers of the same team."""
    return f"""
WITH ties AS (
    SELECT x.number, x.team FROM {edges} AS e
    JOIN {teams} AS x ON x.number = e.u JOIN {teams} AS y ON y.number = e.v WHERE x.team = y.team
    UNION ALL
    SELECT y.number, y.team FROM {edges} AS e
    JOIN {teams} AS x ON x.number = e.u JOIN {teams} AS y ON y.number = e.v WHERE x.team = y.team
)
SELECT number, team FROM ties GROUP BY number, team HAVING count(*) >= {min_ties}
ORDER BY team, number
"""


def team_graph_sql(graph: str, nodes: str) -> str:
    """The edges of `graph` between numbers of `nodes` (team_nodes_sql): every edge that the teams' and
    the prospects' inner ties can read, since a team holds only such numbers."""
    return f"""
SELECT g.* FROM {graph} AS g
WHERE g.u IN (SELECT number FROM {nodes}) AND g.v IN (SELECT number FROM {nodes})
"""


def _attachment_sql(assign: str, key: str, graph: str, adj: str, members: str) -> str:
    """Per unit (`key` of `assign`): its working-time events inside, and with the members of the
    registered group whose members it calls most in working time."""
    return f"""
inner_ties AS (
    SELECT ca.{key}, count(*) AS ties, sum(g.events) AS events, sum(g.work_events) AS work_events
    FROM {graph} AS g JOIN {assign} AS ca ON ca.number = g.u JOIN {assign} AS cb ON cb.number = g.v
    WHERE ca.{key} = cb.{key} GROUP BY ca.{key}
),
attached AS (
    SELECT {key}, group_id, work_events FROM (
        SELECT {key}, group_id, work_events,
               row_number() OVER (PARTITION BY {key} ORDER BY work_events DESC, group_id) AS rk
        FROM (
            SELECT x.{key}, m.group_id, sum(ad.work_events) AS work_events
            FROM {assign} AS x JOIN {adj} AS ad ON ad.x = x.number JOIN {members} AS m ON m.msisdn = ad.y
            GROUP BY x.{key}, m.group_id) AS t) AS r
    WHERE rk = 1
)"""


def team_stats_sql(core: str, graph: str, adj: str, members: str, max_attachment: float) -> str:
    """The teams that are not a registered group's staff: (team)."""
    return f"""
WITH {_attachment_sql(core, "team", graph, adj, members)}
SELECT t.team
FROM inner_ties AS t LEFT JOIN attached AS att ON att.team = t.team
WHERE coalesce(att.work_events, 0) * 1.0 / greatest(t.work_events, 1) <= {max_attachment}
ORDER BY t.team
"""


def team_links_sql(core: str, kept: str, edges: str, min_ties: int, min_numbers: int) -> str:
    """Pairs of kept teams (a < b) joined by at least `min_ties` work-like ties that involve at least
    `min_numbers` distinct numbers of each team."""
    return f"""
WITH k AS (SELECT c.number, c.team FROM {core} AS c WHERE c.team IN (SELECT team FROM {kept})),
cross_ties AS (
    SELECT least(x.team, y.team) AS a, greatest(x.team, y.team) AS b,
           CASE WHEN x.team < y.team THEN e.u ELSE e.v END AS na,
           CASE WHEN x.team < y.team THEN e.v ELSE e.u END AS nb
    FROM {edges} AS e JOIN k AS x ON x.number = e.u JOIN k AS y ON y.number = e.v
    WHERE x.team <> y.team
)
SELECT a, b FROM cross_ties GROUP BY a, b
HAVING count(*) >= {min_ties} AND count(DISTINCT na) >= {min_numbers} AND count(DISTINCT nb) >= {min_numbers}
ORDER BY a, b
"""


def merge_teams(teams: pa.Table, links: pa.Table) -> pa.Table:
    """(team) and linked pairs (a, b) -> (team, prospect): the connected components of the links."""
    ids = sorted(teams["team"].to_pylist())
    index = {t: i for i, t in enumerate(ids)}
    g = ig.Graph(n=len(ids), edges=[(index[a], index[b]) for a, b in zip(links["a"].to_pylist(), links["b"].to_pylist())])
    team, prospect = [], []
    for k, c in enumerate([ids[i] for i in comp] for comp in g.connected_components()):
        team += c
        prospect += [k] * len(c)
    return pa.table({"team": pa.array(team, pa.int64()), "prospect": pa.array(prospect, pa.int64())})


def prospect_assignment_sql(core: str, merged: str, min_size: int) -> str:
    """(number, prospect_id) of the prospects of at least `min_size` numbers, numbered largest first."""
    return f"""
WITH p0 AS (SELECT c.number, c.team, m.prospect FROM {core} AS c JOIN {merged} AS m ON m.team = c.team),
sized AS (
    SELECT prospect, count(*) AS size, min(number) AS first FROM p0 GROUP BY prospect HAVING count(*) >= {min_size}
),
ids AS (SELECT prospect, row_number() OVER (ORDER BY size DESC, first) - 1 AS prospect_id FROM sized)
SELECT p0.number, p0.team, ids.prospect_id FROM p0 JOIN ids ON ids.prospect = p0.prospect
ORDER BY ids.prospect_id, p0.number
"""


def prospects_sql(assign: str, numbers: str, regions: str, graph: str, adj: str, members: str) -> str:
    """One row per prospect: size, carriers, ties, working-time share, density, teams, region, and the
    registered group whose members it calls most in working time."""
    return f"""
WITH a AS (
    SELECT x.number, x.team, x.prospect_id, n.carrier, n.on_net
    FROM {assign} AS x JOIN {numbers} AS n ON n.number = x.number
),
{_attachment_sql("a", "prospect_id", graph, adj, members)},
mix AS (
    SELECT prospect_id, string_agg(carrier || ':' || CAST(n AS VARCHAR), ';' ORDER BY n DESC, carrier) AS carrier_mix
    FROM (SELECT prospect_id, carrier, count(*) AS n FROM a GROUP BY prospect_id, carrier) AS c GROUP BY prospect_id
),
region AS (
    SELECT prospect_id, region FROM (
        SELECT prospect_id, region, row_number() OVER (PARTITION BY prospect_id ORDER BY n DESC, region) AS rk
        FROM (SELECT a.prospect_id, r.region, count(*) AS n FROM a JOIN {regions} AS r ON r.msisdn = a.number
              GROUP BY a.prospect_id, r.region) AS t) AS ranked
    WHERE rk = 1
),
c AS (
    SELECT prospect_id, count(*) AS size, count(*) FILTER (WHERE on_net) AS onnet,
           count(*) FILTER (WHERE NOT on_net) AS offnet, count(DISTINCT team) AS teams
    FROM a GROUP BY prospect_id
)
SELECT c.prospect_id, c.size, c.onnet, c.offnet, m.carrier_mix, t.ties,
       t.work_events * 1.0 / t.events AS work_share,
       t.ties * 2.0 / (c.size * (c.size - 1)) AS density,
       c.teams, r.region,
       att.group_id AS nearest_group, coalesce(att.work_events, 0) * 1.0 / greatest(t.work_events, 1) AS group_attachment
FROM c JOIN mix AS m ON m.prospect_id = c.prospect_id
JOIN inner_ties AS t ON t.prospect_id = c.prospect_id
LEFT JOIN region AS r ON r.prospect_id = c.prospect_id
LEFT JOIN attached AS att ON att.prospect_id = c.prospect_id
ORDER BY c.prospect_id
"""


def prospect_members_sql(assign: str, numbers: str) -> str:
    return f"""
SELECT x.prospect_id, x.number AS msisdn, n.carrier, n.on_net
FROM {assign} AS x JOIN {numbers} AS n ON n.number = x.number
ORDER BY x.prospect_id, x.number
"""
