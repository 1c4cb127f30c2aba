"""Value indicators, AHP-weighted value scores and tiers of subscribers and groups, as SQL.

Indicators are put on one scale by their percentile rank (robust to outliers); a criterion's score
is the AHP-weighted sum of its indicators' ranks, the value score 100 x the AHP-weighted sum of the
criteria. Every indicator's contribution is kept, and the largest one is named, so a score explains itself.
"""

from __future__ import annotations

from transforms.sql import lit, num


def subscriber_indicators_sql(subscribers: str, billing: str, activity: str, adj: str, numbers: str, features: str, period_end: str) -> str:
    """Every line's value indicators. `activity`: the home numbers' usage of the month (graph.activity_sql
    columns: voice_seconds, sms, active_days, last_start), as the group analytics wrote it (number_activity)."""
    return f"""
WITH s AS (
    -- one line per number: the contract keeps msisdn unique among active subscribers only, so a suspended
    -- line may share an active one's number; the active line (else the latest activated) holds it
    SELECT msisdn, subscriber_id, activated_at, status FROM (
        SELECT msisdn, subscriber_id, activated_at, status,
               row_number() OVER (PARTITION BY msisdn ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END,
                                  activated_at DESC, subscriber_id) AS line_rank
        FROM {subscribers} WHERE status <> 'closed') AS o
    WHERE line_rank = 1
),
b AS (SELECT msisdn, sum(total_due) AS revenue, sum(paid_amount) AS paid,
             max(paid_at) AS paid_at FROM {billing} GROUP BY msisdn),
u AS (
    SELECT number AS msisdn, voice_seconds AS seconds, sms, active_days, last_start AS last_seen FROM {activity}
),
r AS (
    SELECT a.x AS msisdn, count(*) AS contacts,
           count(*) FILTER (WHERE n.on_net) * 1.0 / count(*) AS onnet_share
    FROM {adj} AS a JOIN {numbers} AS n ON n.number = a.y GROUP BY a.x
),
c AS (SELECT msisdn, members_contacted * 1.0 / greatest(listed - 1, 1) AS centrality FROM {features})
SELECT s.msisdn, s.subscriber_id,
       coalesce(b.revenue, 0) AS revenue,
       coalesce(u.seconds, 0) / 60.0 AS minutes,
       coalesce(u.sms, 0) AS sms,
       coalesce(u.active_days, 0) AS active_days,
       CASE WHEN coalesce(b.revenue, 0) > 0 THEN least(1.0, b.paid / b.revenue) ELSE 1.0 END AS paid_ratio,
       coalesce(b.revenue, 0) - coalesce(b.paid, 0) AS arrears,
       date_diff('day', DATE {lit(period_end)}, CAST(b.paid_at AS DATE)) AS days_to_pay,
       date_diff('day', CAST(u.last_seen AS DATE), DATE {lit(period_end)}) AS recency_days,
       date_diff('month', s.activated_at, DATE {lit(period_end)}) AS tenure,
       coalesce(r.contacts, 0) AS social_reach,
       coalesce(r.onnet_share, 0) AS onnet_share,
       coalesce(c.centrality, 0) AS group_centrality
FROM s LEFT JOIN b ON b.msisdn = s.msisdn LEFT JOIN u ON u.msisdn = s.msisdn
LEFT JOIN r ON r.msisdn = s.msisdn LEFT JOIN c ON c.msisdn = s.msisdn
"""


def group_indicators_sql(summary: str, members: str, subscriber_value: str, previous: str | None) -> str:
    prev = (
        f"LEFT JOIN {previous} AS p ON p.group_id = g.group_id"
        if previous
        else "LEFT JOIN (SELECT CAST(NULL AS VARCHAR) AS group_id, CAST(NULL AS DOUBLE) AS real_revenue WHERE false) AS p ON p.group_id = g.group_id"
    )
    return f"""
WITH rm AS (
    SELECT m.group_id, v.revenue,
           row_number() OVER (PARTITION BY m.group_id ORDER BY v.revenue DESC, m.msisdn) AS rk,
           count(*) OVER (PARTITION BY m.group_id) AS n
    FROM {members} AS m JOIN {subscriber_value} AS v ON v.msisdn = m.msisdn
    WHERE NOT m.is_suspect
),
rev AS (
    SELECT group_id, sum(revenue) AS real_revenue, median(CAST(revenue AS DOUBLE)) AS typical_revenue,
           sum(revenue) FILTER (WHERE rk <= greatest(1, CAST(ceil(0.2 * n) AS INTEGER))) AS top_revenue
    FROM rm GROUP BY group_id
)
SELECT g.group_id, g.real_members, g.purity, g.market_share, g.est_offnet_employees,
       coalesce(r.real_revenue, 0) AS real_revenue,
       CASE WHEN coalesce(r.real_revenue, 0) > 0 THEN 1 - r.top_revenue / r.real_revenue ELSE 0 END AS spread,
       g.est_offnet_employees * coalesce(r.typical_revenue, 0) AS headroom,
       CASE WHEN p.real_revenue > 0 THEN coalesce(r.real_revenue, 0) / p.real_revenue - 1 ELSE 0 END AS growth,
       1 - coalesce(g.market_share, 1) AS share_gap
FROM {summary} AS g LEFT JOIN rev AS r ON r.group_id = g.group_id
{prev}
"""


