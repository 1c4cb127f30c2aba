"""Model quality across generator settings, printed as a Markdown table.

    python benchmarks/sweep_quality.py --subscribers 8000 > docs/quality.md

Each row generates an operator (two months; `--months`), runs the pipeline for both months with the default
configuration (calendar.national: none where the operator's calendar is Monday-Friday), and evaluates the second month against the generator's ground truth. The rows: the tidy
operator (every setting of a real operator's variety off, groupscope.synth.params.TIDY), each setting
of that variety switched on alone at its default (issue 12), the mix of all of them (the generator's
defaults) on three seeds, and the mix far from its defaults (quiet, chatty, many fakes, mostly off-net,
many field staff).

    python benchmarks/sweep_quality.py --drawn 24

`--drawn N` evaluates instead N operators whose settings (their sizes too: `--subscribers` and `--only`
do not apply) are drawn at random over wide ranges (groupscope.synth.params.drawn_settings,
`--draw-seed`), with the default configuration, in `--dir` (default bench_data/drawn). An operator
already run there with the same settings and the same code (a hash of the packages' sources) is
reused; benchmarks/calibration_estimators.py runs and reuses the same ones.

    python benchmarks/sweep_quality.py --only 12,14 --months 12 --survey-months 12,2

`--months N` generates and runs N months ending 2026-10 instead of two (a year of account managers'
surveys behind the calibration, as `analytics.survey_months` expects); `--survey-months K,...` evaluates
the last month once per K, re-running it with `analytics.survey_months` K (the same operator with fewer
months of surveys; the month before keeps the default configuration's results), one table row each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

from groupscope.config import config_from_dict
from groupscope.period import Period
from groupscope.synth.generate import generate
from groupscope.synth.params import TIDY, SynthParams, drawn_settings
from pipelines.evaluate import evaluate, missed
from pipelines.run import run_period


def _alone(**kw) -> dict:
    """TIDY with one setting of the variety back on."""
    return {**TIDY, **kw}


MONTHS = ("2026-09", "2026-10")

SETTINGS = [
    # label, seed, params
    ("tidy (variety off)", 101, dict(TIDY)),
    ("field staff (by industry)", 102, _alone(field_staff=1.0)),
    ("data lines and IoT SIMs (2-20 % of a group's lines)", 103, _alone(data_lines=(0.02, 0.20))),
    ("messaging-app staff (25 %)", 104, _alone(messaging_share=0.25)),
    ("tiny groups (1-3 lines)", 105, _alone(tiny_groups=0.45)),
    ("holiday calendar with make-up days", 106, _alone(holidays=True)),
    ("no closures in either month", 107, _alone(churn_free_months=1.0)),
    ("rough surveys (15 % error)", 108, _alone(survey_error=0.15)),
    ("mix of all (generator defaults)", 201, {}),
    ("mix, another seed", 202, {}),
    ("mix, a third seed", 203, {}),
    ("mix, quiet population (activity 0.5)", 303, {"activity": 0.5}),
    ("mix, many fakes (15-25 %)", 505, {"fake_share": (0.15, 0.25)}),
    ("mix, mostly off-net (60-80 %)", 707, {"offnet_share": (0.60, 0.80)}),
    ("mix, twice the field staff", 909, {"field_staff": 2.0}),
]

COLUMNS = [
    # header, metric key, format
    ("fake P", "fake_precision", "{:.3f}"),
    ("fake R", "fake_recall", "{:.3f}"),
    ("data lines flagged", "data_lines_flagged", "{:.3f}"),
    ("messaging staff flagged", "messaging_flagged", "{:.3f}"),
    ("field staff flagged", "field_flagged", "{:.3f}"),
    ("fake P, groups <= 3", "fake_tiny_precision", "{:.3f}"),
    ("fake R, groups <= 3", "fake_tiny_recall", "{:.3f}"),
    ("potential P", "potential_score_precision", "{:.3f}"),
    ("potential R", "potential_score_recall", "{:.3f}"),
    ("share MAE pp", "market_share_mae_pp", "{:.2f}"),
    ("staff share MAE pp", "market_share_staff_mae_pp", "{:.2f}"),
    ("10 % rule share MAE pp", "rule_market_share_mae_pp", "{:.2f}"),
    ("purity MAE pp", "purity_mae_pp", "{:.2f}"),
    ("prospect P", "prospect_precision", "{:.3f}"),
    ("prospect R", "prospect_recall", "{:.3f}"),
]


def _cell(m: dict, key: str, fmt: str) -> str:
    v = m.get(key)
    if v is None:
        return "n/a"
    text = fmt.format(v)
    if missed(key, v):
        text = f"**{text}**"  # misses its bar
    return text


DRAWN_DIR = "bench_data/drawn"
_PACKAGES = ("groupscope", "transforms", "pipelines", "expectations")


def code_hash() -> str:
    """A hash of the sources of the packages a run executes (a run made by other code is not reused)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in sorted(p for pkg in _PACKAGES for p in (root / pkg).rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def config_for(root: Path, params: SynthParams, survey_months: int | None = None):
    """The default configuration, with the operator's own calendar (Monday-Friday where holidays are off);
    `survey_months`: analytics.survey_months instead of its default."""
    national = "chinese-calendar" if params.holidays else "none"
    extra = {"analytics": {"survey_months": survey_months}} if survey_months is not None else {}
    return config_from_dict({"work_dir": str(root / "work"), "calendar": {"national": national}, **extra})


def generate_and_run(root: Path, params: SynthParams):
    """A fresh operator in `root`: generated, then both months run; returns the configuration used."""
    shutil.rmtree(root, ignore_errors=True)
    generate(params, root / "landing")
    cfg = config_for(root, params)
    for p in params.months:
        run_period(cfg, root / "landing", p)
    return cfg


def run_drawn(root: Path, settings: dict):
    """Generate and run both months of a drawn operator in `root`, unless it already holds that run
    (the same settings, by the same code); returns the configuration."""
    done = root / "settings.json"
    params = SynthParams(months=MONTHS, **settings)
    stamp = json.loads(json.dumps({**settings, "code": code_hash()}))
    if done.exists() and json.loads(done.read_text()) == stamp:
        return config_for(root, params)
    cfg = generate_and_run(root, params)
    done.write_text(json.dumps(stamp))
    return cfg


def _short(settings: dict) -> str:
    def f(v):
        return "-".join(f"{x:.2f}" for x in v) if isinstance(v, (tuple, list)) else f"{v:.2f}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k} {f(v)}" for k, v in settings.items() if k != "seed")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=8_000)
    ap.add_argument("--dir", help="where the operators are generated and run (bench_data/sweep; with --drawn, bench_data/drawn)")
    ap.add_argument("--only", help="comma-separated row numbers (1-based) to run")
    ap.add_argument("--drawn", type=int, help="instead: this many operators with settings drawn at random")
    ap.add_argument("--draw-seed", type=int, default=4242)
    ap.add_argument("--months", type=int, default=len(MONTHS), help="sweep rows: this many months ending 2026-10")
    ap.add_argument("--survey-months", help="sweep rows: comma-separated analytics.survey_months, the last month evaluated with each")
    a = ap.parse_args()
    if a.drawn and (a.months != len(MONTHS) or a.survey_months):
        ap.error("--months and --survey-months are for the sweep's rows, not with --drawn")
    if a.months < 1:
        ap.error("--months must be at least 1")
    months = MONTHS
    if a.months != len(MONTHS):
        months = tuple(str(p) for p in reversed(Period.parse(MONTHS[-1]).back(a.months)))
    survey_months = [int(x) for x in a.survey_months.split(",")] if a.survey_months else [None]
    a.dir = a.dir or (DRAWN_DIR if a.drawn else "bench_data/sweep")
    if a.drawn:
        print(f"Quality on {a.drawn} operators drawn at random (groupscope.synth.params.drawn_settings, draw seed "
              f"{a.draw_seed}), months {', '.join(months)}, period evaluated {months[-1]}, default configuration.")
        print(f"Command: `python benchmarks/sweep_quality.py --drawn {a.drawn}`"
              + (f" `--draw-seed {a.draw_seed}`" if a.draw_seed != 4242 else "") + "\n")
        print("| # | settings | seed | " + " | ".join(c[0] for c in COLUMNS) + " |")
        print("|---|---|---|" + "---|" * len(COLUMNS))
        for i, st in enumerate(drawn_settings(a.drawn, a.draw_seed), 1):
            root = Path(a.dir) / f"op{i}"
            m = evaluate(run_drawn(root, st), root / "landing_truth", months[-1])
            print(f"| {i} | {_short(st)} | {st['seed']} | " + " | ".join(_cell(m, k, f) for _, k, f in COLUMNS) + " |", flush=True)
        return
    rows = list(enumerate(SETTINGS, 1))
    if a.only:
        keep = {int(x) for x in a.only.split(",")}
        rows = [r for r in rows if r[0] in keep]
    print(f"Quality sweep: {a.subscribers:,} subscribers, months {', '.join(months)}, period evaluated {months[-1]}.")
    print(f"Command: `python benchmarks/sweep_quality.py --subscribers {a.subscribers}`"
          + (f" `--only {a.only}`" if a.only else "") + (f" `--months {a.months}`" if a.months != len(MONTHS) else "")
          + (f" `--survey-months {a.survey_months}`" if a.survey_months else "") + "\n")
    print("| # | setting | seed | " + " | ".join(c[0] for c in COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    for i, (label, seed, kw) in rows:
        root = Path(a.dir) / f"row{i}"
        t = time.perf_counter()
        params = SynthParams(months=months, subscribers=a.subscribers, seed=seed, **kw)
        cfg = generate_and_run(root, params)
        for k in survey_months:
            if k is not None:  # the last month again, calibrated on its last k months of surveys
                cfg = config_for(root, params, k)
                run_period(cfg, root / "landing", months[-1])
            m = evaluate(cfg, root / "landing_truth", months[-1])
            name = label if k is None else f"{label}, surveys of {k} months"
            print(f"| {i} | {name} | {seed} | " + " | ".join(_cell(m, k2, f) for _, k2, f in COLUMNS) + " |", flush=True)
        print(f"({label}: {time.perf_counter() - t:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
