"""Group size, purity and market share, two ways, with correction coefficients calibrated on surveys.

Off-net employees are seen only through calls with home subscribers, so any count of them from the
call graph undercounts them. Two counts are corrected:

- **rule**: the operator's established rule, key competitor users = off-net numbers in contact with
  more than `potential_member_share` (10 %) of the group's members;
- **score**: off-net numbers whose employee score reaches the threshold (likely employees).

On-net staff = real members that are people (real members less data cards and IoT SIMs, which are
lines, not employees) + on-net unregistered likely employees. Account managers' on-site surveys give
the headcount of some groups. For a surveyed group the off-net employees the survey implies are
headcount - on-net staff; each
method's correction coefficient is the ratio estimator sum(implied) / sum(count) over the surveyed
groups, per industry where it has at least `min_surveys` surveys, over all groups otherwise. Its
error is measured leave-one-out: each surveyed group is predicted with the coefficient fitted on the
other surveys of its scope, and the absolute difference between the predicted market share and the
survey's (on-net estimate / surveyed headcount) is averaged, in percentage points. Without surveys
(or with nothing counted on the surveyed groups) a method is 'uncalibrated': no coefficient, the
uncorrected count is used, and the run warns.
"""

from __future__ import annotations

METHODS = {"score": "offnet_detected", "rule": "offnet_key_competitor"}


def group_counts_sql(groups: str, fake: str, potential: str, fake_threshold: float, employee_threshold: float,
                     key_share: float) -> str:
    """Per active group: listed, suspect, insufficient-evidence and real members; on-net unregistered
    and off-net likely employees (score); key competitor users (rule: member_share > key_share)."""
    return f"""
WITH f AS (
    SELECT group_id, count(*) AS listed_members,
           count(*) FILTER (WHERE is_suspect) AS suspect_members,
           count(*) FILTER (WHERE evidence = 'insufficient') AS insufficient_members,
           count(*) FILTER (WHERE data_line) AS data_lines
    FROM {fake} GROUP BY group_id
),
p AS (
    SELECT group_id,
           count(*) FILTER (WHERE on_net AND score >= {employee_threshold}) AS est_onnet_unregistered,
           count(*) FILTER (WHERE NOT on_net AND score >= {employee_threshold}) AS offnet_detected,
           count(*) FILTER (WHERE NOT on_net AND member_share > {key_share}) AS offnet_key_competitor
    FROM {potential} GROUP BY group_id
)
SELECT g.group_id, g.industry, g.region, g.account_manager_id,
       f.listed_members, f.suspect_members, f.listed_members - f.suspect_members AS real_members,
       (f.listed_members - f.suspect_members) * 1.0 / f.listed_members AS purity,
       f.insufficient_members, f.data_lines,
       -- employees on the home network: real members that are people (not data cards or IoT SIMs)
       f.listed_members - f.suspect_members - f.data_lines AS onnet_registered_staff,
       coalesce(p.est_onnet_unregistered, 0) AS est_onnet_unregistered,
       coalesce(p.offnet_detected, 0) AS offnet_detected,
       coalesce(p.offnet_key_competitor, 0) AS offnet_key_competitor
FROM {groups} AS g JOIN f ON f.group_id = g.group_id
LEFT JOIN p ON p.group_id = g.group_id
WHERE g.status = 'active'
"""


def _share(onnet: str, offnet: str) -> str:
    return f"CAST({onnet} AS DOUBLE) / nullif({onnet} + {offnet}, 0)"


