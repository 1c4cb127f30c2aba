"""Potential members (潜在成员) and key competitor users (重点异网用户): mobile numbers that are not
registered members of a group but are in contact with it, with the features of an employee score.
"""

from __future__ import annotations

from transforms.sql import lit


def candidate_features_sql(members: str, adj: str, presence: str, numbers: str, part=None,
                           totals: str | None = None, group_cells: str | None = None, member_ties: str | None = None,
                           member_keys: str | None = None) -> str:
    """One row per (group, non-member mobile number) in contact with at least one member.

    `numbers(number, number_type, carrier, on_net)` describes every graph node. `part(expr)`: the SQL
    condition on a candidate's number that keeps one hash partition of the candidates (every row of a
    candidate depends only on its own number's contacts), None for all at once.
    The parts that do not depend on the partition can be computed once and passed in (a run in
    partitions then reads them instead of recomputing them in each): `totals(msisdn, events, contacts)`,
    every number's events and contacts in `adj` (candidate_totals_sql), and `group_cells(group_id, cell,
    rec)`, the members' working-time records per cell (group_cells_sql), `member_keys(group_id, msisdn,
    k)`, an integer key per registered member of a group (member_keys_sql), and `member_ties(xk, yk)`,
    the ties between two members of a group by those keys (member_ties_sql over the same keys; both or
    neither). With `totals`, `adj` needs only the rows whose x is a member.
    """
    if (member_ties is None) != (member_keys is None):
        raise ValueError("member_ties and member_keys are passed together (the ties are by the keys' numbering)")
    part = part or (lambda expr: "true")
    total = (f"SELECT msisdn, events, contacts FROM {totals} WHERE {part('msisdn')}" if totals else
             f"SELECT x AS msisdn, sum(events) AS events, count(*) AS contacts FROM {adj} WHERE {part('x')} GROUP BY x")
    wp = f"SELECT group_id, cell, rec FROM {group_cells}" if group_cells else group_cells_sql("m", presence)
    keys = f"SELECT group_id, msisdn, k FROM {member_keys}" if member_keys else member_keys_sql(members)
    ties = f"SELECT xk, yk FROM {member_ties}" if member_ties else member_ties_sql("m", adj)
    return f"""
WITH m AS ({keys}),
gsize AS (SELECT group_id, count(*) AS listed FROM m GROUP BY group_id),
touch AS (
    SELECT m.group_id, a.y AS msisdn, m.msisdn AS member, m.k AS mk, a.events, a.work_events, a.active_days, a.reciprocal
    FROM m JOIN {adj} AS a ON a.x = m.msisdn
    LEFT JOIN m AS m2 ON m2.group_id = m.group_id AND m2.msisdn = a.y
    WHERE m2.msisdn IS NULL AND {part("a.y")}
),
cand AS (
    SELECT group_id, msisdn,
           count(DISTINCT member) AS members_contacted,
           sum(events) AS events_with_group,
           sum(work_events) * 1.0 / sum(events) AS work_share,
           sum(CASE WHEN reciprocal THEN 1 ELSE 0 END) * 1.0 / count(*) AS reciprocal_share,
           max(active_days) AS max_active_days,
           max(events) * 1.0 / sum(events) AS top_member_share
    FROM touch GROUP BY group_id, msisdn
),
total AS ({total}),
-- closure: how many of the members it contacts are in contact with another member it contacts
-- (an employee's contacts are a department that calls each other; a supplier's are scattered)
-- the ties between members by the members' integer keys (one key names a member of one group)
kties AS ({ties}),
closed AS (
    SELECT t1.group_id, t1.msisdn, count(DISTINCT t1.mk) AS supported
    FROM touch AS t1 JOIN touch AS t2 ON t2.group_id = t1.group_id AND t2.msisdn = t1.msisdn
    JOIN kties AS a ON a.xk = t1.mk AND a.yk = t2.mk
    GROUP BY t1.group_id, t1.msisdn
),
-- co-location of on-net candidates with the group's members in working time
wp AS ({wp}),
present AS (SELECT group_id, sum(rec) AS total FROM wp GROUP BY group_id),
cwork AS (SELECT number AS msisdn, cell, records FROM {presence} WHERE time_bin = 0 AND {part("number")}),
coloc AS (
    -- share of the group's working-time records made in the cells where the candidate works
    SELECT c.group_id, c.msisdn, sum(w.records) AS work_records,
           sum(w.records * coalesce(p.rec, 0)) * 1.0 / (sum(w.records) * greatest(max(pr.total), 1)) AS colocation
    FROM cand AS c JOIN cwork AS w ON w.msisdn = c.msisdn
    LEFT JOIN wp AS p ON p.group_id = c.group_id AND p.cell = w.cell
    JOIN present AS pr ON pr.group_id = c.group_id
    GROUP BY c.group_id, c.msisdn
)
SELECT c.group_id, c.msisdn, n.carrier, n.on_net, g.listed,
       c.members_contacted, c.members_contacted * 1.0 / g.listed AS member_share,
       c.events_with_group, t.events AS total_events, t.contacts AS total_contacts,
       c.events_with_group * 1.0 / t.events AS focus,
       c.work_share, c.reciprocal_share, c.max_active_days, c.top_member_share,
       coalesce(l.work_records, 0) AS work_records, l.colocation,
       coalesce(k.supported, 0) AS supported_contacts,
       CASE WHEN c.members_contacted >= 2 THEN coalesce(k.supported, 0) * 1.0 / c.members_contacted END AS closure
FROM cand AS c
JOIN gsize AS g ON g.group_id = c.group_id
JOIN total AS t ON t.msisdn = c.msisdn
JOIN {numbers} AS n ON n.number = c.msisdn
LEFT JOIN coloc AS l ON l.group_id = c.group_id AND l.msisdn = c.msisdn
LEFT JOIN closed AS k ON k.group_id = c.group_id AND k.msisdn = c.msisdn
WHERE n.number_type = 'mobile'
"""


