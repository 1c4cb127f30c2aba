"""Win-over (策反) campaigns as pure computations: criteria, target selection, the hold-out draw,
assignment to account managers and the evaluation figures. No I/O: pipelines/campaigns.py reads and
writes the reporting database around these.

Selection ranks the potential members that meet the criteria by expected value, the group's value
score (0..100) times the target's employee score (0..1): a likely employee of a valuable group first.
A number listed for several groups is offered once, for the group where it is worth most. Ties are
broken by a seeded hash of the pseudonym, and the hold-out is a systematic draw along the ranking
with a seeded start, so the same inputs and seed give the same targets and the hold-out is spread
evenly over the ranks (every tranche has its own hold-out to compare with).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

OUTCOMES_CONTACTED = ("converted", "declined")

# criterion -> (kind, meaning); kinds: share (0..1), bool, list (comma-separated text), months (int >= 0)
CRITERIA: dict[str, tuple[str, str]] = {
    "min_member_share": ("share", "member_share at least this (0..1)"),
    "min_score": ("share", "employee score at least this (0..1)"),
    "likely_employee": ("bool", "only likely employees (true) or only the others (false)"),
    "on_net": ("bool", "only home-carrier subscribers (true) or only competitor users (false)"),
    "carrier": ("list", "carriers, e.g. CUCC,CTCC"),
    "value_tier": ("list", "value tiers of the group, e.g. 'T1 top 1%,T2 next 4%'"),
    "industry": ("list", "industries of the group"),
    "region": ("list", "regions of the group"),
    "exclude_recent_months": ("months", "leave out numbers targeted by a campaign of the last N months (default 3)"),
}
DEFAULT_EXCLUDE_MONTHS = 3


def parse_criteria(items: list[str] | dict[str, Any]) -> dict[str, Any]:
    """Criteria from KEY=VALUE texts (or a dict of texts/values), validated; ValueError with one line."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        for it in items:
            if "=" not in it:
                raise ValueError(f"criterion {it!r} must be KEY=VALUE")
            k, v = it.split("=", 1)
            pairs.append((k.strip(), v.strip()))
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k not in CRITERIA:
            raise ValueError(f"unknown criterion {k!r} (known: {', '.join(CRITERIA)})")
        if k in out:
            raise ValueError(f"criterion {k!r} given twice")
        out[k] = _value(k, CRITERIA[k][0], v)
    out.setdefault("exclude_recent_months", DEFAULT_EXCLUDE_MONTHS)
    return out


def _value(key: str, kind: str, v: Any) -> Any:
    if kind == "share":
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"criterion {key}: {v!r} is not a number") from None
        if not 0 <= x <= 1:
            raise ValueError(f"criterion {key}: {x} is outside 0..1")
        return x
    if kind == "bool":
        if isinstance(v, bool):
            return v
        t = str(v).lower()
        if t not in ("true", "false"):
            raise ValueError(f"criterion {key}: {v!r} is not true or false")
        return t == "true"
    if kind == "months":
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ValueError(f"criterion {key}: {v!r} is not a whole number of months") from None
        if n < 0:
            raise ValueError(f"criterion {key}: {n} is negative")
        return n
    vals = v if isinstance(v, list) else [x.strip() for x in str(v).split(",")]
    vals = [x for x in vals if x]
    if not vals:
        raise ValueError(f"criterion {key}: empty list")
    return vals


def check_settings(offer_cost: float, budget: float, capacity_per_am: int, holdout_share: float) -> None:
    """An impossible campaign stops at creation with one line."""
    if not (offer_cost > 0 and math.isfinite(offer_cost)):
        raise ValueError(f"offer cost per target must be positive, got {offer_cost}")
    if not (budget > 0 and math.isfinite(budget)):
        raise ValueError(f"budget must be positive, got {budget}")
    if budget < offer_cost:
        raise ValueError(f"budget {budget:g} yuan does not pay for one target at {offer_cost:g} yuan")
    if capacity_per_am < 1:
        raise ValueError(f"capacity per account manager must be at least 1, got {capacity_per_am}")
    if not 0 <= holdout_share <= 0.5:
        raise ValueError(f"hold-out share must be within 0..0.5, got {holdout_share}")


