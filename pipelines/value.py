"""Value stage: subscriber and group value scores, tiers, and contractual lifetime value.

Reads the period's staged tables and derived analytics; writes WORK/derived/{subscriber_value,
group_value,retention_model}/period=P/. AHP matrices are checked first: an inconsistent one stops
the run with its name and consistency ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from groupscope.config import Config, ValueModel
from groupscope.period import Period
from pipelines.engine import Engine, engine_for
from pipelines.storage import derived_files, derived_path, staged_files
from transforms.ahp import checked_weights
from transforms.graph import activity_sql, adjacency_sql
from transforms.potential import numbers_sql
from transforms.retention import discounted_residual_lifetime, fit_sbg
from transforms.sql import lit, num
from transforms.value_scores import group_indicators_sql, subscriber_indicators_sql, value_scores_sql

MAX_TENURE_MONTHS = 600


def model_weights(name: str, model: ValueModel, max_cr: float) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """AHP weights of a value hierarchy, every matrix checked for consistency."""
    cw = checked_weights(f"value.{name}.criteria", model.criteria.matrix, max_cr)
    criteria = dict(zip(model.criteria.names, (float(x) for x in cw)))
    if set(model.indicators) != set(model.criteria.names):
        raise ValueError(f"value.{name}: indicators must be given for exactly the criteria {model.criteria.names}")
    weights = {}
    for c in model.criteria.names:
        lvl = model.indicators[c]
        w = checked_weights(f"value.{name}.indicators.{c}", lvl.matrix, max_cr)
        if len(lvl.names) != len(w):
            raise ValueError(f"value.{name}.indicators.{c}: {len(lvl.names)} names for a {len(w)}x{len(w)} matrix")
        weights[c] = dict(zip(lvl.names, (float(x) for x in w)))
    return criteria, weights


def check_value_config(cfg: Config) -> None:
    for name in ("subscriber", "group"):
        model_weights(name, getattr(cfg.value, name), cfg.value.max_consistency_ratio)


@dataclass(frozen=True)
class Retention:
    """The month's retention model: sBG (alpha, beta) when churn was observed, else a stated fallback."""

    alpha: float | None
    beta: float | None
    method: str  # sbg | previous_period | no_churn_observed
    at_risk: int
    churned: int
    alive: list[float]

    def residual_lifetimes(self, tenures: np.ndarray, discount: float) -> np.ndarray:
        if self.alpha is not None and self.beta is not None:
            return np.array([discounted_residual_lifetime(self.alpha, self.beta, int(t), discount) for t in tenures])
        # no closure among `at_risk` lines: the monthly churn is taken as half a closure in the month (the
        # usual continuity correction), the same for every tenure (a geometric lifetime)
        p = 0.5 / max(1, self.at_risk)
        k = np.arange(1, 2001)
        d = float(np.sum((1.0 - p) ** k / (1.0 + discount) ** k))
        return np.full(len(tenures), d)