def group_cells_sql(members: str, presence: str) -> str:
    """The members' working-time records per group and cell: (group_id, cell, rec)."""
    return (f"SELECT m.group_id, p.cell, sum(p.records) AS rec FROM (SELECT DISTINCT group_id, msisdn FROM {members}) AS m "
            f"JOIN {presence} AS p ON p.number = m.msisdn WHERE p.time_bin = 0 GROUP BY m.group_id, p.cell")


def member_keys_sql(members: str) -> str:
    """An integer key per registered member of a group, in (group, number) order: (group_id, msisdn, k)."""
    return (f"SELECT group_id, msisdn, row_number() OVER (ORDER BY group_id, msisdn) AS k "
            f"FROM (SELECT DISTINCT group_id, msisdn FROM {members}) AS d")


def member_ties_sql(keys: str, adj: str) -> str:
    """The ties between two registered members of one group, both directions, by their keys
    (member_keys_sql): (xk, yk). A join on two integers, not on a group and two numbers."""
    return (f"SELECT k1.k AS xk, k2.k AS yk FROM {keys} AS k1 JOIN {adj} AS a ON a.x = k1.msisdn "
            f"JOIN {keys} AS k2 ON k2.group_id = k1.group_id AND k2.msisdn = a.y")


def candidate_totals_sql(adj: str) -> str:
    """Every number's events and contacts in the adjacency: (msisdn, events, contacts)."""
    return f"SELECT x AS msisdn, sum(events) AS events, count(*) AS contacts FROM {adj} GROUP BY x"


def numbers_sql(calls: str, home_carrier: str, sides: str | None = None) -> str:
    """Every mobile or fixed number seen in the calls with its carrier and on-net flag at its latest
    record: a number that ported in or out during the month is seen on both sides of the port, and
    what counts is where it ended the month (on a tie in time, on-net wins). With `sides`
    (graph.number_sides_sql over the calls), from its rows instead of the calls': the same numbers."""
    if sides is not None:
        return f"""
WITH latest AS (
    SELECT number, max(number_type) AS number_type,
           arg_max(on_net, epoch(last_start) * 2 + CAST(on_net AS INTEGER)) AS on_net,
           arg_max(carrier, epoch(last_start)) FILTER (WHERE NOT on_net) AS offnet_carrier
    FROM {sides} WHERE number_type IN ('mobile', 'fixed') GROUP BY number
)
SELECT number, number_type, CASE WHEN on_net THEN {lit(home_carrier)} ELSE offnet_carrier END AS carrier, on_net
FROM latest
"""
    return f"""
WITH seen AS (
    SELECT caller AS number, caller_type AS number_type, caller_on_net AS on_net,
           CASE WHEN caller_on_net THEN {lit(home_carrier)} ELSE other_carrier END AS carrier, start_time
    FROM {calls} WHERE caller_type IN ('mobile', 'fixed')
    UNION ALL
    SELECT callee, callee_type, callee_on_net,
           CASE WHEN callee_on_net THEN {lit(home_carrier)} ELSE other_carrier END, start_time
    FROM {calls} WHERE callee_type IN ('mobile', 'fixed')
),
latest AS (
    SELECT number, max(number_type) AS number_type,
           arg_max(on_net, epoch(start_time) * 2 + CAST(on_net AS INTEGER)) AS on_net,
           arg_max(carrier, epoch(start_time)) FILTER (WHERE NOT on_net) AS offnet_carrier
    FROM seen GROUP BY number
)
SELECT number, number_type, CASE WHEN on_net THEN {lit(home_carrier)} ELSE offnet_carrier END AS carrier, on_net
FROM latest
"""
