"""Group size, purity and market share, with the correction coefficient calibrated on surveys.

Off-net employees are seen only through calls with home subscribers, so detected off-net employees
undercount them. Account managers' on-site surveys give the true headcount of some groups; for those,
the off-net employees the survey implies (headcount - real members - on-net unregistered) divided by
the off-net employees detected is the correction coefficient, a ratio estimator fitted per industry
where enough surveys exist and globally otherwise.
"""

from __future__ import annotations


def group_counts_sql(groups: str, fake: str, potential: str, fake_threshold: float, employee_threshold: float) -> str:
    return f"""
WITH f AS (
    SELECT group_id, count(*) AS listed_members,
           count(*) FILTER (WHERE fake_score >= {fake_threshold}) AS suspect_members
    FROM {fake} GROUP BY group_id
),
p AS (
    SELECT group_id,
           count(*) FILTER (WHERE on_net AND score >= {employee_threshold}) AS est_onnet_unregistered,
           count(*) FILTER (WHERE NOT on_net AND score >= {employee_threshold}) AS offnet_detected,
           count(*) FILTER (WHERE NOT on_net AND member_share > 0) AS offnet_contacts
    FROM {potential} GROUP BY group_id
)
SELECT g.group_id, g.industry, g.region, g.account_manager_id,
       f.listed_members, f.suspect_members, f.listed_members - f.suspect_members AS real_members,
       (f.listed_members - f.suspect_members) * 1.0 / f.listed_members AS purity,
       coalesce(p.est_onnet_unregistered, 0) AS est_onnet_unregistered,
       coalesce(p.offnet_detected, 0) AS offnet_detected
FROM {groups} AS g JOIN f ON f.group_id = g.group_id
LEFT JOIN p ON p.group_id = g.group_id
WHERE g.status = 'active'
"""


def calibration_sql(counts: str, surveys: str, min_surveys: int) -> str:
    """Correction coefficient per industry (or global), with the number of surveys and the fit."""
    return f"""
WITH s AS (
    SELECT group_id, surveyed_headcount FROM (
        SELECT group_id, surveyed_headcount,
               row_number() OVER (PARTITION BY group_id ORDER BY surveyed_at DESC) AS rk
        FROM {surveys}) AS x WHERE rk = 1
),
obs AS (
    SELECT c.industry, c.offnet_detected,
           greatest(0, s.surveyed_headcount - c.real_members - c.est_onnet_unregistered) AS offnet_implied
    FROM {counts} AS c JOIN s ON s.group_id = c.group_id
),
global_coef AS (
    SELECT 'global' AS scope, count(*) AS surveys,
           coalesce(sum(offnet_implied) * 1.0 / nullif(sum(offnet_detected), 0), 1.0) AS coefficient
    FROM obs
),
ind AS (
    SELECT industry AS scope, count(*) AS surveys,
           sum(offnet_implied) * 1.0 / nullif(sum(offnet_detected), 0) AS coefficient
    FROM obs GROUP BY industry HAVING count(*) >= {min_surveys} AND sum(offnet_detected) > 0
),
coef AS (SELECT * FROM global_coef UNION ALL SELECT * FROM ind),
fit AS (
    SELECT k.scope, round(avg(abs(o.offnet_detected * k.coefficient - o.offnet_implied)), 6) AS mae_employees
    FROM coef AS k JOIN obs AS o ON k.scope = 'global' OR k.scope = o.industry
    GROUP BY k.scope
)
SELECT k.scope, k.surveys, k.coefficient, f.mae_employees
FROM coef AS k LEFT JOIN fit AS f ON f.scope = k.scope
"""


def market_share_sql(counts: str, calibration: str) -> str:
    return f"""
SELECT c.*,
       coalesce(i.coefficient, g.coefficient) AS correction_coefficient,
       coalesce(i.scope, g.scope) AS coefficient_scope,
       c.offnet_detected * coalesce(i.coefficient, g.coefficient) AS est_offnet_employees,
       (c.real_members + c.est_onnet_unregistered) * 1.0 /
           nullif(c.real_members + c.est_onnet_unregistered + c.offnet_detected * coalesce(i.coefficient, g.coefficient), 0)
           AS market_share
FROM {counts} AS c
LEFT JOIN {calibration} AS i ON i.scope = c.industry
CROSS JOIN (SELECT * FROM {calibration} WHERE scope = 'global') AS g
"""
