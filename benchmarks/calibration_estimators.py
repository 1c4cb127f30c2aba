"""Which survey calibration of the score-based market share errs least, on operators drawn at random.

    python benchmarks/calibration_estimators.py --operators 24
    python benchmarks/calibration_estimators.py --sweep-dir bench_data/sweep   # the quality sweep's rows too

The quality sweep (benchmarks/sweep_quality.py) changes one setting at a time from the generator's
defaults, on fixed seeds. This draws each operator's settings at random over wide ranges (activity
0.4-1.6, off-net share, fakes, field staff, messaging-app staff, tiny groups, registration rate, survey
error 3-30 % and survey share 5-25 %, 5,000-12,000 subscribers: groupscope.synth.params.drawn_settings;
`--draw-seed` fixes the draws), on seeds the sweep does not use, generates both months and runs the pipeline with the default
configuration (an operator already run in `--dir` with the same draw is reused). Then, per operator,
the staff share (`market_share_staff`) of the groups of >= 20 employees is worked out again from the
month's group summary under other ways of fitting the size bands' coefficients on the same surveys
(the same staged surveys and the same plausible ones, `pipelines.analytics.register_surveys` and
`transforms.market.surveyed_groups_sql`; the same pooling of a band with
fewer than `min_surveys_per_industry` surveys and the same hold within `coefficient_max_ratio` of the
global coefficient), and its mean absolute error against the truth is printed, in percentage points:

- `ratio`: the pipeline's, sum(headcount - on-net staff) / sum(expected employees); checked to give
  the exported column's error (the script stops if it does not);
- `median`: the median over the surveys of the per-group ratio (expected >= 1);
- `lad`: the median weighted by the expected employees (least absolute error in employees);
- `wls`: least squares with a survey error proportional to the headcount (weights 1 / headcount^2);
- `l1share`, `l2share`: the coefficient (on a grid) that minimises the absolute or squared error of
  the surveyed groups' shares;
- `visibility`: employees found in proportion to (on-net staff / headcount)^0.5 (a group whose staff
  are a small part of the company shows less of the rest), solved per group for its headcount;
- `shrink`: each group's unregistered employees drawn toward its scope's unregistered-per-staff ratio,
  the weight chosen on the surveys (share-space absolute error).

Two more columns say where the ratio estimator's error comes from: `truth_surveyed`, the same fit with
each surveyed group's true headcount in place of its survey (what a survey without error would give),
and `truth_all`, fitted on every group's true headcount (no survey error and no sampling of which
groups are surveyed): what is left there is the group-to-group scatter of what calls show.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sweep_quality import DRAWN_DIR, MONTHS, run_drawn  # the script beside this one

from groupscope.config import config_from_dict
from groupscope.synth.params import drawn_settings
from pipelines.analytics import register_surveys
from pipelines.engine import DuckDBEngine
from pipelines.storage import derived_files
from transforms.market import surveyed_groups_sql
from transforms.scores import size_band_labels
from transforms.sql import lit

GRID = np.exp(np.linspace(np.log(0.1), np.log(20.0), 600))


def load(root: Path, cfg) -> pd.DataFrame:
    """The evaluated month's groups with their counts, their used survey (if any) and the truth."""
    period = MONTHS[-1]
    mc = cfg.analytics
    con = duckdb.connect()
    eng = DuckDBEngine(con)
    # the surveys as the analytics stage reads them (staged, the last survey_months months, latest delivery)
    register_surveys(eng, root / "work", period, mc.survey_months)
    eng.register_parquet("gs", derived_files(root / "work", "group_summary", period))
    used = con.sql(f"SELECT group_id, headcount AS h FROM ({surveyed_groups_sql('gs', 'surveys', mc.survey_max_ratio, mc.survey_slack)}) WHERE used").df()
    g = con.sql("SELECT * FROM gs WHERE listed_members > 0").df()
    t = con.sql(f"SELECT group_id, true_headcount, market_share AS true_share FROM read_csv({lit(str(root / 'landing_truth' / f'month={period}' / 'groups.csv'))})").df()
    g = g.merge(t, on="group_id").merge(used, on="group_id", how="left")
    g["bi"] = g.size_band.map(size_band_labels(mc.model.size_bands).index)
    g["S"] = g.onnet_registered_staff.astype(float)
    g["C"] = g.onnet_expected + g.offnet_expected
    g["I"] = (g.h - g.S).clip(lower=0)
    return g


