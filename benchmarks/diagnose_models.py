"""Where the group models err on one generated operator: the real members flagged as fake (by kind of
member and group size, with their evidence), the fakes missed, the likely employees listed that are not
the group's employees, and the market-share error by size band
(bias of the on-net and off-net estimates, the coefficient applied). For finding causes, on seeds that
are not in the quality sweep (benchmarks/sweep_quality.py).

    python benchmarks/diagnose_models.py --seed 1303 --param activity=0.5
    python benchmarks/diagnose_models.py --seed 1201 --model tie_min_work_events=1

--param sets a generator setting (groupscope.synth.params.SynthParams), --model an
analytics.model key (JSON values). The operator is generated once per seed and settings under --dir;
the pipeline runs both months again on every call.
"""

from __future__ import annotations

import argparse
import json
import shutil
import zlib
from pathlib import Path

import duckdb

from groupscope.config import config_from_dict
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.evaluate import evaluate, report
from pipelines.run import run_period
from pipelines.storage import derived_path
from transforms.sql import lit

MONTHS = ("2026-09", "2026-10")


def _kv(items: list[str], ranges_as_tuples: bool) -> dict:
    """key=JSON value pairs; the generator takes its ranges as tuples."""
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        val = json.loads(v)
        out[k] = tuple(val) if ranges_as_tuples and isinstance(val, list) else val
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--subscribers", type=int, default=8_000)
    ap.add_argument("--param", action="append", default=[], help="generator setting, e.g. activity=0.5")
    ap.add_argument("--model", action="append", default=[], help="analytics.model key, e.g. tie_min_work_events=1")
    ap.add_argument("--dir", default="bench_data/diagnose")
    a = ap.parse_args()
    params, model = _kv(a.param, True), _kv(a.model, False)
    tag = zlib.crc32(json.dumps(a.param, sort_keys=True).encode()) % 10_000
    root = Path(a.dir) / f"seed{a.seed}_{a.subscribers}_{tag}"
    if not (root / "landing_truth").exists():
        shutil.rmtree(root, ignore_errors=True)
        generate(SynthParams(months=MONTHS, subscribers=a.subscribers, seed=a.seed, **params), root / "landing")
    shutil.rmtree(root / "work", ignore_errors=True)
    national = "chinese-calendar" if params.get("holidays", True) else "none"
    cfg = config_from_dict({"work_dir": str(root / "work"), "calendar": {"national": national},
                            "analytics": {"model": model}})
    for p in MONTHS:
        run_period(cfg, root / "landing", p)
    period = MONTHS[-1]
    print(f"seed {a.seed}, {a.subscribers:,} subscribers, settings {params or 'defaults'}, model {model or 'defaults'}")
    print(report(evaluate(cfg, root / "landing_truth", period)))
    truth = root / "landing_truth" / f"month={period}"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_parquet({lit(str(derived_path(cfg.work_path, 'member_scores', period)))})")
    con.execute(f"CREATE VIEW g AS SELECT * FROM read_parquet({lit(str(derived_path(cfg.work_path, 'group_summary', period)))})")
    con.execute(f"CREATE VIEW tm AS SELECT * FROM read_csv({lit(str(truth / 'members.csv'))}, header=true, types={{'msisdn': 'VARCHAR'}})")
    con.execute(f"CREATE VIEW tg AS SELECT * FROM read_csv({lit(str(truth / 'groups.csv'))}, header=true)")
    band = ("CASE WHEN tm.group_lines <= 3 THEN '1-3' WHEN tm.group_lines <= 9 THEN '4-9' "
            "WHEN tm.group_lines <= 29 THEN '10-29' ELSE '30+' END")
    print("\nReal members flagged as fake and fakes missed, by kind and group size (means of their evidence):")
    print(con.sql(f"""
        SELECT CASE WHEN tm.is_fake THEN 'missed ' || tm.fake_kind ELSE 'flagged ' || tm.member_kind END AS what,
               {band} AS lines, count(*) AS n, round(avg(s.own_events), 1) AS events, round(avg(s.work_records), 1) AS work_records,
               round(avg(s.members_contacted), 2) AS members_contacted, round(avg(s.e_ties), 2) AS e_ties,
               round(avg(s.e_colocation), 2) AS e_colocation, round(avg(s.e_profile), 2) AS e_profile,
               round(avg(s.fake_score), 2) AS fake_score
        FROM s JOIN tm USING (group_id, msisdn) WHERE s.is_suspect <> tm.is_fake
        GROUP BY ALL ORDER BY n DESC""").fetchdf().to_string(index=False))
    con.execute(f"CREATE VIEW pm AS SELECT * FROM read_parquet({lit(str(derived_path(cfg.work_path, 'potential_members', period)))})")
    con.execute(f"CREATE VIEW tu AS SELECT * FROM read_csv({lit(str(truth / 'unregistered_employees.csv'))}, header=true, types={{'msisdn': 'VARCHAR'}})")
    print("\nLikely employees listed, employees of the group or not (means):")
    print(con.sql("""
        SELECT tu.msisdn IS NOT NULL AS employee, pm.on_net, count(*) AS n, round(avg(pm.members_contacted), 2) AS members_contacted,
               round(avg(pm.work_share), 2) AS work_share, round(avg(pm.focus), 2) AS focus, round(avg(pm.closure), 2) AS closure,
               round(avg(pm.score), 2) AS score
        FROM pm LEFT JOIN tu USING (group_id, msisdn) WHERE pm.likely_employee GROUP BY ALL ORDER BY ALL""").fetchdf().to_string(index=False))
    print("\nMarket share (staff) against the truth, groups of >= 20 employees, by size band (percentage points;"
          " on/off bias: estimated - true employees):")
    print(con.sql("""
        SELECT g.size_band, count(*) AS groups, round(avg(abs(g.market_share_staff - tg.market_share)) * 100, 2) AS mae,
               round(avg(g.market_share_staff - tg.market_share) * 100, 2) AS bias,
               round(avg(abs(g.market_share - tg.market_share)) * 100, 2) AS mae_contract,
               round(avg(g.onnet_registered_staff + g.est_onnet_unregistered - tg.onnet_employees), 2) AS onnet_bias,
               round(avg(g.est_offnet_employees - tg.offnet_employees), 2) AS offnet_bias,
               round(avg(g.correction_coefficient), 3) AS coefficient, round(avg(g.data_lines), 2) AS data_lines
        FROM g JOIN tg USING (group_id) WHERE tg.true_headcount >= 20 GROUP BY ALL ORDER BY 1""").fetchdf().to_string(index=False))


if __name__ == "__main__":
    main()
