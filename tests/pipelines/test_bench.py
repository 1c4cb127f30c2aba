"""The benchmark's report: the README section is rendered from the JSON alone, and replaces itself."""

from __future__ import annotations

import time

from pipelines.bench import README_END, README_START, RssSampler, render_markdown, text_report, update_readme

RESULT = {
    "command": "groupscope bench --subscribers 120000",
    "machine": {"cores": 2, "memory_gib": 23.4, "python": "3.11", "load_average_at_end": 3.0},
    "operator": {"subscribers": 120000, "seed": 1, "cdr_format": "parquet", "period": "2026-10"},
    "cdr_rows": 1_000_000,
    "engine": "duckdb",
    "duckdb_memory_limit": "2GB",
    "month": {"seconds": 10.0, "wall_seconds_with_start": 11.0, "cdr_rows_per_s": 100_000, "peak_rss_mib": 900,
              "stages": [{"stage": "ingest + validate", "seconds": 4.0, "cdr_rows_per_s": 250_000, "peak_rss_mib": 700},
                         {"stage": "calls (normalise, MOC/MTC)", "seconds": 6.0, "cdr_rows_per_s": 166_667, "peak_rss_mib": 900}]},
    "steps": {"leiden (driver)": 0.5, "leiden nodes": 1200, "leiden ties": 3400},
    "edge_build": {"fastest_peer": "polars", "peers": {
        "pipeline": {"seconds": 1.2, "pairs": 500, "peak_rss_mib": 300, "x_fastest_peer": 1.2},
        "polars": {"seconds": 1.0, "pairs": 500, "peak_rss_mib": 400, "x_fastest_peer": 1.0},
        "pandas": {"seconds": 5.0, "pairs": 500, "peak_rss_mib": 900, "x_fastest_peer": 5.0}}},
}


def test_readme_section_from_json_replaces_itself(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Performance\n\n{README_START}\nold figures\n{README_END}\n\nafter\n", encoding="utf-8")
    update_readme(readme, RESULT)
    text = readme.read_text(encoding="utf-8")
    assert "old figures" not in text and text.endswith("\n\nafter\n")
    assert "`groupscope bench --subscribers 120000`" in text
    assert "| **month** | **10.0** | **100,000** | **900** |" in text
    assert "| Polars lazy | 1.00 | 500 | 400 | 1.00 |" in text
    assert "Leiden on the driver: 1,200 nodes, 3,400 ties" in text
    update_readme(readme, RESULT)  # idempotent
    assert readme.read_text(encoding="utf-8") == text
    assert text.count(README_START) == 1
    assert render_markdown(RESULT) in text
    assert "1.20x the fastest peer (polars)" in text_report(RESULT)


def test_rss_sampler_sees_an_allocation():
    with RssSampler(every=0.01) as s:
        block = bytearray(64 * 2**20)
        block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
        time.sleep(0.05)
    assert s.peak >= 64 * 2**20


def test_a_failed_peer_is_reported_not_fatal():
    import copy

    r = copy.deepcopy(RESULT)
    r["edge_build"]["peers"]["pandas"] = {"error": "edges pandas failed (exit -9): killed by signal 9"}
    assert "| plain pandas | failed: edges pandas failed (exit -9): killed by signal 9 | | | |" in render_markdown(r)
    assert "pandas    edges pandas failed" in text_report(r)


def test_targets_of_two_runs():
    import copy

    from pipelines.bench import targets

    big = copy.deepcopy(RESULT)
    big["cdr_rows"], big["month"]["seconds"], big["month"]["peak_rss_mib"] = 10_000_000, 130.0, 7000
    del big["edge_build"]["peers"]["pandas"]
    got = {name.split(" ")[0] + ("" if "edge" not in name else name.split(" ")[3]): (value, ok) for name, value, ok in targets([big, RESULT])}
    assert got["month"] == ("130.0 s", True)
    assert got["peak"][1] is False and "7,000 MiB at 10,000,000 rows" in got["peak"][0]
    assert got["cost"] == ("1.30x", False)  # 13 us per CDR against 10 us
    assert got["edge1,000,000"] == ("1.20x polars", True)
    assert got["edge10,000,000"] == ("1.20x polars (pandas not run)", True)
    md = render_markdown([RESULT, big])
    assert md.count(README_START) == 1 and "| cost per CDR at 10,000,000 rows within 25 % of 1,000,000 | 1.30x | **no** |" in md


def test_the_pipeline_edge_build_in_partitions_equals_it_at_once(tmp_path):
    # staged CDRs of a few numbers; with 20 rows per partition the edge build shuffles once into hash
    # partitions and aggregates each: the same pairs as at once
    import random
    from datetime import datetime, timedelta

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.bench import _do_edges

    rnd = random.Random(3)
    nums = [f"138{i:08d}" for i in range(30)]
    rows = []
    for i in range(600):
        a, b = rnd.sample(nums, 2)
        rows.append((f"r{i}", rnd.choice(["MOC", "MTC", "SMS_MO"]), a, b,
                     datetime(2026, 10, 1) + timedelta(minutes=rnd.randrange(60 * 24 * 30)), rnd.randrange(300), "c1"))
    cols = list(zip(*rows))
    names = ["record_id", "record_type", "served_msisdn", "other_party", "start_time", "duration_s", "cell_id"]
    for k in range(3):  # three staged files, as the days of a month are
        d = tmp_path / "work" / "staged" / "cdr" / f"dt=2026-10-0{k + 1}"
        d.mkdir(parents=True)
        pq.write_table(pa.table({n: list(c[k::3]) for n, c in zip(names, cols)}), d / "x.parquet")
    (tmp_path / "parts.yaml").write_text("duckdb_partition_rows: 20\n")
    at_once = _do_edges("pipeline", str(tmp_path / "work"), "2026-10", "")
    parts = _do_edges("pipeline", str(tmp_path / "work"), "2026-10", str(tmp_path / "parts.yaml"))
    assert at_once["partitions"] == 1 and parts["partitions"] == 32
    expected = len({tuple(sorted((r[2], r[3]))) for r in rows})
    assert at_once["pairs"] == parts["pairs"] == expected
