"""Group size, purity and market share, two ways, with correction coefficients calibrated on surveys.

Employees who are not registered members are seen only through their calls with members, so what the
call graph finds undercounts them. On-net staff are the real members that are people (real members
less data cards and IoT SIMs, which are lines, not employees). Two ways to the rest:

- **score**: the expected employees among the unregistered contacts, on-net and off-net (each contact
  weighted by its employee score on a ramp, `analytics.employee_count_ramp`: about the share of
  employees among contacts of that score; the likely employees at the threshold are kept as the hard
  counts `onnet_detected` / `offnet_detected`); both are found the same way (through their contacts
  with members), so one coefficient corrects both: est_onnet_unregistered = round(coefficient x
  onnet_expected), est_offnet_employees = coefficient x offnet_expected;
- **rule**: the operator's established rule, key competitor users = off-net numbers in contact with
  more than `potential_member_share` (10 %) of the group's members, times its own coefficient; its
  on-net side is on-net staff + on-net likely employees, uncorrected.

The exported `market_share` is the contract's formula over the exported columns, (real_members +
est_onnet_unregistered) / (real_members + est_onnet_unregistered + est_offnet_employees): real_members
counts the data cards and IoT SIMs too, so it is above the employees' share wherever a group has data
lines. `market_share_staff` is the same with on-net staff (real_members - data_lines) in place of
real_members: the share of the group's employees, what the surveys measure and the coefficients are
fitted to. The month-over-month change is that of the contract column; the rule's share counts on-net staff.

Account managers' on-site surveys give the headcount of some groups. Each method's coefficient is the
ratio estimator sum(what the survey implies) / sum(what was counted) over the surveyed groups (score:
headcount - on-net staff over all expected employees; rule: headcount - on-net side over key competitor
users), per size band of the group (`analytics.model.size_bands`): an unregistered employee is seen
only through calls with members, so the share found grows with the registered members. A band with
fewer than `min_surveys` surveys pools its neighbouring bands, one step each way at a time, until it
has them; with fewer surveys in all, the coefficient is global. A band's coefficient is held within
[global / r, global x r] (r = `analytics.coefficient_max_ratio`; the raw ratio is kept beside it and
the run warns about a clipped one). Its error
is measured leave-one-out: each surveyed group is predicted with the coefficient fitted on the other
surveys of its scope (held the same way by the global one of the other surveys), and the absolute difference between the predicted market share and the
survey's (the same on-net estimate over the surveyed headcount) is averaged, in percentage points.
A survey whose headcount cannot be the group's company (over `analytics.survey_max_ratio` x the
headcount its calls predict + `analytics.survey_slack` employees, or under (its on-net staff - slack) / the ratio,
the prediction being on-net staff + the median survey's ratio x expected employees: a typing error such
as an extra zero, or another company's figure) is left out of every scope (the group's latest plausible
survey stands in for it), counted in `surveys_excluded` and named in the run's log: one such survey
would otherwise move every group's coefficient.
Without surveys (or with nothing counted on the surveyed groups) a method is 'uncalibrated': no
coefficient, the uncorrected counts are used, and the run warns.
"""

from __future__ import annotations

import re

from transforms.scores import size_band_labels, size_band_sql
from transforms.sql import num

# per method: (what the survey implies, what was counted), over a relation with the group's counts and headcount
IMPLIED = {
    "score": ("greatest(0, {a}headcount - {a}onnet_registered_staff)", "({a}onnet_expected + {a}offnet_expected)"),
    "rule": ("greatest(0, {a}headcount - {a}onnet_registered_staff - {a}onnet_detected)", "{a}offnet_key_competitor"),
}


def _onnet(method: str, a: str, coef: str, registered: str = "onnet_registered_staff") -> str:
    """On-net side of a group (columns of relation alias `a`) under coefficient `coef`: `registered`
    (on-net staff, or the contract's real_members) plus the on-net likely employees."""
    if method == "score":
        return f"({a}{registered} + round({a}onnet_expected * {coef}))"
    return f"({a}{registered} + {a}onnet_detected)"


def _offnet(method: str, a: str, coef: str) -> str:
    col = "offnet_expected" if method == "score" else "offnet_key_competitor"
    return f"({a}{col} * {coef})"


