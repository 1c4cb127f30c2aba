"""Time of the prospect-group step within the group analytics of a period that has been run.

    python benchmarks/bench_prospects.py --work-dir WORK --period 2026-10

Runs `build_group_analytics` once in this process and prints its wall time, the share spent finding
prospect groups, and the size of the tie graph given to Leiden.
"""

from __future__ import annotations

import argparse
import time

import pipelines.analytics as analytics
from groupscope.config import config_from_dict


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--period", required=True)
    a = ap.parse_args()
    cfg = config_from_dict({"work_dir": a.work_dir})
    step = analytics._prospects
    seen: dict[str, float] = {}

    def timed(con, cfg, period):
        t = time.perf_counter()
        out = step(con, cfg, period)
        seen["seconds"] = time.perf_counter() - t
        seen["ties"] = con.execute("SELECT count(*) FROM p_edges").fetchall()[0][0]
        seen["numbers"] = con.execute("SELECT count(*) FROM p_nodes").fetchall()[0][0]
        seen["prospects"] = con.execute("SELECT count(DISTINCT prospect_id) FROM p_assign").fetchall()[0][0]
        return out

    analytics._prospects = timed
    t = time.perf_counter()
    analytics.build_group_analytics(cfg, a.period)
    total = time.perf_counter() - t
    print(
        f"group analytics {total:.1f} s, of which prospect groups {seen['seconds']:.1f} s ({seen['seconds'] / total:.0%}); "
        f"{seen['ties']:,} work-like ties, {seen['numbers']:,} numbers given to Leiden, {seen['prospects']:,} prospects"
    )


if __name__ == "__main__":
    main()
