"""The campaign simulation: outcomes follow the truth (real employees convert more), converted off-net
numbers port in, become subscribers and get bills that add up; a re-run replaces, never doubles."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal

import pytest

from groupscope.contract import INPUT_TABLES
from groupscope.synth.campaigns import simulate_campaign

M1, M2 = "2026-09", "2026-10"


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture()
def world(small_operator, tmp_path):
    landing, truth = small_operator
    shutil.copytree(landing, tmp_path / "landing")
    shutil.copytree(truth, tmp_path / "landing_truth")
    emp = [r for r in _rows(truth / f"month={M1}" / "employees.csv") if r["group_id"] and r["on_net"] == "false"]
    real = emp[:300]
    # the same numbers offered for a group they do not work for: not employees of the target's group
    groups = sorted({r["group_id"] for r in emp})
    others = [dict(r, group_id=groups[(groups.index(r["group_id"]) + 1) % len(groups)]) for r in emp[300:600]]
    cols = ["campaign_id", "rank", "msisdn", "group_id", "holdout", "account_manager_id", "on_net", "region"]
    path = tmp_path / "targets.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i, r in enumerate(real + others):
            w.writerow(["CMP-X", i + 1, r["msisdn"], r["group_id"], "true" if i % 10 == 0 else "false", "AM0000",
                        "false", "guangzhou"])
    return tmp_path, path


def test_outcomes_follow_the_truth_and_converted_numbers_are_billed(world):
    root, targets = world
    landing = root / "landing"
    before = (landing / "reference" / "ported_numbers.csv").read_text(encoding="utf-8")
    sim = simulate_campaign(landing, targets, [M2], seed=4)
    out = _rows(root / "landing_truth" / "campaigns" / "CMP_X" / "outcomes.csv")
    rate = {}
    for real in ("true", "false"):
        a = [r for r in out if r["holdout"] == "false" and r["real_employee"] == real]
        rate[real] = sum(r["outcome"] == "converted" for r in a) / len(a)
    assert rate["true"] > rate["false"] + 0.25, rate
    fb = _rows(landing / "campaign_feedback" / f"month={M2}" / "feedback-CMP_X.csv")
    assert len(fb) == sim.approached == 540  # hold-out never approached
    assert list(fb[0]) == INPUT_TABLES["campaign_feedback"].column_names
    assert {r["outcome"] for r in fb} <= {"converted", "declined", "unreachable", "pending"}
    ported = [r for r in out if r["ported_at"]]
    subs = _rows(landing / "subscribers" / f"month={M2}" / "campaign-CMP_X.csv")
    bills = _rows(landing / "billing" / f"month={M2}" / "campaign-CMP_X.csv")
    assert len(subs) == len(bills) == len(ported) > 50
    assert {r["msisdn"] for r in subs} == {r["msisdn"] for r in ported}
    for b in bills:
        parts = sum(Decimal(b[c]) for c in ("voice_fee", "data_fee", "sms_fee", "vas_fee")) - Decimal(b["discount"])
        assert parts == Decimal(b["total_due"]) > 0
    after = (landing / "reference" / "ported_numbers.csv").read_text(encoding="utf-8")
    assert after.startswith(before) and after.count("\n") == before.count("\n") + len(ported)
    # a re-run replaces its own lines and files: the same landing zone, never doubled
    simulate_campaign(landing, targets, [M2], seed=4)
    assert (landing / "reference" / "ported_numbers.csv").read_text(encoding="utf-8") == after
    assert _rows(landing / "campaign_feedback" / f"month={M2}" / "feedback-CMP_X.csv") == fb


def test_bad_targets_or_months_are_refused(world):
    root, targets = world
    with pytest.raises(ValueError, match="months must be consecutive"):
        simulate_campaign(root / "landing", targets, ["2026-10", "2026-12"])
    bad = root / "bad.csv"
    bad.write_text("campaign_id,msisdn\nCMP-X,13800000000\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks columns"):
        simulate_campaign(root / "landing", bad, [M2])