def eligible(cands: pd.DataFrame, criteria: dict[str, Any], excluded: set[str] = frozenset()) -> pd.DataFrame:
    """Candidates meeting the criteria, not excluded, one row per number (its best group)."""
    m = pd.Series(True, index=cands.index)
    if "min_member_share" in criteria:
        m &= cands["member_share"] >= criteria["min_member_share"]
    if "min_score" in criteria:
        m &= cands["score"] >= criteria["min_score"]
    for key in ("likely_employee", "on_net"):
        if key in criteria:
            m &= cands[key].astype(bool) == criteria[key]
    for key in ("carrier", "value_tier", "industry", "region"):
        if key in criteria:
            m &= cands[key].isin(criteria[key])
    if excluded:
        m &= ~cands["number_key"].isin(list(excluded))
    out = cands[m].copy()
    out["expected_value"] = out["group_value_score"].fillna(0.0).astype(float) * out["score"].astype(float)
    out = out.sort_values(["expected_value", "group_id"], ascending=[False, True], kind="stable")
    return out.drop_duplicates("number_key", keep="first")


def _tiebreak(seed: int, keys: pd.Series) -> pd.Series:
    return keys.map(lambda k: hashlib.sha256(f"{seed}:{k}".encode()).hexdigest())


def holdout_flags(n: int, share: float, seed: int) -> np.ndarray:
    """Systematic draw along ranks 1..n with a seeded start: exactly about share x n hold-outs, evenly spread."""
    if share <= 0 or n == 0:
        return np.zeros(n, bool)
    u = np.random.default_rng(seed).random()
    r = np.arange(1, n + 1)
    return np.floor(r * share + u) > np.floor((r - 1) * share + u)


@dataclass
class Selection:
    targets: pd.DataFrame  # eligible columns + rank, expected_value, holdout
    candidates: int
    cutoff_rank: int | None
    cutoff_expected_value: float | None
    cutoff_reason: str
    approachable: int  # targets budget and capacity allow


def select_targets(cands: pd.DataFrame, criteria: dict[str, Any], excluded: set[str], offer_cost: float,
                   budget: float, capacity_total: int, holdout_share: float, seed: int) -> Selection:
    """Rank the eligible candidates and take them in order until the budget (approached targets x offer
    cost) or the account managers' capacity is used; hold-outs are drawn along the way and cost nothing."""
    el = eligible(cands, criteria, excluded)
    el = el.assign(_tb=_tiebreak(seed, el["number_key"]))
    el = el.sort_values(["expected_value", "_tb"], ascending=[False, True], kind="stable").drop(columns="_tb")
    el = el.reset_index(drop=True)
    by_budget = int(math.floor(budget / offer_cost + 1e-9))
    limit = min(by_budget, capacity_total)
    hold = holdout_flags(len(el), holdout_share, seed)
    approached = np.cumsum(~hold)
    if len(el) and approached[-1] > limit:
        n = int(np.searchsorted(approached, limit, side="left")) + 1 if limit > 0 else 0
        reason = "budget" if by_budget <= capacity_total else "capacity"
    else:
        n = len(el)
        reason = "candidates"
    t = el.iloc[:n].copy()
    t["rank"] = np.arange(1, n + 1)
    t["holdout"] = hold[:n]
    last = t.iloc[-1] if n else None
    return Selection(
        t, len(el), int(last["rank"]) if n else None, float(last["expected_value"]) if n else None, reason, limit
    )


def assign_targets(targets: pd.DataFrame, account_managers: list[str], capacity: int) -> pd.DataFrame:
    """Approached targets to account managers: each group's owner first (in rank order, up to capacity),
    the rest in rank order to the least-loaded account manager with room (ties by id). Returns
    number_key, account_manager_id, assignment ('owner' / 'balanced' / 'unassigned' when nobody has room)."""
    ams = sorted(set(account_managers))
    load = dict.fromkeys(ams, 0)
    t = targets[~targets["holdout"].astype(bool)].sort_values("rank")
    who: dict[str, tuple[str | None, str]] = {}
    for key, owner in zip(t["number_key"], t["owner_account_manager_id"]):
        if owner in load and load[owner] < capacity:
            load[owner] += 1
            who[key] = (owner, "owner")
    for key in t["number_key"]:
        if key in who:
            continue
        room = [a for a in ams if load[a] < capacity]
        if not room:
            who[key] = (None, "unassigned")
            continue
        a = min(room, key=lambda x: (load[x], x))
        load[a] += 1
        who[key] = (a, "balanced")
    return pd.DataFrame(
        {"number_key": list(who), "account_manager_id": [v[0] for v in who.values()],
         "assignment": [v[1] for v in who.values()]}
    )


# ---------------------------------------------------------------- evaluation

EVAL_COLUMNS = [
    "level", "level_key", "rank_from", "rank_to", "targets", "contacted", "converted", "conversion_rate",
    "billed", "billed_rate", "revenue", "cost", "roi", "holdout_targets", "holdout_billed_rate", "uplift",
]


