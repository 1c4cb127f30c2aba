"""Win-over campaign computations on tiny hand-built inputs with hand-worked answers."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.campaigns import (
    assign_targets,
    check_settings,
    evaluate_outcomes,
    holdout_flags,
    parse_criteria,
    select_targets,
    target_outcomes,
)


def _cands() -> pd.DataFrame:
    # number n2 is listed for two groups: offered once, for G2 where it is worth 80 x 0.9 = 72
    rows = [
        # number_key, group_id, score, member_share, carrier, on_net, likely, value, tier, industry, region, owner
        ("n1", "G1", 0.90, 0.40, "CUCC", False, True, 50.0, "T1", "finance", "gz", "AM1"),   # 45
        ("n2", "G1", 0.90, 0.20, "CTCC", False, True, 50.0, "T1", "finance", "gz", "AM1"),   # 45
        ("n2", "G2", 0.90, 0.30, "CTCC", False, True, 80.0, "T2", "retail", "sz", "AM2"),    # 72
        ("n3", "G2", 0.50, 0.15, "CUCC", False, False, 80.0, "T2", "retail", "sz", "AM2"),   # 40
        ("n4", "G3", 0.20, 0.12, "CMCC", True, False, 10.0, "T3", "retail", "sz", "AM3"),    # 2
        ("n5", "G3", 0.60, 0.50, "CUCC", False, True, 10.0, "T3", "retail", "sz", "AM3"),    # 6
    ]
    cols = ["number_key", "group_id", "score", "member_share", "carrier", "on_net", "likely_employee",
            "group_value_score", "value_tier", "industry", "region", "owner_account_manager_id"]
    return pd.DataFrame(rows, columns=cols)


def test_criteria_are_validated_with_one_clear_line():
    c = parse_criteria(["min_score=0.5", "carrier=CUCC, CTCC", "on_net=false"])
    assert c == {"min_score": 0.5, "carrier": ["CUCC", "CTCC"], "on_net": False, "exclude_recent_months": 3}
    with pytest.raises(ValueError, match="unknown criterion 'colour'"):
        parse_criteria(["colour=red"])
    with pytest.raises(ValueError, match="min_score: 1.5 is outside 0..1"):
        parse_criteria(["min_score=1.5"])
    with pytest.raises(ValueError, match="on_net: 'maybe' is not true or false"):
        parse_criteria(["on_net=maybe"])
    with pytest.raises(ValueError, match="must be KEY=VALUE"):
        parse_criteria(["min_score"])


def test_impossible_settings_are_refused():
    check_settings(100, 1000, 10, 0.1)
    with pytest.raises(ValueError, match="does not pay for one target"):
        check_settings(100, 50, 10, 0.1)
    with pytest.raises(ValueError, match="budget must be positive"):
        check_settings(100, -5, 10, 0.1)
    with pytest.raises(ValueError, match="hold-out share"):
        check_settings(100, 1000, 10, 0.9)
    with pytest.raises(ValueError, match="capacity"):
        check_settings(100, 1000, 0, 0.1)


def test_selection_ranks_by_expected_value_within_budget_and_records_the_cutoff():
    crit = parse_criteria(["on_net=false"])
    s = select_targets(_cands(), crit, set(), offer_cost=100, budget=350, capacity_total=100,
                       holdout_share=0.0, seed=1)
    # off-net, one row per number, by group value x score: n2 (72, G2), n1 (45), n3 (40), n5 (6)
    assert s.candidates == 4
    assert list(s.targets["number_key"]) == ["n2", "n1", "n3"]  # 350 yuan pays for 3 at 100
    assert list(s.targets["group_id"]) == ["G2", "G1", "G2"]
    assert list(s.targets["rank"]) == [1, 2, 3]
    assert (s.cutoff_rank, s.cutoff_expected_value, s.cutoff_reason) == (3, pytest.approx(40.0), "budget")
    # capacity binds before the budget
    s = select_targets(_cands(), crit, set(), 100, 350, capacity_total=2, holdout_share=0.0, seed=1)
    assert list(s.targets["number_key"]) == ["n2", "n1"] and s.cutoff_reason == "capacity"
    # criteria and exclusions of recently targeted numbers
    s = select_targets(_cands(), parse_criteria(["min_member_share=0.25", "region=gz,sz"]), {"n2"}, 100, 1000, 100, 0, 1)
    assert list(s.targets["number_key"]) == ["n1", "n5"] and s.cutoff_reason == "candidates"


def test_holdout_is_systematic_reproducible_and_costs_nothing():
    f = holdout_flags(100, 0.1, seed=7)
    assert f.sum() == 10
    assert all(f[i * 10:(i + 1) * 10].sum() == 1 for i in range(10))  # one in every ten ranks
    assert (holdout_flags(100, 0.1, seed=7) == f).all()
    assert not (holdout_flags(100, 0.1, seed=8) == f).all()
    cands = pd.DataFrame({
        "number_key": [f"k{i:03d}" for i in range(40)], "group_id": "G1", "score": 0.8, "member_share": 0.2,
        "carrier": "CUCC", "on_net": False, "likely_employee": True, "group_value_score": 50.0, "value_tier": "T1",
        "industry": "retail", "region": "gz", "owner_account_manager_id": "AM1",
    })
    a = select_targets(cands, parse_criteria([]), set(), 10, 200, 1000, 0.25, seed=3)
    b = select_targets(cands, parse_criteria([]), set(), 10, 200, 1000, 0.25, seed=3)
    assert a.targets.equals(b.targets)  # equal scores: the seeded tie-break decides, reproducibly
    assert (~a.targets["holdout"]).sum() == 20  # 200 yuan / 10 yuan: 20 approached, hold-outs on top
    assert a.targets["holdout"].sum() in (6, 7)
    c = select_targets(cands, parse_criteria([]), set(), 10, 200, 1000, 0.25, seed=4)
    assert list(c.targets["number_key"]) != list(a.targets["number_key"])


def test_assignment_owner_first_within_capacity_then_balanced():
    t = pd.DataFrame({
        "number_key": ["a", "b", "c", "d", "e", "f"], "rank": [1, 2, 3, 4, 5, 6],
        "holdout": [False, False, False, True, False, False],
        "owner_account_manager_id": ["AM1", "AM1", "AM1", "AM1", "AMX", "AM2"],
    })
    a = assign_targets(t, ["AM1", "AM2", "AM3"], capacity=2).set_index("number_key")
    # owners first: a, b to AM1 (now full), f to AM2. Then by rank: c (owner full) to the least loaded,
    # AM3 (0 against AM2's 1); e (owner unknown) to AM2 or AM3, both at 1: the tie goes to the lower id, AM2
    assert a.loc["a", "account_manager_id"] == "AM1" and a.loc["a", "assignment"] == "owner"
    assert a.loc["b", "account_manager_id"] == "AM1"
    assert a.loc["f", "account_manager_id"] == "AM2" and a.loc["f", "assignment"] == "owner"
    assert a.loc["c", "account_manager_id"] == "AM3" and a.loc["c", "assignment"] == "balanced"
    assert a.loc["e", "account_manager_id"] == "AM2" and a.loc["e", "assignment"] == "balanced"
    assert "d" not in a.index  # hold-out: never approached
    full = assign_targets(t, ["AM1"], capacity=2).set_index("number_key")
    assert list(full["assignment"]) == ["owner", "owner", "unassigned", "unassigned", "unassigned"]


def test_evaluation_by_hand():
    targets = pd.DataFrame({
        "number_key": ["a", "b", "c", "d", "h1", "h2"], "rank": [1, 2, 3, 4, 5, 6],
        "holdout": [False, False, False, False, True, True], "on_net": [False] * 6,
        "likely_employee": [True, True, False, False, True, False],
        "account_manager_id": ["AM1", "AM1", "AM2", "AM2", None, None],
    })
    feedback = pd.DataFrame({"number_key": ["a", "b", "c", "d"],
                             "outcome": ["converted", "declined", "converted", "unreachable"],
                             "cost_yuan": [100.0, 20.0, 100.0, 10.0]})
    # a billed 60 + 70 in two later months, c 30 once; hold-out h1 came over by itself (billed 50)
    later = pd.DataFrame({"number_key": ["a", "a", "c", "h1"], "period": ["M2", "M3", "M3", "M3"],
                          "revenue": [60.0, 70.0, 30.0, 50.0]})
    base = pd.DataFrame({"number_key": [], "revenue": []})
    t = target_outcomes(targets, feedback, later, base)
    ev = evaluate_outcomes(t, tranches=2).set_index(["level", "level_key"])
    c = ev.loc[("campaign", "all")]
    assert (c.targets, c.contacted, c.converted, c.billed) == (4, 3, 2, 2)
    assert c.conversion_rate == 0.5 and c.revenue == 160.0 and c.cost == 230.0
    assert c.roi == pytest.approx((160 - 230) / 230)
    assert c.holdout_targets == 2 and c.holdout_billed_rate == 0.5 and c.uplift == pytest.approx(0.0)
    am1 = ev.loc[("account_manager", "AM1")]
    assert (am1.targets, am1.converted, am1.revenue, am1.cost) == (2, 1, 130.0, 120.0)
    t1, t2 = ev.loc[("tranche", "1: ranks 1-3")], ev.loc[("tranche", "2: ranks 4-6")]
    assert (t1.targets, t1.revenue, t1.cost, t1.holdout_targets) == (3, 160.0, 220.0, 0)
    assert (t2.targets, t2.revenue, t2.cost, t2.holdout_targets) == (1, 0.0, 10.0, 2)
    assert t2.roi == -1.0
    le, other = ev.loc[("employee_score", "likely employee")], ev.loc[("employee_score", "other")]
    assert le.conversion_rate == 0.5 and other.conversion_rate == 0.5
    # an on-net target that converted: revenue is the increase over its campaign-month bill
    on = targets.assign(on_net=[True] + [False] * 5)
    t = target_outcomes(on, feedback, later, pd.DataFrame({"number_key": ["a"], "revenue": [50.0]}))
    assert t.set_index("number_key").loc["a", "revenue"] == pytest.approx(130 - 2 * 50)
    assert not t.set_index("number_key").loc["a", "billed"]  # already a subscriber: not won from the bills
