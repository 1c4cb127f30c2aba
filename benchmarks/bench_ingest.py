"""Benchmark: ingest + validate + stage of Parquet CDRs, and normalise + MOC/MTC collapse.

    python benchmarks/bench_ingest.py --subscribers 100000

Generates one month of a synthetic operator with Parquet CDRs (once, cached under --dir), then stages
the CDR table with the full row-level suite, and builds the calls table. Prints rows/s, the ratio to
a bare DuckDB scan of the same files in the same run (the machine's noise cancels in the ratio), and
the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from groupscope.config import config_from_dict
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.calls import build_calls
from pipelines.ingest import ingest_table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--period", default="2026-10")
    ap.add_argument("--dir", default="bench_data")
    ap.add_argument("--memory-limit", default="2GB", help="duckdb_memory_limit of the run")
    a = ap.parse_args()
    root = Path(a.dir) / f"s{a.subscribers}"
    landing = root / "landing"
    if not (landing / "cdr").exists():
        t = time.perf_counter()
        r = generate(SynthParams(months=(a.period,), subscribers=a.subscribers, seed=1, cdr_format="parquet"), landing)
        print(f"generated {r.rows['cdr']:,} CDR rows in {time.perf_counter() - t:.1f} s")
    work = root / "work"
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    files = sorted(str(p) for p in landing.glob(f"cdr/dt={a.period}-*/*.parquet"))
    cfg = config_from_dict({"work_dir": str(work), "duckdb_memory_limit": a.memory_limit})
    con = cfg.duckdb_connect()
    t = time.perf_counter()
    n = con.execute(f"SELECT count(*), sum(length(other_party)) FROM read_parquet({files})").fetchone()[0]
    scan = time.perf_counter() - t

    t = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    ingest_table(con, landing, work, "number_ranges", a.period, "utf-8")
    ingest_table(con, landing, work, "ported_numbers", a.period, "utf-8")
    parts = ingest_table(con, landing, work, "cdr", a.period, "utf-8")
    stage = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds of all threads: on a shared machine a steadier figure than wall time
    stage_cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    stage_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    accepted = sum(f.accepted for p in parts for f in p.files)
    t = time.perf_counter()
    build_calls(cfg, a.period, con)
    calls = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CDR rows                         {n:>14,}")
    print(f"bare DuckDB scan                 {scan:>10.2f} s  {n / scan:>14,.0f} rows/s")
    print(f"ingest+validate+stage            {stage:>10.2f} s  {n / stage:>14,.0f} rows/s  ({stage / scan:.1f}x scan)")
    print(f"ingest+validate+stage, CPU time  {stage_cpu:>10.2f} s  (all threads)")
    print(f"normalise+collapse MOC/MTC       {calls:>10.2f} s  {n / calls:>14,.0f} rows/s")
    print(f"accepted rows                    {accepted:>14,}")
    print(f"peak resident memory, ingest     {stage_peak_mb:>10.0f} MiB")
    print(f"peak resident memory, all        {peak_mb:>10.0f} MiB")


if __name__ == "__main__":
    main()