def calibration_sql(counts: str, surveys: str, min_surveys: int) -> str:
    """Per scope (global, and industries with >= min_surveys surveys): for each method its coefficient,
    the mean absolute error in employees on the surveys it was fitted on, and the leave-one-out error of
    market share in percentage points. One 'global' row always exists; status says whether it is calibrated."""
    per_method = []
    for m, col in METHODS.items():
        pre = "" if m == "score" else "rule_"
        per_method.append(f"""
{m}_fit AS (
    SELECT s.scope, s.surveys, sum(o.offnet_implied) AS implied, sum(o.{col}) AS counted,
           sum(o.offnet_implied) * 1.0 / nullif(sum(o.{col}), 0) AS coefficient
    FROM scopes AS s JOIN obs AS o ON s.scope = 'global' OR s.scope = o.industry
    GROUP BY s.scope, s.surveys
),
{m}_err AS (
    SELECT k.scope,
           avg(abs(o.{col} * k.coefficient - o.offnet_implied)) AS mae_employees,
           -- leave one out: the coefficient of the scope's other surveys predicts this group's share
           avg(abs({_share("o.onnet_est", f"o.{col} * (k.implied - o.offnet_implied) / nullif(k.counted - o.{col}, 0)")}
                   - o.survey_share)) * 100 AS loo_mae_pp
    FROM {m}_fit AS k JOIN obs AS o ON k.scope = 'global' OR k.scope = o.industry
    WHERE o.headcount > 0
    GROUP BY k.scope
),
{m}_out AS (
    SELECT f.scope, f.coefficient AS {pre}coefficient,
           -- rounded: a parallel sum's last digits depend on the order
           round(e.mae_employees, 6) AS {pre}mae_employees, round(e.loo_mae_pp, 6) AS {pre}loo_mae_pp
    FROM {m}_fit AS f LEFT JOIN {m}_err AS e ON e.scope = f.scope
)""")
    return f"""
WITH s AS (
    SELECT group_id, surveyed_headcount FROM (
        SELECT group_id, surveyed_headcount,
               row_number() OVER (PARTITION BY group_id ORDER BY surveyed_at DESC) AS rk
        FROM {surveys}) AS x WHERE rk = 1
),
obs AS (
    SELECT c.industry, c.offnet_detected, c.offnet_key_competitor, s.surveyed_headcount AS headcount,
           c.onnet_registered_staff + c.est_onnet_unregistered AS onnet_est,
           greatest(0, s.surveyed_headcount - c.onnet_registered_staff - c.est_onnet_unregistered) AS offnet_implied,
           least(1.0, (c.onnet_registered_staff + c.est_onnet_unregistered) * 1.0 / nullif(s.surveyed_headcount, 0)) AS survey_share
    FROM {counts} AS c JOIN s ON s.group_id = c.group_id
),
scopes AS (
    SELECT 'global' AS scope, count(*) AS surveys FROM obs
    UNION ALL
    SELECT industry, count(*) FROM obs GROUP BY industry HAVING count(*) >= {int(min_surveys)}
),{",".join(per_method)}
SELECT s.scope, s.surveys,
       CASE WHEN sc.coefficient IS NULL AND r.rule_coefficient IS NULL THEN 'uncalibrated'
            WHEN sc.coefficient IS NULL THEN 'score uncalibrated'
            WHEN r.rule_coefficient IS NULL THEN 'rule uncalibrated'
            ELSE 'calibrated' END AS status,
       sc.coefficient, sc.mae_employees, sc.loo_mae_pp,
       r.rule_coefficient, r.rule_mae_employees, r.rule_loo_mae_pp
FROM scopes AS s
LEFT JOIN score_out AS sc ON sc.scope = s.scope
LEFT JOIN rule_out AS r ON r.scope = s.scope
WHERE s.scope = 'global' OR (sc.coefficient IS NOT NULL AND r.rule_coefficient IS NOT NULL)
"""


def market_share_sql(counts: str, calibration: str, previous: str) -> str:
    """Market share per group both ways, and its change since the previous month split into movement
    (this month's counts under last month's coefficient, against last month's share) and recalibration
    (this month's coefficient against last month's, on this month's counts).

    `previous` holds last month's group summary (group_id, the counts and each method's coefficient
    as applied), empty when that month has no results; `previous_month` then says 'missing'.
    """
    onnet = "(c.onnet_registered_staff + c.est_onnet_unregistered)"
    cols = []
    for m, col in METHODS.items():
        pre = "" if m == "score" else "rule_"
        coef = f"coalesce(i.{pre}coefficient, g.{pre}coefficient)"
        applied = f"coalesce({coef}, 1.0)"
        prev_onnet = "(p.onnet_registered_staff + p.est_onnet_unregistered)"
        prev_applied = f"coalesce(p.{pre}correction_coefficient, 1.0)"
        share = _share(onnet, f"c.{col} * {applied}")
        at_prev = _share(onnet, f"c.{col} * {prev_applied}")
        prev_share = _share(prev_onnet, f"p.{col} * {prev_applied}")
        cols.append(f"""
       {coef} AS {pre}correction_coefficient,
       CASE WHEN {coef} IS NULL THEN 'uncalibrated'
            WHEN i.{pre}coefficient IS NOT NULL THEN i.scope ELSE 'global' END AS {pre}coefficient_scope,
       c.{col} * {applied} AS {pre}est_offnet_employees,
       {share} AS {pre}market_share,
       {prev_share} AS {pre}previous_market_share,
       {share} - {prev_share} AS {pre}share_change,
       {at_prev} - {prev_share} AS {pre}share_change_movement,
       {share} - {at_prev} AS {pre}share_change_recalibration""")
    return f"""
SELECT c.*,{",".join(cols)},
       CASE WHEN NOT (SELECT count(*) > 0 FROM {previous}) THEN 'missing'
            WHEN p.group_id IS NULL THEN 'new group' ELSE 'present' END AS previous_month
FROM {counts} AS c
LEFT JOIN {calibration} AS i ON i.scope = c.industry AND i.scope <> 'global'
CROSS JOIN (SELECT * FROM {calibration} WHERE scope = 'global') AS g
LEFT JOIN {previous} AS p ON p.group_id = c.group_id
"""