def retention_model(con, period: str, previous: Path | None = None) -> Retention:
    """sBG fitted to a pseudo-cohort built from this period's churn hazard by year of tenure. A month in
    which no line closed has nothing to fit: the previous period's sBG is kept when there is one, else
    `no_churn_observed` (see Retention.residual_lifetimes). `con`: an Engine or a DuckDB connection
    holding the relation `subscribers`."""
    p = Period.parse(period)
    start, end = p.start, p.end
    eng = con if isinstance(con, Engine) else engine_for(None, con)
    rows = eng.rows(
        f"""SELECT least(date_diff('month', activated_at, DATE {lit(start.isoformat())}) // 12, 9) AS tenure_year,
                   count(*) AS at_risk,
                   count(*) FILTER (WHERE closed_at BETWEEN DATE {lit(start.isoformat())} AND DATE {lit(end.isoformat())}) AS churned
            FROM subscribers WHERE activated_at < DATE {lit(start.isoformat())}
              AND (closed_at IS NULL OR closed_at >= DATE {lit(start.isoformat())})
            GROUP BY 1 ORDER BY 1"""
    )
    at_risk = sum(n for _, n, _ in rows)
    churned = sum(c for _, _, c in rows)
    hazard = {int(y): c / n for y, n, c in rows if n > 0}
    overall = churned / max(1, at_risk)
    alive = [1000.0]
    for month in range(1, 61):
        h = hazard.get(min((month - 1) // 12, 9), overall)
        alive.append(alive[-1] * (1 - h))
    if alive[-1] < alive[0]:
        alpha, beta = fit_sbg(np.round(alive, 6))
        if np.isfinite(alpha) and np.isfinite(beta):
            return Retention(alpha, beta, "sbg", at_risk, churned, alive)
    if previous is not None and previous.exists():
        eng.register_parquet("previous_retention", [previous])
        found = eng.rows("SELECT alpha, beta FROM previous_retention WHERE alpha IS NOT NULL AND beta IS NOT NULL")
        prev = found[0] if found else None
        if prev is not None:
            return Retention(float(prev[0]), float(prev[1]), "previous_period", at_risk, churned, alive)
    return Retention(None, None, "no_churn_observed", at_risk, churned, alive)


def build_value(cfg: Config, period: str, con=None) -> dict[str, Path]:
    """`con`: an Engine, a DuckDB connection, or None for the configured engine."""
    work = cfg.work_path
    v = cfg.value
    sub_criteria, sub_weights = model_weights("subscriber", v.subscriber, v.max_consistency_ratio)
    grp_criteria, grp_weights = model_weights("group", v.group, v.max_consistency_ratio)
    eng = engine_for(cfg, con)
    end = Period.parse(period).end.isoformat()
    eng.register_parquet("subscribers", staged_files(work, "subscribers", period))
    eng.register_parquet("billing", staged_files(work, "billing", period))
    for name in ("calls", "call_graph", "member_scores", "group_summary"):
        eng.register_parquet(f"v_{name}", derived_files(work, name, period))
    eng.view("v_adj", adjacency_sql("v_call_graph"))
    # what group analytics wrote from the same calls; computed here, with the same SQL, for a work folder
    # whose analytics predate the table
    for rel, name, sql in (("v_numbers", "numbers", numbers_sql("v_calls", cfg.home_carrier)),
                           ("v_activity", "number_activity", activity_sql("v_calls"))):
        written = derived_path(work, name, period)
        if written.exists():
            eng.register_parquet(rel, [written])
        else:
            eng.transform(rel, sql)
    eng.transform(
        "sub_ind", subscriber_indicators_sql("subscribers", "billing", "v_activity", "v_adj", "v_numbers", "v_member_scores", end)
    )
    eng.transform(
        "sub_val", value_scores_sql("sub_ind", "msisdn", sub_criteria, sub_weights, v.pyramid, v.pyramid_labels, v.grid_quantile)
    )
    # contractual lifetime value: margin x monthly revenue x discounted residual lifetime (sBG)
    ret = retention_model(eng, period, derived_path(work, "retention_model", str(Period.parse(period).previous)))
    tenures = np.arange(0, MAX_TENURE_MONTHS + 1)
    derl = ret.residual_lifetimes(tenures, v.monthly_discount_rate)
    eng.register_arrow("derl_arrow", pa.table({"tenure": tenures, "residual_lifetime": derl}))
    out = {
        "subscriber_value": eng.write(
            f"SELECT {lit(period)} AS period, s.*, d.residual_lifetime, "
            f"CAST({v.margin!r} AS DOUBLE) * CAST(s.revenue AS DOUBLE) * d.residual_lifetime AS clv "
            "FROM sub_val AS s LEFT JOIN derl_arrow AS d ON d.tenure = least(greatest(s.tenure, 0), "
            f"{MAX_TENURE_MONTHS}) ORDER BY s.msisdn",
            derived_path(work, "subscriber_value", period),
        ),
        "retention_model": eng.write(
            f"SELECT {lit(period)} AS period, {num(ret.alpha)} AS alpha, {num(ret.beta)} AS beta, "
            f"{lit(ret.method)} AS method, {ret.at_risk} AS at_risk, {ret.churned} AS churned, "
            f"{num(v.margin)} AS margin, {num(v.monthly_discount_rate)} AS monthly_discount_rate",
            derived_path(work, "retention_model", period),
        ),
    }
    eng.drop("derl_arrow")
    prev = derived_path(work, "group_value", str(Period.parse(period).previous))
    previous = None
    if prev.exists():
        eng.register_parquet("v_previous_group_value", [prev])
        previous = "v_previous_group_value"
    eng.register_parquet("v_subscriber_value", [out["subscriber_value"]])
    eng.transform("grp_ind", group_indicators_sql("v_group_summary", "v_member_scores", "v_subscriber_value", previous))
    eng.transform(
        "grp_val", value_scores_sql("grp_ind", "group_id", grp_criteria, grp_weights, v.pyramid, v.pyramid_labels, v.grid_quantile)
    )
    out["group_value"] = eng.write(
        f"SELECT {lit(period)} AS period, * FROM grp_val ORDER BY group_id", derived_path(work, "group_value", period)
    )
    return out