def value_scores_sql(
    indicators: str, key: str, criteria: dict[str, float], weights: dict[str, dict[str, float]], pyramid: list[float],
    labels: list[str], grid_quantile: float,
) -> str:
    """Scores, tiers and contributions. `weights[criterion][indicator]` and `criteria[criterion]` are
    AHP weights (each level sums to 1)."""
    # percent_rank() OVER (ORDER BY ind), from the indicator's distinct values: (rows below the value) /
    # (rows - 1), 0 for a single row; the same doubles as the window function, but a sort of the distinct
    # values of one column instead of one sort of every (wide) row per indicator (docs/scale.md)
    inds = [ind for ws in weights.values() for ind in ws]
    below = ",\n".join(
        f"d_{ind} AS (SELECT {ind} AS v, sum(count(*)) OVER (ORDER BY {ind}) - count(*) AS below "
        f"FROM {indicators} GROUP BY {ind})"
        for ind in dict.fromkeys(inds)  # an indicator may weigh in more than one criterion
    )
    ranks = ", ".join(
        f"CASE WHEN n.n > 1 THEN CAST(d_{ind}.below AS DOUBLE) / CAST(n.n - 1 AS DOUBLE) ELSE 0.0 END AS r_{ind}"
        for ind in inds
    )
    rank_joins = " ".join(f"LEFT JOIN d_{ind} ON d_{ind}.v IS NOT DISTINCT FROM i.{ind}" for ind in dict.fromkeys(inds))
    crit = {
        c: " + ".join(f"{num(w)} * r_{ind}" for ind, w in ws.items()) for c, ws in weights.items()
    }
    contrib = [
        (ind, f"{num(criteria[c])} * {num(w)} * r_{ind}") for c, ws in weights.items() for ind, w in ws.items()
    ]
    contrib_cols = ", ".join(f"100 * {e} AS c_{ind}" for ind, e in contrib)
    top = "CASE " + " ".join(
        f"WHEN {e} >= greatest({', '.join(x for _, x in contrib)}) THEN {lit(ind)}" for ind, e in contrib
    ) + " END"
    value = " + ".join(f"{num(criteria[c])} * ({crit[c]})" for c in weights)
    bounds, acc = [], 0.0
    for share in pyramid[:-1]:
        acc += share
        bounds.append(acc)
    tier = "CASE " + " ".join(f"WHEN pos < {b!r} THEN {lit(lab)}" for b, lab in zip(bounds, labels)) + f" ELSE {lit(labels[-1])} END"
    cur, pot = list(weights)[:2]
    return f"""
WITH n AS (SELECT count(*) AS n FROM {indicators}),
{below},
r AS (SELECT i.*, {ranks} FROM {indicators} AS i CROSS JOIN n {rank_joins}),
s AS (
    SELECT *, {crit[cur]} AS {cur}_score, {crit[pot]} AS {pot}_score, 100 * ({value}) AS value_score,
           {top} AS top_indicator, {contrib_cols}
    FROM r
),
q AS (SELECT quantile_cont({cur}_score, {grid_quantile}) AS q_cur, quantile_cont({pot}_score, {grid_quantile}) AS q_pot FROM s),
-- the position by value is a sort of (key, score) only, joined back by the key
o AS (SELECT {key} AS o_key, (row_number() OVER (ORDER BY value_score DESC, {key}) - 1) * 1.0 / count(*) OVER () AS pos FROM s),
p AS (SELECT s.*, o.pos FROM s JOIN o ON o.o_key = s.{key})
SELECT p.*, {tier} AS value_tier,
       CASE WHEN {cur}_score >= q.q_cur AND {pot}_score >= q.q_pot THEN '重要 important'
            WHEN {cur}_score >= q.q_cur THEN '中等 medium'
            WHEN {pot}_score >= q.q_pot THEN '大 big'
            ELSE '小 small' END AS value_grid
FROM p CROSS JOIN q
"""
