"""Contact coupling (联系耦合度) and calling fingerprint (呼叫指纹) of every registered member.

Inputs are relation names: `members(group_id, msisdn)` (registered at period end, active groups),
`adj` (transforms.graph.adjacency_sql), `presence` (graph.presence_sql), `profile(number,
time_bin, n)` (profile_sql) and `activity` (graph.activity_sql). Every feature of a member compares
it with the *other* members of its group, so a member never explains itself.
"""

from __future__ import annotations

from transforms.sql import num

N_BINS = 5


def profile_sql(events: str) -> str:
    """Per number and time-of-week bin: events on either side."""
    return f"""
SELECT number, time_bin, count(*) AS n FROM (
    SELECT a AS number, time_bin FROM {events}
    UNION ALL
    SELECT b AS number, time_bin FROM {events}
) AS t GROUP BY number, time_bin
"""


def member_features_sql(members: str, adj: str, presence: str, profile: str, activity: str, billing: str,
                        tie_work_share: float, tie_min_work_events: int, period_end: str,
                        home_bins: tuple[int, ...] | list[int] = (2, 3, 4)) -> str:
    """One row per registered member with its coupling, fingerprint, billing and tenure features.

    `members(group_id, msisdn, member_role, since)`: `since` is the later of joining the group and
    activating the line. `billing(msisdn, voice_fee, data_fee, sms_fee, vas_fee)`: the month's bills.
    A tie is work-like when at least `tie_work_share` of its events are in working time; it counts as
    min(1, working-time events / `tie_min_work_events`) ties. `home_bins`: the time bins whose cells are
    a line's home (analytics.model.home_time_bins); its working-time records made at home add nothing to
    its co-location (a relative at home with a member is family, not a colleague at work).
    """
    # a work-like tie counts in proportion to its working-time events, fully from tie_min_work_events on
    work_tie = f"(a.work_events >= 1 AND a.work_events >= {num(tie_work_share)} * a.events)"
    weight = f"least(1.0, work_events * 1.0 / {int(tie_min_work_events)})"
    home_list = ", ".join(str(int(b)) for b in home_bins) or "-1"
    return f"""
WITH m AS (
    SELECT group_id, msisdn, CASE WHEN bool_or(member_role = 'key_person') THEN 'key_person' ELSE max(member_role) END AS member_role,
           max(since) AS since
    FROM {members} GROUP BY group_id, msisdn
),
gsize AS (SELECT group_id, count(*) AS listed FROM m GROUP BY group_id),
madj AS (
    SELECT m.group_id, m.msisdn, a.y, a.events, a.work_events, a.active_days, a.reciprocal,
           m2.msisdn IS NOT NULL AS y_member, coalesce(m2.member_role = 'key_person', false) AS y_key,
           {work_tie} AS work_tie
    FROM m JOIN {adj} AS a ON a.x = m.msisdn
    LEFT JOIN m AS m2 ON m2.group_id = m.group_id AND m2.msisdn = a.y
),
base AS (
    SELECT group_id, msisdn,
           count(*) AS contacts,
           count(*) FILTER (WHERE y_member) AS members_contacted,
           count(*) FILTER (WHERE y_member AND work_tie AND NOT y_key) AS work_contacts,
           coalesce(sum({weight}) FILTER (WHERE y_member AND work_tie AND NOT y_key), 0) AS work_ties,
           coalesce(max({weight}) FILTER (WHERE y_member AND work_tie AND y_key), 0) AS key_person_tie,
           coalesce(sum(work_events) FILTER (WHERE y_member AND work_tie), 0) AS work_tie_events,
           sum(events) AS events,
           coalesce(sum(events) FILTER (WHERE y_member), 0) AS events_in,
           coalesce(sum(work_events) FILTER (WHERE y_member), 0) AS work_events_in,
           coalesce(sum(work_events), 0) AS work_events,
           count(*) FILTER (WHERE y_member AND reciprocal) AS reciprocal_members,
           coalesce(max(events) FILTER (WHERE y_member), 0) AS top_member_events,
           coalesce(arg_max(work_events * 1.0 / events, events) FILTER (WHERE y_member), 0) AS top_member_work_share
    FROM madj GROUP BY group_id, msisdn
),
hop AS (
    SELECT d1.group_id, d1.msisdn, count(DISTINCT d2.y) AS reach2
    FROM madj AS d1 JOIN madj AS d2 ON d2.group_id = d1.group_id AND d2.msisdn = d1.y
    WHERE d1.y_member AND d2.y_member AND d2.y <> d1.msisdn
    GROUP BY d1.group_id, d1.msisdn
),
outside AS (
    SELECT group_id, y, count(DISTINCT msisdn) AS k FROM madj WHERE NOT y_member GROUP BY group_id, y
),
shared AS (
    SELECT d.group_id, d.msisdn,
           sum(CASE WHEN o.k >= 2 THEN d.events ELSE 0 END) * 1.0 / sum(d.events) AS shared_outside_share
    FROM madj AS d JOIN outside AS o ON o.group_id = d.group_id AND o.y = d.y
    WHERE NOT d.y_member GROUP BY d.group_id, d.msisdn
),
wp AS (
    SELECT m.group_id, m.msisdn, p.cell, p.records
    FROM m JOIN {presence} AS p ON p.number = m.msisdn WHERE p.time_bin = 0
),
-- a member's home: the cells where it is seen at night or on rest days
home AS (SELECT DISTINCT number, cell FROM {presence} WHERE time_bin IN ({home_list})),
cellrec AS (SELECT group_id, cell, sum(records) AS rec FROM wp GROUP BY group_id, cell),
grouprec AS (SELECT group_id, sum(records) AS total FROM wp GROUP BY group_id),
ownrec AS (SELECT group_id, msisdn, sum(records) AS own FROM wp GROUP BY group_id, msisdn),
cells AS (
    -- co-location: over m's working-time records, the mean share of the other members' working-time
    -- records made in the same cell (an office holds a large share of them, a home a tiny one); a record
    -- made at m's own home counts 0: a relative at home with the member it lives with is not at work
    SELECT w.group_id, w.msisdn, max(o.own) AS work_records,
           sum(CASE WHEN h.cell IS NULL THEN w.records * (c.rec - w.records) ELSE 0 END) * 1.0
               / (max(o.own) * greatest(max(t.total) - max(o.own), 1)) AS colocation
    FROM wp AS w JOIN cellrec AS c ON c.group_id = w.group_id AND c.cell = w.cell
    JOIN grouprec AS t ON t.group_id = w.group_id
    JOIN ownrec AS o ON o.group_id = w.group_id AND o.msisdn = w.msisdn
    LEFT JOIN home AS h ON h.number = w.msisdn AND h.cell = w.cell
    GROUP BY w.group_id, w.msisdn
),
prof AS (
    SELECT m.group_id, m.msisdn, p.time_bin, p.n FROM m JOIN {profile} AS p ON p.number = m.msisdn
),
gprof AS (SELECT group_id, time_bin, sum(n) AS n FROM prof GROUP BY group_id, time_bin),
pm AS (SELECT DISTINCT group_id, msisdn FROM prof),
cos AS (
    -- cosine of the member's profile with the rest of the group's, over every bin the group uses
    SELECT m.group_id, m.msisdn,
           sum(coalesce(p.n, 0) * (g.n - coalesce(p.n, 0)))
               / (nullif(sqrt(sum(coalesce(p.n, 0) * coalesce(p.n, 0))), 0)
                  * nullif(sqrt(sum((g.n - coalesce(p.n, 0)) * (g.n - coalesce(p.n, 0)))), 0)) AS time_similarity,
           sum(CASE WHEN g.time_bin = 0 THEN coalesce(p.n, 0) ELSE 0 END) * 1.0 / nullif(sum(coalesce(p.n, 0)), 0) AS own_work_share
    FROM pm AS m JOIN gprof AS g ON g.group_id = m.group_id
    LEFT JOIN prof AS p ON p.group_id = m.group_id AND p.msisdn = m.msisdn AND p.time_bin = g.time_bin
    GROUP BY m.group_id, m.msisdn
),
bill AS (
    SELECT msisdn, sum(voice_fee) AS voice_fee, sum(data_fee) AS data_fee, sum(sms_fee) AS sms_fee, sum(vas_fee) AS vas_fee
    FROM {billing} GROUP BY msisdn
),
act AS (SELECT m.group_id, m.msisdn, coalesce(a.events, 0) AS own_events FROM m LEFT JOIN {activity} AS a ON a.number = m.msisdn),
gact AS (SELECT group_id, count(*) FILTER (WHERE own_events > 0) AS active FROM act GROUP BY group_id),
others AS (
    -- other members of the group that made any call or SMS: the ones that can vouch for a colleague
    SELECT a.group_id, a.msisdn, g.active - CASE WHEN a.own_events > 0 THEN 1 ELSE 0 END AS other_active
    FROM act AS a JOIN gact AS g ON g.group_id = a.group_id
)
SELECT m.group_id, m.msisdn, g.listed, m.member_role,
       coalesce(m.member_role = 'key_person', false) AS is_key_person,
       greatest(0, least(date_diff('day', m.since, DATE '{period_end}') + 1, day(DATE '{period_end}'))) AS days_observed,
       day(DATE '{period_end}') AS days_in_period,
       coalesce(ac.events, 0) AS own_events,
       coalesce(ac.service_events, 0) AS service_events,
       coalesce(ac.active_days, 0) AS active_days,
       coalesce(b.contacts, 0) AS contacts,
       coalesce(b.members_contacted, 0) AS members_contacted,
       coalesce(b.work_contacts, 0) AS work_contacts,
       coalesce(b.work_ties, 0) AS work_ties,
       coalesce(b.key_person_tie, 0) AS key_person_tie,
       coalesce(b.work_tie_events, 0) AS work_tie_events,
       coalesce(b.work_events, 0) AS graph_work_events,
       coalesce(b.events, 0) AS graph_events,
       coalesce(b.events_in, 0) AS events_in,
       CASE WHEN b.events > 0 THEN b.events_in * 1.0 / b.events ELSE 0 END AS in_volume_share,
       CASE WHEN b.events_in > 0 THEN b.work_events_in * 1.0 / b.events_in ELSE 0 END AS in_work_share,
       CASE WHEN b.events_in > 0 THEN b.top_member_events * 1.0 / b.events_in ELSE 0 END AS top_member_share,
       coalesce(b.top_member_events, 0) AS top_member_events,
       coalesce(b.top_member_work_share, 0) AS top_member_work_share,
       coalesce(b.reciprocal_members, 0) AS reciprocal_members,
       coalesce(h.reach2, 0) AS reach2,
       CASE WHEN g.listed > 1 THEN coalesce(h.reach2, 0) * 1.0 / (g.listed - 1) ELSE 0 END AS reach2_share,
       coalesce(s.shared_outside_share, 0) AS shared_outside_share,
       coalesce(c.work_records, 0) AS work_records,
       coalesce(c.colocation, 0) AS colocation,
       coalesce(t.time_similarity, 0) AS time_similarity,
       coalesce(t.own_work_share, 0) AS own_work_share,
       coalesce(bl.voice_fee, 0) AS voice_fee, coalesce(bl.data_fee, 0) AS data_fee,
       coalesce(bl.sms_fee, 0) AS sms_fee, coalesce(bl.vas_fee, 0) AS vas_fee,
       bl.msisdn IS NOT NULL AS billed,
       o.other_active
FROM m
JOIN gsize AS g ON g.group_id = m.group_id
LEFT JOIN {activity} AS ac ON ac.number = m.msisdn
LEFT JOIN base AS b ON b.group_id = m.group_id AND b.msisdn = m.msisdn
LEFT JOIN hop AS h ON h.group_id = m.group_id AND h.msisdn = m.msisdn
LEFT JOIN shared AS s ON s.group_id = m.group_id AND s.msisdn = m.msisdn
LEFT JOIN cells AS c ON c.group_id = m.group_id AND c.msisdn = m.msisdn
LEFT JOIN cos AS t ON t.group_id = m.group_id AND t.msisdn = m.msisdn
LEFT JOIN bill AS bl ON bl.msisdn = m.msisdn
LEFT JOIN others AS o ON o.group_id = m.group_id AND o.msisdn = m.msisdn
"""