def share(df: pd.DataFrame, c) -> np.ndarray:
    """The staff share under coefficient(s) c (transforms.market: on-net staff + round(c x on-net expected))."""
    on = df.S + np.round(df.onnet_expected * c)
    off = df.offnet_expected * c
    return (on / (on + off).replace(0, np.nan)).to_numpy()


def surveyed_share(df: pd.DataFrame, c) -> np.ndarray:
    return np.minimum(1.0, (df.S + np.round(df.onnet_expected * c)) / df.h).to_numpy()


def _grid(df: pd.DataFrame, loss) -> float:
    df = df[df.h > 0]
    errs = [np.nanmean(loss(share(df, c) - surveyed_share(df, c))) for c in GRID]
    return float(GRID[int(np.nanargmin(errs))])


def _weighted_median(r: np.ndarray, w: np.ndarray) -> float:
    o = np.argsort(r)
    cw = np.cumsum(w[o])
    return float(r[o][np.searchsorted(cw, cw[-1] / 2)])


ESTIMATORS = {
    "ratio": lambda s: s.I.sum() / s.C.sum() if s.C.sum() > 0 else np.nan,
    "median": lambda s: float(np.median(s.I[s.C >= 1] / s.C[s.C >= 1])) if (s.C >= 1).any() else np.nan,
    "lad": lambda s: _weighted_median((s.I / s.C)[s.C > 0].to_numpy(), s.C[s.C > 0].to_numpy()) if (s.C > 0).any() else np.nan,
    "wls": lambda s: (s.I * s.C / s.h.clip(lower=1) ** 2).sum() / (s.C ** 2 / s.h.clip(lower=1) ** 2).sum(),
    "l1share": lambda s: _grid(s, np.abs),
    "l2share": lambda s: _grid(s, np.square),
}


def scoped(g: pd.DataFrame, n_bands: int, fit, min_s: int, r: float) -> np.ndarray:
    """Each group's coefficient: its band's scope (pooled as calibration_sql pools) fitted by `fit`, held
    within [global / r, global x r]."""
    sv = g[g.h.notna()]
    glob = fit(sv)
    coef = {}
    for t in range(n_bands):
        coef[t] = glob
        for d in range(n_bands):
            sub = sv[(sv.bi - t).abs() <= d]
            if len(sub) >= min_s:
                c = fit(sub)
                if np.isfinite(c) and np.isfinite(glob):  # a band fit that fails: the global coefficient, as the pipeline
                    coef[t] = min(max(c, glob / r), glob * r)
                break
    return g.bi.map(coef).to_numpy()


def visibility_share(df: pd.DataFrame, k, a: float = 0.5) -> np.ndarray:
    s = np.maximum(df.S.to_numpy(), 1.0)
    c = df.C.to_numpy()
    h = s + k * c
    for _ in range(60):
        h = s + k * c * (h / s) ** a
    unreg = h - s
    f_on = np.where(c > 0, df.onnet_expected.to_numpy() / np.where(c > 0, c, 1), 0.0)
    on = df.S.to_numpy() + np.round(unreg * f_on)
    return on / np.where(on + unreg * (1 - f_on) > 0, on + unreg * (1 - f_on), np.nan)