def expected_weight_sql(score: str, ramp: list[float]) -> str:
    """A candidate's weight in the expected employee count: 0 below ramp[0], 1 from ramp[1], linear between
    (ramp[0] == ramp[1]: a hard count of the scores at or above it)."""
    lo, hi = float(ramp[0]), float(ramp[1])
    if hi <= lo:
        return f"(CASE WHEN {score} >= {num(lo)} THEN 1.0 ELSE 0.0 END)"
    return f"least(1.0, greatest(0.0, ({score} - {num(lo)}) / {num(hi - lo)}))"


def group_counts_sql(groups: str, fake: str, potential: str, fake_threshold: float, employee_threshold: float,
                     key_share: float, size_bands: list[int], count_ramp: list[float] | None = None) -> str:
    """Per active group: listed, suspect, insufficient-evidence and real members; on-net unregistered
    and off-net likely employees (score at the threshold) and expected employees (each candidate weighted
    by `expected_weight_sql` over `count_ramp`; default: the hard count at the threshold); key competitor
    users (rule: member_share > key_share)."""
    w = expected_weight_sql("score", count_ramp if count_ramp is not None else [employee_threshold] * 2)
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
           count(*) FILTER (WHERE on_net AND score >= {employee_threshold}) AS onnet_detected,
           count(*) FILTER (WHERE NOT on_net AND score >= {employee_threshold}) AS offnet_detected,
           count(*) FILTER (WHERE NOT on_net AND member_share > {key_share}) AS offnet_key_competitor,
           sum(CASE WHEN on_net THEN {w} ELSE 0.0 END) AS onnet_expected,
           sum(CASE WHEN NOT on_net THEN {w} ELSE 0.0 END) AS offnet_expected
    FROM {potential} GROUP BY group_id
)
SELECT g.group_id, g.industry, g.region, g.account_manager_id,
       {size_band_sql("f.listed_members", size_bands)} AS size_band,
       coalesce(f.listed_members, 0) AS listed_members, coalesce(f.suspect_members, 0) AS suspect_members,
       coalesce(f.listed_members - f.suspect_members, 0) AS real_members,
       -- an active group without current members (all left, or none registered yet) has a row, without purity
       (f.listed_members - f.suspect_members) * 1.0 / nullif(f.listed_members, 0) AS purity,
       coalesce(f.insufficient_members, 0) AS insufficient_members, coalesce(f.data_lines, 0) AS data_lines,
       -- employees on the home network: real members that are people (not data cards or IoT SIMs)
       coalesce(f.listed_members - f.suspect_members - f.data_lines, 0) AS onnet_registered_staff,
       coalesce(p.onnet_detected, 0) AS onnet_detected,
       coalesce(p.offnet_detected, 0) AS offnet_detected,
       coalesce(p.offnet_key_competitor, 0) AS offnet_key_competitor,
       -- rounded: a parallel sum's last digits depend on the order
       round(coalesce(p.onnet_expected, 0), 6) AS onnet_expected,
       round(coalesce(p.offnet_expected, 0), 6) AS offnet_expected
