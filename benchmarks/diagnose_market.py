"""Where the score-based market share errs on one generated operator, and what a per-group correction
for how visible the group's staff are through calls would change. For finding causes, on seeds that are
not in the quality sweep (benchmarks/sweep_quality.py).

    python benchmarks/diagnose_market.py --seed 1303 --param activity=0.5

Same operator layout as benchmarks/diagnose_models.py (--dir, --seed, --subscribers, --param): an
operator it generated and ran is reused as it is; otherwise both months are generated and run. The
analytics stage of the evaluated month is then run again on one DuckDB connection so that every
candidate's employee score is at hand (the derived potential_members table keeps only the listed
ones). Printed, over the groups of >= 20 employees that the evaluation measures:

1. how much of each kind of unregistered employee (carrier x work style) the expected count finds
   (mean weight on `analytics.employee_count_ramp`);
2. the error of the staff share (`market_share_staff`) with parts of the estimate replaced by the
   truth: the size-band coefficients fitted on the truth instead of the surveys; the exact on-net
   employees; the off-net count from its true employees alone (no non-employee counted) scaled per band
   on the truth: what remains is how many of a group's off-net staff its calls show;
3. the **staff visibility** of each group, measured on its registered staff (not flagged, not a data
   line, not the key person): each scored with the employee score's formula (contact_score, before
   the support floor) over its contacts with the group's other members, as if it were not registered
   (the group counted without it; as an off-net number, its visible calls are those with on-net
   numbers, and no co-location; as an on-net one, with co-location), its weight on the ramp being the
   share of it the count would have found. Its correlation with the share of the group's off-net
   employees that the count finds, and the staff-share error when each group's expected counts are
   divided by it (shrunk toward a prior, `k` members' worth) before the survey calibration, which is
   redone the same way (ratio estimator, size bands pooled to `min_surveys_per_industry`, held within
   `coefficient_max_ratio` of the global coefficient) or with the global coefficient alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import zlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from groupscope.config import config_from_dict
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.analytics import build_group_analytics
from pipelines.run import run_period
from pipelines.storage import derived_path
from transforms.graph import adjacency_sql
from transforms.market import expected_weight_sql
from transforms.scores import employee_scores_sql
from transforms.sql import lit

MONTHS = ("2026-09", "2026-10")
BANDS = ["1-3", "4-9", "10-29", "30-99", "100+"]


def visibility_sql(features: str, fake: str, adj: str, numbers: str, refs: str, mc, ramp: list[float]) -> str:
    """Per group: registered staff scored as if not registered (see the module's docstring, 3.)."""
    w = expected_weight_sql("contact_score", ramp)
    return f"""
WITH s AS (
    SELECT f.group_id, f.msisdn, f.listed - 1 AS listed, f.members_contacted, f.in_work_share AS work_share,
           f.in_volume_share AS focus, f.events_in, f.work_records,
           CASE WHEN f.work_records > 0 THEN f.colocation END AS colocation
    FROM {features} AS f JOIN {fake} AS k ON k.group_id = f.group_id AND k.msisdn = f.msisdn
    WHERE NOT k.is_suspect AND NOT k.data_line AND NOT f.is_key_person AND f.listed >= 2
),
m AS (SELECT DISTINCT group_id, msisdn FROM {features}),
seen AS (
    SELECT s.group_id, s.msisdn, sum(a.events) AS onnet_events
    FROM s JOIN {adj} AS a ON a.x = s.msisdn JOIN {numbers} AS n ON n.number = a.y
    WHERE n.on_net GROUP BY s.group_id, s.msisdn
),
touch AS (
    SELECT s.group_id, s.msisdn, a.y AS member
    FROM s JOIN {adj} AS a ON a.x = s.msisdn JOIN m ON m.group_id = s.group_id AND m.msisdn = a.y
),
closed AS (
    SELECT t1.group_id, t1.msisdn, count(DISTINCT t1.member) AS supported
    FROM touch AS t1 JOIN {adj} AS a ON a.x = t1.member
    JOIN touch AS t2 ON t2.group_id = t1.group_id AND t2.msisdn = t1.msisdn AND t2.member = a.y
    GROUP BY t1.group_id, t1.msisdn
),
pseudo AS (
    SELECT s.group_id, s.msisdn, v.as_on_net, s.listed, s.members_contacted, s.work_share, s.work_records,
           CASE WHEN v.as_on_net THEN s.focus ELSE coalesce(s.events_in * 1.0 / nullif(e.onnet_events, 0), 0) END AS focus,
           CASE WHEN v.as_on_net THEN s.colocation END AS colocation,
           CASE WHEN s.members_contacted >= 2 THEN coalesce(c.supported, 0) * 1.0 / s.members_contacted END AS closure
    FROM s LEFT JOIN closed AS c ON c.group_id = s.group_id AND c.msisdn = s.msisdn
    LEFT JOIN seen AS e ON e.group_id = s.group_id AND e.msisdn = s.msisdn
    CROSS JOIN (VALUES (false), (true)) AS v(as_on_net)
),
scored AS ({employee_scores_sql("pseudo", refs, mc)})
SELECT group_id, count(*) FILTER (WHERE NOT as_on_net) AS vis_n,
       avg({w}) FILTER (WHERE NOT as_on_net) AS vis_off, avg({w}) FILTER (WHERE as_on_net) AS vis_on
FROM scored GROUP BY group_id
"""


def _kv(items: list[str]) -> dict:
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        val = json.loads(v)
        out[k] = tuple(val) if isinstance(val, list) else val
    return out


def calibrated(g: pd.DataFrame, on: pd.Series, off: pd.Series, min_s: int, r: float, by_band: bool = True) -> pd.Series:
    """The score coefficient of each group as transforms.market.calibration_sql fits it, on counts on/off."""
    sv = g[g.headcount.notna()]
    imp = np.maximum(0, sv.headcount - sv.onnet_registered_staff)
    cnt = on[sv.index] + off[sv.index]
    glob = imp.sum() / cnt.sum()
    if not by_band:
        return pd.Series(glob, index=g.index)
    coef = {}
    for i, b in enumerate(BANDS):
        coef[b] = glob
        for d in range(len(BANDS)):
            m = (sv.bi - i).abs() <= d
            if m.sum() >= min_s:
                coef[b] = min(max(imp[m].sum() / cnt[m].sum(), glob / r), glob * r)
                break
    return g.size_band.map(coef)


def staff_mae(g: pd.DataFrame, onnet: pd.Series, offnet: pd.Series) -> float:
    ev = g.true_headcount >= 20
    return float(((onnet / (onnet + offnet)) - g.true_share)[ev].abs().mean() * 100)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--subscribers", type=int, default=8_000)
    ap.add_argument("--param", action="append", default=[], help="generator setting, e.g. activity=0.5")
    ap.add_argument("--dir", default="bench_data/diagnose")
    a = ap.parse_args()
    params = _kv(a.param)
    tag = zlib.crc32(json.dumps(a.param, sort_keys=True).encode()) % 10_000  # as diagnose_models.py
    root = Path(a.dir) / f"seed{a.seed}_{a.subscribers}_{tag}"
    national = "chinese-calendar" if params.get("holidays", True) else "none"
    cfg = config_from_dict({"work_dir": str(root / "work"), "calendar": {"national": national}})
    period = MONTHS[-1]
    if not (root / "landing_truth").exists():
        shutil.rmtree(root, ignore_errors=True)
        generate(SynthParams(months=MONTHS, subscribers=a.subscribers, seed=a.seed, **params), root / "landing")
    if not derived_path(cfg.work_path, "group_summary", period).exists():
        shutil.rmtree(root / "work", ignore_errors=True)
        for p in MONTHS:
            run_period(cfg, root / "landing", p)
    an = cfg.analytics
    con = duckdb.connect()
    out = build_group_analytics(cfg, period, con)  # again, keeping its tables on this connection
    # the stage drops its call graph at the end: read back the one it wrote
    con.execute(f"CREATE VIEW graph_written AS SELECT * FROM read_parquet({lit(str(out['call_graph']))})")
    con.execute(f"CREATE VIEW adj_written AS {adjacency_sql('graph_written')}")
    con.execute(f"CREATE TABLE vis AS {visibility_sql('features', 'fake', 'adj_written', 'numbers', 'refs', an.model, an.employee_count_ramp)}")
    truth = root / "landing_truth" / f"month={period}"
    con.execute(f"CREATE VIEW te AS SELECT * FROM read_csv({lit(str(truth / 'employees.csv'))}, header=true, types={{'msisdn': 'VARCHAR'}})")
    con.execute(f"CREATE VIEW tg AS SELECT * FROM read_csv({lit(str(truth / 'groups.csv'))}, header=true)")
    w = expected_weight_sql("c.contact_score", an.employee_count_ramp)
    con.execute(f"""CREATE TABLE found AS
        SELECT te.group_id, te.on_net, te.work_style, coalesce({w}, 0) AS wt
        FROM te JOIN tg USING (group_id) LEFT JOIN employee AS c ON c.group_id = te.group_id AND c.msisdn = te.msisdn
        WHERE NOT te.registered AND tg.true_headcount >= 20""")
    print(f"seed {a.seed}, {a.subscribers:,} subscribers, settings {params or 'defaults'}")
    print("\n1. Unregistered employees of the groups of >= 20 employees found by the expected count (mean weight):")
    print(con.sql("SELECT on_net, work_style, count(*) AS employees, round(avg(wt), 3) AS found FROM found GROUP BY ALL ORDER BY ALL")
          .fetchdf().to_string(index=False))
    # true positives of the expected counts, per group and carrier
    con.execute(f"""CREATE TABLE tp AS
        SELECT c.group_id, sum({w}) FILTER (WHERE c.on_net) AS tp_on, sum({w}) FILTER (WHERE NOT c.on_net) AS tp_off
        FROM employee AS c JOIN te ON te.group_id = c.group_id AND te.msisdn = c.msisdn GROUP BY 1""")
    g = con.sql("""
        SELECT m.group_id, m.size_band, m.onnet_registered_staff, m.onnet_expected, m.offnet_expected, m.market_share_staff,
               s.headcount, tg.true_headcount, tg.market_share AS true_share, tg.onnet_employees, tg.offnet_employees,
               coalesce(tp.tp_on, 0) AS tp_on, coalesce(tp.tp_off, 0) AS tp_off,
               coalesce(v.vis_n, 0) AS vis_n, coalesce(v.vis_off, 0) AS vis_off, coalesce(v.vis_on, 0) AS vis_on
        FROM market AS m JOIN tg USING (group_id) LEFT JOIN tp USING (group_id) LEFT JOIN vis AS v USING (group_id)
        LEFT JOIN (SELECT group_id, arg_max(surveyed_headcount, surveyed_at) AS headcount FROM surveys GROUP BY 1) AS s USING (group_id)
    """).fetchdf()
    g["bi"] = g.size_band.map({b: i for i, b in enumerate(BANDS)})
    ev = g[g.true_headcount >= 20]
    min_s, r = an.min_surveys_per_industry, an.coefficient_max_ratio
    R, on, off = g.onnet_registered_staff.astype(float), g.onnet_expected, g.offnet_expected

    def est(c, on_, off_):
        return R + np.round(on_ * c), off_ * c

    c = calibrated(g, on, off, min_s, r)
    band_truth = ((ev.onnet_employees - ev.onnet_registered_staff + ev.offnet_employees).groupby(ev.size_band).sum()
                  / (ev.onnet_expected + ev.offnet_expected).groupby(ev.size_band).sum())
    off_truth = ev.offnet_employees.groupby(ev.size_band).sum() / ev.tp_off.groupby(ev.size_band).sum()
    print(f"\n2. Staff-share MAE (pp) over the {len(ev)} groups of >= 20 employees, with parts taken from the truth:")
    rows = [
        ("as the pipeline estimates it (recomputed here)", staff_mae(g, *est(c, on, off))),
        ("size-band coefficients fitted on the truth of these groups", staff_mae(g, *est(g.size_band.map(band_truth), on, off))),
        ("exact on-net employees, off-net as estimated", staff_mae(g, g.onnet_employees, est(c, on, off)[1])),
        ("exact on-net; off-net: its true employees' weights x band ratio on the truth",
         staff_mae(g, g.onnet_employees, g.tp_off * g.size_band.map(off_truth))),
        ("estimated on-net, exact off-net employees", staff_mae(g, est(c, on, off)[0], g.offnet_employees)),
    ]
    print(pd.DataFrame(rows, columns=["estimate", "mae_pp"]).round(2).to_string(index=False))
    found_off = ev.tp_off / ev.offnet_employees.clip(lower=1)
    print(f"\n3. Staff visibility (registered staff scored as if unregistered): mean {ev.vis_off.mean():.3f} as off-net, "
          f"{ev.vis_on.mean():.3f} as on-net, over {ev.vis_n.mean():.1f} members a group; share of the off-net "
          f"employees found {found_off.mean():.3f}; correlation of the two over the groups {np.corrcoef(ev.vis_off, found_off)[0, 1]:.3f}")
    out = []
    n = g.vis_n
    for prior in ("size band", "all groups"):
        for k in (0, 10, 20, 40):
            shr = {}
            for col in ("vis_off", "vis_on"):
                key = g.size_band if prior == "size band" else pd.Series("all", index=g.index)
                pool = (g[col] * n).groupby(key).transform("sum") / n.groupby(key).transform("sum").clip(lower=1e-9)
                shr[col] = ((n * g[col] + k * pool) / (n + k).clip(lower=1e-9)).clip(lower=0.25)
            on2, off2 = on / shr["vis_on"], off / shr["vis_off"]
            for by_band in (True, False):
                out.append((prior, k, "size bands" if by_band else "global",
                            staff_mae(g, *est(calibrated(g, on2, off2, min_s, r, by_band), on2, off2))))
    print("   staff-share MAE (pp) with each group's expected counts divided by its visibility (shrunk toward the prior with"
          f" k members' worth, at least 0.25), then calibrated on the surveys (without: {rows[0][1]:.2f}; global coefficient"
          f" without: {staff_mae(g, *est(calibrated(g, on, off, min_s, r, False), on, off)):.2f}):")
    print(pd.DataFrame(out, columns=["prior", "k", "coefficient", "mae_pp"]).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