def maes(g: pd.DataFrame, n_bands: int, min_s: int, r: float) -> dict:
    ev = (g.true_headcount >= 20).to_numpy()
    truth = g.true_share.to_numpy()

    def err(p: np.ndarray) -> float:
        return float(np.nanmean(np.abs(p[ev] - truth[ev])) * 100)

    out = {name: err(share(g, scoped(g, n_bands, fit, min_s, r))) for name, fit in ESTIMATORS.items()}
    exported = err(g.market_share_staff.to_numpy(float))
    if abs(out["ratio"] - exported) > 1e-6:
        sys.exit(f"the ratio estimator gives {out['ratio']:.4f} pp, the exported column {exported:.4f} pp: the script has drifted from transforms.market")

    def k_fit(s: pd.DataFrame) -> float:
        den = (s.C * (s.h / np.maximum(s.S, 1.0)) ** 0.5).sum()
        return s.I.sum() / den if den > 0 else np.nan
    out["visibility"] = err(visibility_share(g, scoped(g, n_bands, k_fit, min_s, r)))

    # shrink: U = w c C + (1 - w) rho S, rho the scope's sum(headcount - staff) / sum(staff)
    c = scoped(g, n_bands, ESTIMATORS["ratio"], min_s, r)
    rho = scoped(g, n_bands, lambda s: s.I.sum() / max(1.0, s.S.sum()), min_s, float("inf"))

    # a group with nothing counted splits its unregistered employees as the operator's expected ones split
    f_all = g.onnet_expected.sum() / g.C.sum() if g.C.sum() > 0 else 0.5
    f_on = np.where(g.C > 0, g.onnet_expected / g.C.where(g.C > 0, 1), f_all)

    def shrunk(w: float) -> tuple[np.ndarray, np.ndarray]:
        """(share, on-net side) with weight w."""
        u = w * c * g.C.to_numpy() + (1 - w) * rho * g.S.to_numpy()
        on = g.S.to_numpy() + np.round(u * f_on)
        return on / np.where(on + u * (1 - f_on) > 0, on + u * (1 - f_on), np.nan), on
    sv = (g.h > 0).to_numpy()

    def survey_err(w: float) -> float:  # the surveyed groups' shares, each side from this weight's estimate
        p, on = shrunk(w)
        return float(np.nanmean(np.abs(p[sv] - np.minimum(1.0, on[sv] / g.h.to_numpy()[sv]))))
    out["shrink"] = err(shrunk(min(np.linspace(0, 1, 21), key=survey_err))[0])
    # where the ratio estimator's error comes from: the same fit on the surveyed groups' true headcounts
    # (no survey error), and on every group's (no survey error, no sampling of the surveyed groups)
    for name, has in (("truth_surveyed", g.h.notna()), ("truth_all", pd.Series(True, index=g.index))):
        t = g.assign(h=g.true_headcount.where(has))
        t["I"] = (t.h - t.S).clip(lower=0)
        out[name] = err(share(g, scoped(t, n_bands, ESTIMATORS["ratio"], min_s, r)))
    out["groups"] = int(ev.sum())
    out["surveys"] = int(g.h.notna().sum())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--operators", type=int, default=24)
    ap.add_argument("--draw-seed", type=int, default=4242)
    ap.add_argument("--dir", default=DRAWN_DIR)
    ap.add_argument("--sweep-dir", help="also the rows of a quality sweep's --dir (benchmarks/sweep_quality.py)")
    a = ap.parse_args()
    cfg = config_from_dict({})
    mc = cfg.analytics
    n_bands, min_s, r = len(mc.model.size_bands) + 1, mc.min_surveys_per_industry, mc.coefficient_max_ratio
    sets = []
    if a.sweep_dir:
        sets.append(("quality sweep", sorted(Path(a.sweep_dir).glob("row*"), key=lambda p: int(p.name[3:]))))
    roots = []
    for i, d in enumerate(drawn_settings(a.operators, a.draw_seed), 1):
        root = Path(a.dir) / f"op{i}"
        t = time.perf_counter()
        run_drawn(root, d)
        print(f"op{i}: {time.perf_counter() - t:.0f} s {d}", file=sys.stderr)
        roots.append(root)
    if roots:
        sets.append((f"{a.operators} operators drawn at random (--draw-seed {a.draw_seed})", roots))
    names = [*ESTIMATORS, "visibility", "shrink", "truth_surveyed", "truth_all"]
    print("Staff-share MAE, pp, groups of >= 20 employees, by the size bands' calibration (`ratio`: the pipeline's).")
    print(f"Command: `python benchmarks/calibration_estimators.py --operators {a.operators}`"
          + (f" `--draw-seed {a.draw_seed}`" if a.draw_seed != 4242 else "")
          + (" `--sweep-dir ...`" if a.sweep_dir else "") + "\n")
    for title, rows in sets:
        table = []
        for root in rows:
            g = load(root, cfg)
            table.append({"operator": root.name, **maes(g, n_bands, min_s, r)})
        df = pd.DataFrame(table)
        print(f"### {title}\n")
        print("| operator | groups | surveys | " + " | ".join(names) + " |")
        print("|---|---|---|" + "---|" * len(names))
        for _, row in df.iterrows():
            print(f"| {row.operator} | {row.groups} | {row.surveys} | " + " | ".join(f"{row[n]:.2f}" for n in names) + " |")
        print("| mean | | | " + " | ".join(f"{df[n].mean():.2f}" for n in names) + " |")
        print("| over 5 pp | | | " + " | ".join(str(int((df[n] > 5).sum())) for n in names) + " |\n")


if __name__ == "__main__":
    main()