FROM {groups} AS g LEFT JOIN f ON f.group_id = g.group_id
LEFT JOIN p ON p.group_id = g.group_id
WHERE g.status = 'active'
"""


def _share(onnet: str, offnet: str) -> str:
    return f"CAST({onnet} AS DOUBLE) / nullif({onnet} + {offnet}, 0)"


def scope_order(scope: str) -> tuple:
    """Sort key of a calibration scope: global first, then the size bands from the smallest ('size 4-9'
    before 'size 10-29')."""
    lower = re.search(r"\d+", scope)
    return scope != "global", int(lower.group()) if lower else 0, scope


def uncalibrated_text(status: str, surveys: int) -> str:
    """What an uncalibrated month means for its shares (the run's summary and the month's report)."""
    return (f"market share {status} ({surveys} surveys): off-net employees are the uncorrected counts, a lower bound; "
            "collect account managers' surveys")


def surveyed_groups_sql(counts: str, surveys: str, survey_max_ratio: float | None = None, slack: float = 5.0) -> str:
    """Every survey of a group with current members, beside the group's counts: the headcount its calls
    predict (`predicted`: on-net staff + m x its expected unregistered employees, m the median over the
    groups' latest surveys of (headcount - on-net staff) / expected employees, of those with at least one
    expected; 1 without any), why the survey cannot be the company's headcount (`implausible`, NULL when
    it can: a headcount over `survey_max_ratio` x (predicted + `slack`), or under (on-net staff - `slack`)
    / `survey_max_ratio`: a typing error such as an extra zero, or another company's figure; a headcount
    under the prediction alone is not implausible: the calls can over-count a small company), `used` (the
    group's latest plausible survey: the one the calibration uses) and `left_out` (an implausible survey
    newer than the one used, or the latest when none is). One such survey would otherwise move every
    group's coefficient (a ratio estimator is a sum). `survey_max_ratio` None: every group's latest survey
    is used. `surveys` holds one row per group and day (pipelines.analytics keeps the latest delivery)."""
    counted = "(c.onnet_expected + c.offnet_expected)"
    if survey_max_ratio is None:
        why = "CAST(NULL AS VARCHAR)"
    else:
        r, k = num(survey_max_ratio), num(slack)
        head = "'headcount ' || CAST(j.headcount AS VARCHAR)"
        pred = "CAST(round(j.predicted, 1) AS VARCHAR) || ' employees its calls predict'"
        why = (f"CASE WHEN j.headcount > {r} * (j.predicted + {k}) THEN {head} || ' over {survey_max_ratio:g}x the ' || {pred} "
               f"WHEN j.headcount * {r} < j.staff - {k} THEN {head} || ' under 1/{survey_max_ratio:g} of its ' || "
               "CAST(j.staff AS VARCHAR) || ' on-net staff' END")
    return f"""
WITH c AS (SELECT * FROM {counts} WHERE listed_members > 0),  -- a group without current members: nothing counted
s AS (
    SELECT c.group_id, s.surveyed_headcount AS headcount, s.surveyed_at, {counted} AS counted,
           row_number() OVER (PARTITION BY c.group_id ORDER BY s.surveyed_at DESC) AS recency
    FROM c JOIN {surveys} AS s ON s.group_id = c.group_id
),
m AS (
    SELECT coalesce(median(greatest(0, s.headcount - c.onnet_registered_staff) * 1.0 / s.counted), 1.0) AS m
    FROM s JOIN c ON c.group_id = s.group_id WHERE s.recency = 1 AND s.counted >= 1
),
j AS (
    SELECT s.*, c.onnet_registered_staff AS staff, c.onnet_registered_staff + m.m * s.counted AS predicted
    FROM s JOIN c ON c.group_id = s.group_id CROSS JOIN m
),
v AS (SELECT j.*, {why} AS implausible FROM j),
u AS (
    SELECT v.*, min(CASE WHEN implausible IS NULL THEN recency END) OVER (PARTITION BY group_id) AS used_recency FROM v
)
SELECT c.*, u.headcount, u.surveyed_at, round(u.predicted, 6) AS predicted, u.implausible,
       coalesce(u.recency = u.used_recency, false) AS used,
       u.implausible IS NOT NULL AND u.recency < coalesce(u.used_recency, u.recency + 1) AS left_out