def target_outcomes(targets: pd.DataFrame, feedback: pd.DataFrame, later_bills: pd.DataFrame,
                    base_bills: pd.DataFrame) -> pd.DataFrame:
    """Per target: contacted, converted (from feedback), billed (off-net at selection and billed in a
    following month), revenue won (converted targets: following months' bills less the campaign
    month's bill, once per month billed) and cost (from feedback).

    targets: number_key, rank, holdout, on_net, likely_employee, account_manager_id
    feedback: number_key, outcome, cost_yuan; later_bills: number_key, period, revenue (months after the
    campaign period); base_bills: number_key, revenue (the campaign period)."""
    t = targets.copy()
    fb = feedback.set_index("number_key") if len(feedback) else pd.DataFrame(columns=["outcome", "cost_yuan"])
    t["outcome"] = t["number_key"].map(fb["outcome"]) if len(fb) else None
    t["cost"] = (t["number_key"].map(fb["cost_yuan"]).astype(float) if len(fb) else 0.0)
    t["cost"] = t["cost"].fillna(0.0)
    t["contacted"] = t["outcome"].isin(OUTCOMES_CONTACTED)
    t["converted"] = t["outcome"] == "converted"
    lb = later_bills.assign(revenue=later_bills["revenue"].astype(float))
    months = lb.groupby("number_key")["period"].nunique()
    total = lb.groupby("number_key")["revenue"].sum()
    base = base_bills.set_index("number_key")["revenue"].astype(float) if len(base_bills) else pd.Series(dtype=float)
    t["billed"] = ~t["on_net"].astype(bool) & t["number_key"].isin(months.index)
    won = total.reindex(t["number_key"]).fillna(0.0).to_numpy() - (
        base.reindex(t["number_key"]).fillna(0.0).to_numpy() * months.reindex(t["number_key"]).fillna(0).to_numpy()
    )
    t["revenue"] = np.where(t["converted"], np.maximum(won, 0.0), 0.0)
    return t


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _row(level: str, key: str, s: pd.DataFrame, h: pd.DataFrame | None, rank_from=None, rank_to=None) -> dict:
    offnet = int((~s["on_net"].astype(bool)).sum())
    billed = int(s["billed"].sum())
    revenue, cost = float(s["revenue"].sum()), float(s["cost"].sum())
    row = {
        "level": level, "level_key": key, "rank_from": rank_from, "rank_to": rank_to, "targets": len(s),
        "contacted": int(s["contacted"].sum()), "converted": int(s["converted"].sum()),
        "conversion_rate": _rate(int(s["converted"].sum()), len(s)), "billed": billed,
        "billed_rate": _rate(billed, offnet), "revenue": round(revenue, 2), "cost": round(cost, 2),
        "roi": (revenue - cost) / cost if cost > 0 else None,
        "holdout_targets": None, "holdout_billed_rate": None, "uplift": None,
    }
    if h is not None:
        h_off = int((~h["on_net"].astype(bool)).sum())
        row["holdout_targets"] = len(h)
        row["holdout_billed_rate"] = _rate(int(h["billed"].sum()), h_off)
        if row["billed_rate"] is not None and row["holdout_billed_rate"] is not None:
            row["uplift"] = row["billed_rate"] - row["holdout_billed_rate"]
    return row


def evaluate_outcomes(t: pd.DataFrame, tranches: int = 5) -> pd.DataFrame:
    """The evaluation rows of one campaign from target_outcomes(): overall (with uplift against the
    hold-out), per account manager (against the campaign's hold-out), per tranche of ranks (marginal
    efficiency: each tranche's ROI and uplift against its own hold-out) and by employee score."""
    if tranches < 1:
        raise ValueError("tranches must be at least 1")
    t = t.sort_values("rank")
    app, hold = t[~t["holdout"].astype(bool)], t[t["holdout"].astype(bool)]
    rows = [_row("campaign", "all", app, hold, int(t["rank"].min()) if len(t) else None,
                 int(t["rank"].max()) if len(t) else None)]
    for am, s in app.groupby(app["account_manager_id"].fillna("(unassigned)"), sort=True):
        rows.append(_row("account_manager", str(am), s, hold))
    n = len(t)
    k = min(tranches, n) if n else 0
    for i, chunk in enumerate(np.array_split(np.arange(n), k) if k else []):
        part = t.iloc[chunk]
        lo, hi = int(part["rank"].min()), int(part["rank"].max())
        rows.append(_row("tranche", f"{i + 1}: ranks {lo}-{hi}", part[~part["holdout"].astype(bool)],
                         part[part["holdout"].astype(bool)], lo, hi))
    for flag, name in ((True, "likely employee"), (False, "other")):
        rows.append(_row("employee_score", name, app[app["likely_employee"].astype(bool) == flag],
                         hold[hold["likely_employee"].astype(bool) == flag]))
    return pd.DataFrame(rows, columns=EVAL_COLUMNS)