def colleague_ties_sql(members: str, adj: str, employees: str, tie_work_share: float, tie_min_work_events: int) -> str:
    """Per member: work-like ties with the group's likely employees that are not registered (on-net or
    off-net colleagues), and with the group's other work contacts. `employees(group_id, msisdn)` lists the
    likely employees.

    A **shared work contact** of a member is a number not registered in its group with which the member
    has a work-like tie and with which at least one other member of the group has one too: the company's
    client, supplier, switchboard, or its unregistered staff (a likely employee is both a colleague tie
    and a shared contact: the first says the member works with a colleague, the second that its
    working-time circle is the group's). A line whose few working-time contacts are the group's is at
    work with the group; a resold SIM's or a relative's contacts are their own circle.
    """
    work_tie = f"a.work_events >= 1 AND a.work_events >= {num(tie_work_share)} * a.events"
    return f"""
WITH m AS (SELECT DISTINCT group_id, msisdn FROM {members}),
t AS (
    SELECT m.group_id, m.msisdn, a.y, a.work_events, e.msisdn IS NOT NULL AS employee
    FROM m JOIN {adj} AS a ON a.x = m.msisdn
    LEFT JOIN m AS m2 ON m2.group_id = m.group_id AND m2.msisdn = a.y
    LEFT JOIN (SELECT DISTINCT group_id, msisdn FROM {employees}) AS e ON e.group_id = m.group_id AND e.msisdn = a.y
    WHERE m2.msisdn IS NULL AND {work_tie}
),
k AS (SELECT group_id, y, count(*) AS members FROM t GROUP BY group_id, y)
SELECT t.group_id, t.msisdn,
       count(*) FILTER (WHERE t.employee) AS colleague_contacts,
       coalesce(sum(least(1.0, t.work_events * 1.0 / {int(tie_min_work_events)})) FILTER (WHERE t.employee), 0) AS colleague_ties,
       coalesce(sum(t.work_events) FILTER (WHERE t.employee), 0) AS colleague_work_events,
       count(*) FILTER (WHERE k.members >= 2) AS shared_contacts,
       coalesce(sum(t.work_events) FILTER (WHERE k.members >= 2), 0) AS shared_work_events
FROM t JOIN k ON k.group_id = t.group_id AND k.y = t.y
GROUP BY t.group_id, t.msisdn
"""