FROM u JOIN c ON c.group_id = u.group_id
"""


def calibration_sql(counts: str, surveys: str, min_surveys: int, size_bands: list[int], max_ratio: float | None = None,
                    rule_max_ratio: float | None = None, survey_max_ratio: float | None = None,
                    survey_slack: float = 5.0) -> str:
    """Per scope (global, and size bands with >= min_surveys surveys, pooled with neighbouring bands): for
    each method its coefficient, the raw ratio before clipping, the mean absolute error in employees on the
    surveys it was fitted on, and the leave-one-out error of market share in percentage points. A size
    band's coefficient is held within [global / max_ratio, global x max_ratio] (the rule's: rule_max_ratio;
    None: not held); the
    leave-one-out prediction applies the same rule to the coefficients fitted without the group. Each
    group's latest plausible survey is used (surveyed_groups_sql: `survey_max_ratio`, `survey_slack`); the
    implausible ones newer than it are counted in the scope's `surveys_excluded`. One 'global' row always exists; status says whether it is calibrated."""
    def held(c: str, g: str, scope: str, r: str | None) -> str:
        if r is None:
            return c
        return (f"(CASE WHEN {scope} = 'global' OR {c} IS NULL OR {g} IS NULL THEN {c} "
                f"ELSE least(greatest({c}, {g} / {r}), {g} * {r}) END)")

    per_method = []
    for m, (implied, counted) in IMPLIED.items():
        pre = "" if m == "score" else "rule_"
        ratio = max_ratio if m == "score" else rule_max_ratio
        r = None if ratio is None else num(ratio)
        imp, cnt = implied.format(a="o."), counted.format(a="o.")
        loo_raw = f"(k.implied - {imp}) / nullif(k.counted - {cnt}, 0)"
        loo_glob = f"(gf.implied - {imp}) / nullif(gf.counted - {cnt}, 0)"
        on = _onnet(m, "l.", "l.c")
        per_method.append(f"""
{m}_raw AS (
    SELECT s.scope, sum({imp}) AS implied, sum({cnt}) AS counted,
           sum({imp}) * 1.0 / nullif(sum({cnt}), 0) AS coefficient
    FROM scopes AS s JOIN members AS mm ON mm.scope = s.scope JOIN obs AS o ON o.oid = mm.oid
    GROUP BY s.scope
),
{m}_fit AS (
    SELECT k.scope, k.implied, k.counted, k.coefficient AS raw_coefficient,
           {held("k.coefficient", "gf.coefficient", "k.scope", r)} AS coefficient
    FROM {m}_raw AS k CROSS JOIN (SELECT * FROM {m}_raw WHERE scope = 'global') AS gf
),
-- leave one out: the coefficient of the scope's other surveys (held by the global one of the other surveys)
{m}_loo AS (
    SELECT k.scope, k.coefficient AS k_coefficient, o.*,
           {held(loo_raw, loo_glob, "k.scope", r)} AS c
    FROM {m}_fit AS k CROSS JOIN (SELECT * FROM {m}_raw WHERE scope = 'global') AS gf
    JOIN members AS mm ON mm.scope = k.scope JOIN obs AS o ON o.oid = mm.oid
),
{m}_err AS (
    SELECT l.scope,
           avg(abs({counted.format(a="l.")} * l.k_coefficient - {implied.format(a="l.")})) AS mae_employees,
           avg(abs({on} / nullif({on} + {_offnet(m, "l.", "l.c")}, 0) - least(1.0, {on} / l.headcount))) * 100 AS loo_mae_pp
    FROM {m}_loo AS l
    WHERE l.headcount > 0
    GROUP BY l.scope
),
{m}_out AS (
    SELECT f.scope, f.coefficient AS {pre}coefficient, f.raw_coefficient AS {pre}raw_coefficient,
           -- rounded: a parallel sum's last digits depend on the order
           round(e.mae_employees, 6) AS {pre}mae_employees, round(e.loo_mae_pp, 6) AS {pre}loo_mae_pp
    FROM {m}_fit AS f LEFT JOIN {m}_err AS e ON e.scope = f.scope
)""")
    bands_values = ", ".join(f"('{x}', {i})" for i, x in enumerate(size_band_labels(size_bands)))
    return f"""
WITH bands AS (SELECT * FROM (VALUES {bands_values}) AS t(label, i)),
surveyed AS (
    SELECT v.*, b.i AS bi FROM ({surveyed_groups_sql(counts, surveys, survey_max_ratio, survey_slack)}) AS v
    JOIN bands AS b ON b.label = v.size_band
),
obs AS (
    SELECT row_number() OVER (ORDER BY group_id) AS oid, bi,
           onnet_registered_staff, onnet_expected, offnet_expected, onnet_detected, offnet_key_competitor, headcount
    FROM surveyed WHERE used
),
excluded AS (SELECT bi FROM surveyed WHERE left_out),
-- a band with too few surveys widens to its neighbouring bands, one step each way at a time
reach AS (
    SELECT b.label, b.i AS t, d.i AS d, count(o.oid) AS n
    FROM bands AS b CROSS JOIN bands AS d LEFT JOIN obs AS o ON abs(o.bi - b.i) <= d.i
    GROUP BY b.label, b.i, d.i
),
pick AS (SELECT label, t, min(d) AS d FROM reach WHERE n >= {int(min_surveys)} GROUP BY label, t),
members AS (
    SELECT 'global' AS scope, oid FROM obs
    UNION ALL
    SELECT 'size ' || p.label, o.oid FROM pick AS p JOIN obs AS o ON abs(o.bi - p.t) <= p.d
),
scopes AS (SELECT scope, count(*) AS surveys FROM members GROUP BY scope
           UNION ALL SELECT 'global', 0 WHERE NOT EXISTS (SELECT 1 FROM obs)),
excluded_n AS (
    SELECT 'global' AS scope, count(*) AS n FROM excluded
    UNION ALL
    SELECT 'size ' || p.label, count(e.bi) FROM pick AS p LEFT JOIN excluded AS e ON abs(e.bi - p.t) <= p.d GROUP BY p.label
),{",".join(per_method)}
SELECT s.scope, s.surveys,
       CASE WHEN sc.coefficient IS NULL AND r.rule_coefficient IS NULL THEN 'uncalibrated'
            WHEN sc.coefficient IS NULL THEN 'score uncalibrated'
            WHEN r.rule_coefficient IS NULL THEN 'rule uncalibrated'
            ELSE 'calibrated' END AS status,
       sc.coefficient, sc.mae_employees, sc.loo_mae_pp,
       r.rule_coefficient, r.rule_mae_employees, r.rule_loo_mae_pp,
       round(sc.raw_coefficient, 6) AS raw_coefficient, round(r.rule_raw_coefficient, 6) AS rule_raw_coefficient,
       coalesce(x.n, 0) AS surveys_excluded
FROM scopes AS s
LEFT JOIN score_out AS sc ON sc.scope = s.scope
LEFT JOIN rule_out AS r ON r.scope = s.scope
LEFT JOIN excluded_n AS x ON x.scope = s.scope
WHERE s.scope = 'global' OR (sc.coefficient IS NOT NULL AND r.rule_coefficient IS NOT NULL)
"""


