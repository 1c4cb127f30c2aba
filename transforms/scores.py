"""Fake-member score and potential-member (employee) score, as SQL over the feature tables.

Both compare a number with its group's *typical* real member: the group's upper quartile (Q) of each
signal. Fakes are a minority of a group, so the upper quartile is a real member's value, in a
5-person group as in a 2,000-person group with departments; a signal is scored as the ratio to that
reference, capped at 1. This keeps the scores free of absolute scales that differ between operators
(calling rates, cell sizes, working hours).
"""

from __future__ import annotations

Q = 0.75

# weights of the real-member evidence
FAKE_WEIGHTS = {"coupling": 0.25, "work": 0.20, "colocation": 0.25, "time": 0.15, "own_work": 0.15}
# weight of co-location x working-time activity taken alone (a colleague who calls no registered member)
OFFICE_EVIDENCE = 0.9
# weights of the employee evidence (co-location only for on-net numbers seen in working time)
EMPLOYEE_WEIGHTS = {"work": 0.35, "coupling": 0.25, "focus": 0.15, "colocation": 0.25}
MIN_WORK_RECORDS = 3


def group_reference_sql(features: str) -> str:
    return f"""
SELECT group_id,
       quantile_cont(members_contacted, {Q}) AS ref_k,
       quantile_cont(in_work_share, {Q}) AS ref_work,
       quantile_cont(colocation, {Q}) AS ref_coloc,
       quantile_cont(time_similarity, {Q}) AS ref_time,
       quantile_cont(own_work_share, {Q}) AS ref_own_work,
       quantile_cont(in_volume_share, {Q}) AS ref_focus
FROM {features} GROUP BY group_id
"""


def _ratio(x: str, ref: str, floor: float) -> str:
    return f"least(1.0, greatest(0.0, {x} / greatest({ref}, {floor})))"


def _pct(x: str) -> str:
    return f"CAST(CAST(round(100 * {x}) AS INTEGER) AS VARCHAR) || '%'"


def fake_scores_sql(features: str, refs: str) -> str:
    w = FAKE_WEIGHTS
    return f"""
WITH r AS (
    SELECT f.*, g.ref_k, g.ref_work, g.ref_coloc, g.ref_time, g.ref_own_work,
           least(1.0, f.members_contacted / greatest(1.0, least(f.listed - 1, g.ref_k))) AS r_coupling,
           {_ratio("f.in_work_share", "g.ref_work", 0.05)} AS r_work,
           {_ratio("f.colocation", "g.ref_coloc", 0.01)} AS r_colocation,
           {_ratio("f.time_similarity", "g.ref_time", 0.05)} AS r_time,
           {_ratio("f.own_work_share", "g.ref_own_work", 0.05)} AS r_own_work
    FROM {features} AS f JOIN {refs} AS g ON g.group_id = f.group_id
),
s AS (
    SELECT *,
           CASE WHEN own_events = 0 THEN 1.0
                ELSE 1.0 - greatest(
                    {w['coupling']} * r_coupling + {w['work']} * r_work + {w['colocation']} * r_colocation
                        + {w['time']} * r_time + {w['own_work']} * r_own_work,
                    -- at work among colleagues is evidence on its own, even without calls to registered members
                    {OFFICE_EVIDENCE} * r_colocation * r_own_work) END AS fake_score
    FROM r
)
SELECT group_id, msisdn, listed, fake_score,
       r_coupling, r_work, r_colocation, r_time, r_own_work,
       members_contacted, in_work_share, colocation, own_events, own_work_share,
       CASE WHEN own_events = 0 THEN
            'dormant: no calls or SMS with any number in the period' ||
            CASE WHEN service_events > 0 THEN ' (' || CAST(service_events AS VARCHAR) || ' with service codes only)' ELSE '' END
       ELSE concat_ws('; ',
            CASE WHEN r_coupling < 0.7 THEN 'contacts ' || CAST(members_contacted AS VARCHAR) || ' of '
                 || CAST(listed - 1 AS VARCHAR) || ' other members (typical ' || CAST(CAST(round(ref_k) AS INTEGER) AS VARCHAR) || ')' END,
            CASE WHEN r_work < 0.7 THEN {_pct("in_work_share")} || ' of calls with members in working hours (typical '
                 || {_pct("ref_work")} || ')' END,
            CASE WHEN r_colocation < 0.7 THEN 'at work shares cells with ' || {_pct("colocation")}
                 || ' of colleagues (typical ' || {_pct("ref_coloc")} || ')' END,
            CASE WHEN r_own_work < 0.7 THEN {_pct("own_work_share")} || ' of own calls in working hours (typical '
                 || {_pct("ref_own_work")} || ')' END,
            CASE WHEN r_time < 0.7 THEN 'calling-time profile unlike the group''s' END,
            CASE WHEN fake_score < 0.3 AND members_contacted > 0 THEN 'calls like a colleague: ' || CAST(members_contacted AS VARCHAR)
                 || ' member contacts, ' || {_pct("in_work_share")} || ' of them in working hours' END,
            CASE WHEN fake_score < 0.5 AND r_colocation >= 0.7 THEN 'at work in the same cells as ' || {_pct("colocation")}
                 || ' of colleagues' END
       ) END AS reasons
FROM s
"""


def employee_scores_sql(candidates: str, refs: str) -> str:
    w = EMPLOYEE_WEIGHTS
    off_total = w["work"] + w["coupling"] + w["focus"]
    return f"""
WITH r AS (
    SELECT c.*,
           {_ratio("c.work_share", "g.ref_work", 0.05)} AS r_work,
           least(1.0, greatest(0.0, (c.members_contacted - 1) / greatest(1.0, least(c.listed - 1, g.ref_k)))) AS r_coupling,
           {_ratio("c.focus", "g.ref_focus", 0.05)} AS r_focus,
           {_ratio("coalesce(c.colocation, 0)", "g.ref_coloc", 0.01)} AS r_colocation,
           c.colocation IS NOT NULL AND c.work_records >= {MIN_WORK_RECORDS} AS seen_at_work
    FROM {candidates} AS c JOIN {refs} AS g ON g.group_id = c.group_id
)
SELECT *,
       CASE WHEN seen_at_work
            THEN {w['work']} * r_work + {w['coupling']} * r_coupling + {w['focus']} * r_focus + {w['colocation']} * r_colocation
            ELSE ({w['work']} * r_work + {w['coupling']} * r_coupling + {w['focus']} * r_focus) / {off_total}
       END AS score
FROM r
"""
