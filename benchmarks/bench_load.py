"""Load benchmark: prepare and load one analysed period into each reporting database, twice (the second
load replaces the first), and print rows, seconds and rows per second.

    python benchmarks/bench_load.py --work-dir WORK --period 2026-10 [--db URL ...] [--config FILE]

WORK must hold a period already run (`groupscope run`); without --db, the embedded DuckDB file.
PostgreSQL loads need $GROUPSCOPE_PSEUDONYM_KEY.
"""

from __future__ import annotations

import argparse
import time

from groupscope.config import load_config
from groupscope.reporting.db import database_url
from pipelines.run import load_results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--period", required=True)
    ap.add_argument("--db", action="append", default=None, help="reporting database URL (repeatable)")
    ap.add_argument("--config")
    args = ap.parse_args()
    cfg = load_config(args.config, work_dir=args.work_dir)
    print(f"{'database':<14}{'load':>6}{'rows':>12}{'prepare+load s':>16}{'of which load s':>17}{'rows/s':>12}")
    for url in args.db or [None]:
        kind = database_url(cfg, url).split(":")[0].split("+")[0]
        for i in (1, 2):
            t0 = time.perf_counter()
            r = load_results(cfg, args.period, url)
            total = time.perf_counter() - t0
            rows = sum(r.rows.values())
            print(f"{kind:<14}{i:>6}{rows:>12,}{total:>16.1f}{r.seconds:>17.1f}{rows / total:>12,.0f}", flush=True)


if __name__ == "__main__":
    main()