def market_share_sql(counts: str, calibration: str, previous: str) -> str:
    """Market share per group both ways, and its change since the previous month split into movement
    (this month's counts under last month's coefficient, against last month's share) and recalibration
    (this month's coefficient against last month's, on this month's counts).

    `previous` holds last month's group summary (group_id, the counts and each method's coefficient
    as applied), empty when that month has no results; `previous_month` then says 'missing'.
    """
    cols = []
    for m in IMPLIED:
        pre = "" if m == "score" else "rule_"
        coef = f"coalesce(b.{pre}coefficient, g.{pre}coefficient)"
        applied = f"coalesce({coef}, 1.0)"
        prev_applied = f"coalesce(p.{pre}correction_coefficient, 1.0)"

        # the score's contract column counts real_members (data lines included), as CONTRACT.md's formula
        # over the exported columns; market_share_staff counts on-net staff (the employees' share)
        base = "real_members" if m == "score" else "onnet_registered_staff"

        def share(a: str, k: str, m=m, registered=base) -> str:
            on = _onnet(m, a, k, registered)
            return f"CAST({on} AS DOUBLE) / nullif({on} + {_offnet(m, a, k)}, 0)"

        now, at_prev, before = share("c.", applied), share("c.", prev_applied), share("p.", prev_applied)
        onnet_est = f"CAST(round(c.onnet_expected * {applied}) AS BIGINT) AS est_onnet_unregistered," if m == "score" else ""
        if m == "score":
            onnet_est += f"\n       {share('c.', applied, registered='onnet_registered_staff')} AS market_share_staff,"
        cols.append(f"""
       {coef} AS {pre}correction_coefficient,
       CASE WHEN {coef} IS NULL THEN 'uncalibrated'
            WHEN b.{pre}coefficient IS NOT NULL THEN b.scope ELSE 'global' END AS {pre}coefficient_scope,
       {onnet_est}
       {_offnet(m, "c.", applied)} AS {pre}est_offnet_employees,
       {now} AS {pre}market_share,
       {before} AS {pre}previous_market_share,
       {now} - {before} AS {pre}share_change,
       {at_prev} - {before} AS {pre}share_change_movement,
       CASE WHEN p.group_id IS NOT NULL THEN {now} - {at_prev} END AS {pre}share_change_recalibration""")
    return f"""
SELECT c.*,{",".join(cols)},
       CASE WHEN NOT (SELECT count(*) > 0 FROM {previous}) THEN 'missing'
            WHEN p.group_id IS NULL THEN 'new group' ELSE 'present' END AS previous_month
FROM {counts} AS c
LEFT JOIN {calibration} AS b ON b.scope = 'size ' || c.size_band
CROSS JOIN (SELECT * FROM {calibration} WHERE scope = 'global') AS g
LEFT JOIN {previous} AS p ON p.group_id = c.group_id
"""
