"""Win-over campaign field check across generator settings: for each setting, a three-month operator runs
a whole cycle (month 1 run, a campaign on every off-net potential member with a 20 % hold-out, the field
simulated from the truth, months 2 and 3 run, feedback, evaluation) and the figures are printed:

- targets approached, and the share of them that are real employees of the target's group (truth);
- won rate (billed in months 2-3, from the bills) of real employees against the other targets (truth);
- conversion rate of likely employees against the other targets (the employee score's field check);
- uplift of the approached against the hold-out.

    .venv/bin/python benchmarks/campaign_sweep.py [--subscribers 2000] [--out campaign_sweep_work]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
from pathlib import Path

import sqlalchemy as sa

from groupscope.config import config_from_dict
from groupscope.reporting import db, models
from groupscope.synth.campaigns import simulate_campaign
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines import campaigns as pc
from pipelines.run import run_period
from transforms.privacy import number_key

MONTHS = ("2026-09", "2026-10", "2026-11")
SETTINGS = {
    "default": {},
    "mostly on-net, few fakes": {"offnet_share": (0.05, 0.20), "fake_share": (0.01, 0.05)},
    "mostly off-net, many fakes": {"offnet_share": (0.65, 0.85), "fake_share": (0.20, 0.30)},
    "quiet population": {"activity": 0.5},
}


def one(name: str, extra: dict, subscribers: int, seed: int, root: Path) -> dict:
    d = root / name.replace(" ", "_").replace(",", "")
    shutil.rmtree(d, ignore_errors=True)
    generate(SynthParams(months=MONTHS, subscribers=subscribers, seed=seed, **extra), d / "landing")
    cfg = config_from_dict({"work_dir": str(d / "work"), "validation": {"gx_sample_rows": 5000}})
    run_period(cfg, d / "landing", MONTHS[0])
    cid = pc.create_campaign(cfg, name, MONTHS[0], ["on_net=false"], 100, 10_000_000, 100_000, 0.2, seed)
    pc.select_campaign(cfg, cid)
    pc.assign_campaign(cfg, cid)
    pc.export_targets(cfg, cid, d / "targets.csv")
    simulate_campaign(d / "landing", d / "targets.csv", list(MONTHS[1:]), seed=seed)
    for p in MONTHS[1:]:
        run_period(cfg, d / "landing", p)
    pc.feedback_campaigns(cfg, d / "landing", MONTHS[1])
    ev = pc.evaluate_campaign(cfg, cid).set_index(["level", "level_key"])
    key = (cfg.work_path / "secrets" / "pseudonym.key").read_text().strip().encode()
    with open(d / "landing_truth" / f"month={MONTHS[0]}" / "employees.csv", encoding="utf-8") as f:
        emp = {(r["group_id"], number_key(key, r["msisdn"])) for r in csv.DictReader(f) if r["group_id"]}
    eng = db.make_engine(cfg)
    t, v = models.campaign_target, models.fact_subscriber_value
    with eng.connect() as c:
        targets = c.execute(sa.select(t.c.number_key, t.c.group_id).where(t.c.campaign_id == cid, sa.not_(t.c.holdout))).fetchall()
        billed = set(c.execute(sa.select(v.c.number_key).where(v.c.period > MONTHS[0])).scalars())
    eng.dispose()
    won = {True: [0, 0], False: [0, 0]}
    for nk, gid in targets:
        w = won[(gid, nk) in emp]
        w[0] += 1
        w[1] += nk in billed
    allrow = ev.loc[("campaign", "all")]
    le, ot = ev.loc[("employee_score", "likely employee")], ev.loc[("employee_score", "other")]
    return {
        "setting": name, "approached": int(allrow.targets), "real_share": won[True][0] / max(1, len(targets)),
        "won_real": won[True][1] / max(1, won[True][0]), "won_other": won[False][1] / max(1, won[False][0]),
        "n_other": won[False][0], "conv_likely": le.conversion_rate, "conv_other": ot.conversion_rate,
        "n_likely": int(le.targets), "n_not_likely": int(ot.targets), "uplift": allrow.uplift,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", default="campaign_sweep_work")
    args = ap.parse_args()
    os.environ.pop("GROUPSCOPE_PSEUDONYM_KEY", None)
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    print(f"{'setting':<28}{'approached':>11}{'real':>7}{'won real':>10}{'won other (n)':>14}{'conv likely':>12}"
          f"{'conv other (n)':>16}{'uplift':>8}")
    for name, extra in SETTINGS.items():
        r = one(name, extra, args.subscribers, args.seed, root)

        def pct(x):
            return "-" if x is None else f"{x:.1%}"

        won_other = f"{pct(r['won_other'])} ({r['n_other']})"
        conv_other = f"{pct(r['conv_other'])} ({r['n_not_likely']})"
        print(f"{r['setting']:<28}{r['approached']:>11}{r['real_share']:>7.0%}{r['won_real']:>10.1%}"
              f"{won_other:>14}{pct(r['conv_likely']):>12}{conv_other:>16}{pct(r['uplift']):>8}", flush=True)


if __name__ == "__main__":
    main()
