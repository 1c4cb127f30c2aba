"""Prospect groups: tightly knit calling communities that look like companies but are not registered.

The graph is the month's work-like ties (mostly in working hours, repeated) between mobile numbers
that are not registered members of any active group. Communities come from the Leiden algorithm
(leidenalg on igraph, modularity, fixed seed); a community is a prospect when it is large enough,
works together in working hours and is not mostly the unregistered staff of an existing group.
"""

from __future__ import annotations

import igraph as ig
import leidenalg
import pyarrow as pa


def prospect_edges_sql(
    graph: str, members: str, numbers: str, potential: str, min_work_share: float, min_events: int, employee_threshold: float
) -> str:
    """Work-like ties between mobile numbers that belong to no registered group: neither registered
    members nor likely employees of a group (those are the group's potential members already)."""
    return f"""
WITH taken AS (
    SELECT msisdn FROM {members}
    UNION SELECT msisdn FROM {potential} WHERE score >= {employee_threshold}
)
SELECT g.u, g.v, g.events AS weight
FROM {graph} AS g
JOIN {numbers} AS nu ON nu.number = g.u AND nu.number_type = 'mobile'
JOIN {numbers} AS nv ON nv.number = g.v AND nv.number_type = 'mobile'
WHERE g.work_share >= {min_work_share} AND g.events >= {min_events}
  AND g.u NOT IN (SELECT msisdn FROM taken) AND g.v NOT IN (SELECT msisdn FROM taken)
ORDER BY g.u, g.v
"""


def leiden_communities(edges: pa.Table, resolution: float = 1.0, seed: int = 7) -> pa.Table:
    """(u, v, weight) -> (number, community); communities numbered by size, largest first."""
    if edges.num_rows == 0:
        return pa.table({"number": pa.array([], pa.string()), "community": pa.array([], pa.int64())})
    u, v, w = edges["u"].to_pylist(), edges["v"].to_pylist(), edges["weight"].to_pylist()
    names = sorted(set(u) | set(v))
    index = {n: i for i, n in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(index[a], index[b]) for a, b in zip(u, v)])
    g.es["weight"] = [float(x) for x in w]
    # modularity with a resolution above 1 (RB configuration model) resolves small companies that plain
    # modularity would merge into their larger neighbours
    part = leidenalg.find_partition(
        g, leidenalg.RBConfigurationVertexPartition, weights="weight", resolution_parameter=resolution, seed=seed
    )
    groups = sorted((sorted(names[i] for i in c) for c in part), key=lambda c: (-len(c), c[0]))
    number, community = [], []
    for k, members in enumerate(groups):
        number += members
        community += [k] * len(members)
    return pa.table({"number": pa.array(number, pa.string()), "community": pa.array(community, pa.int64())})


def community_core_sql(assign: str, graph: str, min_ties: int) -> str:
    """The numbers of each community with at least `min_ties` distinct ties to others of the same community.
    A colleague knows several colleagues; a relative or friend who is pulled into a company's community by
    a single tie is not one of its staff."""
    return f"""
WITH ties AS (
    SELECT x.number, x.community, y.number AS other
    FROM {graph} AS g JOIN {assign} AS x ON x.number = g.u JOIN {assign} AS y ON y.number = g.v
    WHERE x.community = y.community
    UNION ALL
    SELECT y.number, y.community, x.number
    FROM {graph} AS g JOIN {assign} AS x ON x.number = g.u JOIN {assign} AS y ON y.number = g.v
    WHERE x.community = y.community
)
SELECT number, community FROM ties GROUP BY number, community HAVING count(DISTINCT other) >= {min_ties}
ORDER BY community, number
"""


def prospects_sql(
    assign: str,
    numbers: str,
    potential: str,
    graph: str,
    adj: str,
    members: str,
    min_size: int,
    max_group_overlap: float,
    employee_threshold: float,
    max_attachment: float,
) -> str:
    """Per community: size, carrier mix, work-time share of its internal ties, overlap with registered groups."""
    return f"""
WITH a AS (SELECT x.number, x.community, n.carrier, n.on_net FROM {assign} AS x JOIN {numbers} AS n ON n.number = x.number),
inner_ties AS (
    SELECT ca.community, sum(g.events) AS events, sum(g.work_events) AS work_events, count(*) AS ties
    FROM {graph} AS g JOIN {assign} AS ca ON ca.number = g.u JOIN {assign} AS cb ON cb.number = g.v
    WHERE ca.community = cb.community GROUP BY ca.community
),
overlap AS (
    SELECT a.community, count(DISTINCT a.number) AS near_group
    FROM a JOIN {potential} AS p ON p.msisdn = a.number WHERE p.score >= {employee_threshold} GROUP BY a.community
),
-- calls between the community and the members of its most-called registered group
attached AS (
    SELECT community, events, group_id FROM (
        SELECT community, group_id, events,
               row_number() OVER (PARTITION BY community ORDER BY events DESC, group_id) AS rk
        FROM (
            SELECT x.community, m.group_id, sum(ad.events) AS events
            FROM {assign} AS x JOIN {adj} AS ad ON ad.x = x.number JOIN {members} AS m ON m.msisdn = ad.y
            GROUP BY x.community, m.group_id) AS t) AS r
    WHERE rk = 1
),
mix AS (
    SELECT community, string_agg(carrier || ':' || CAST(n AS VARCHAR), ';' ORDER BY n DESC, carrier) AS carrier_mix
    FROM (SELECT community, carrier, count(*) AS n FROM a GROUP BY community, carrier) AS c GROUP BY community
),
c AS (
    SELECT a.community, count(*) AS size, count(*) FILTER (WHERE a.on_net) AS onnet,
           count(*) FILTER (WHERE NOT a.on_net) AS offnet
    FROM a GROUP BY a.community
)
SELECT c.community AS prospect_id, c.size, c.onnet, c.offnet, m.carrier_mix,
       t.ties, t.work_events * 1.0 / t.events AS work_share,
       t.ties * 2.0 / (c.size * (c.size - 1)) AS density,
       coalesce(o.near_group, 0) * 1.0 / c.size AS group_overlap,
       att.group_id AS nearest_group, coalesce(att.events, 0) * 1.0 / t.events AS group_attachment
FROM c JOIN mix AS m ON m.community = c.community
JOIN inner_ties AS t ON t.community = c.community
LEFT JOIN overlap AS o ON o.community = c.community
LEFT JOIN attached AS att ON att.community = c.community
WHERE c.size >= {min_size} AND coalesce(o.near_group, 0) * 1.0 / c.size <= {max_group_overlap}
  AND coalesce(att.events, 0) * 1.0 / t.events <= {max_attachment}
ORDER BY c.size DESC, c.community
"""


def prospect_members_sql(assign: str, numbers: str, prospects: str) -> str:
    return f"""
SELECT x.community AS prospect_id, x.number AS msisdn, n.carrier, n.on_net
FROM {assign} AS x JOIN {numbers} AS n ON n.number = x.number
WHERE x.community IN (SELECT prospect_id FROM {prospects})
ORDER BY x.community, x.number
"""


