"""Model quality across seeds and generator settings, printed as a Markdown table.

    python benchmarks/sweep_quality.py --subscribers 15000 > docs/quality.md

Each row generates an operator (two months), runs the pipeline for the second month with the default
configuration, and evaluates it against the generator's ground truth.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from groupscope.config import config_from_dict
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.evaluate import evaluate
from pipelines.run import run_period

SETTINGS = [
    # label, seed, params
    ("default", 101, {}),
    ("default, another seed", 202, {}),
    ("quiet population (activity 0.5)", 303, {"activity": 0.5}),
    ("chatty population (activity 2.0)", 404, {"activity": 2.0}),
    ("many fakes (15-25 %)", 505, {"fake_share": (0.15, 0.25)}),
    ("few fakes (2-6 %)", 606, {"fake_share": (0.02, 0.06)}),
    ("mostly off-net (60-80 %)", 707, {"offnet_share": (0.60, 0.80)}),
    ("mostly on-net (10-30 %)", 808, {"offnet_share": (0.10, 0.30)}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=15_000)
    ap.add_argument("--dir", default="bench_data/sweep")
    a = ap.parse_args()
    months = ("2026-09", "2026-10")
    print(f"Quality sweep: {a.subscribers:,} subscribers, months {', '.join(months)}, period evaluated {months[-1]}.")
    print(f"Command: `python benchmarks/sweep_quality.py --subscribers {a.subscribers}`\n")
    print(
        "| setting | seed | fake P | fake R | potential P | potential R | 10 % rule P | 10 % rule R | share MAE pp "
        "| purity MAE pp | prospects | prospect P | prospect R (visible) | prospects per company |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, seed, kw in SETTINGS:
        root = Path(a.dir) / f"seed{seed}"
        shutil.rmtree(root, ignore_errors=True)
        t = time.perf_counter()
        generate(SynthParams(months=months, subscribers=a.subscribers, seed=seed, **kw), root / "landing")
        cfg = config_from_dict({"work_dir": str(root / "work")})
        for p in months:
            run_period(cfg, root / "landing", p)
        m = evaluate(cfg, root / "landing_truth", months[-1])
        print(
            f"| {label} | {seed} | {m['fake_precision']:.3f} | {m['fake_recall']:.3f} | "
            f"{m['potential_score_precision']:.3f} | {m['potential_score_recall']:.3f} | "
            f"{m['potential_rule10_precision']:.3f} | {m['potential_rule10_recall']:.3f} | "
            f"{m['market_share_mae_pp']:.2f} | {m['purity_mae_pp']:.2f} | {m['prospects']} | "
            f"{m['prospect_precision']:.3f} | {m['prospect_recall']:.3f} ({m['prospect_companies_visible']}) | "
            f"{m['prospects_per_company']:.2f} |",
            flush=True,
        )
        print(f"({label}: {time.perf_counter() - t:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
