"""Group analytics on a generated operator: quality against the ground truth, and the exports' contract."""

from __future__ import annotations

import csv
import re

import duckdb
import pytest
import sqlglot

from groupscope.config import config_from_dict
from groupscope.contract import OUTPUT_LISTS
from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams
from pipelines.analytics import build_group_analytics
from pipelines.evaluate import evaluate
from pipelines.export import export_list
from pipelines.run import run_period
from transforms import graph, market, membership, potential, scores
from transforms.sql import render

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("an")
    # the generator's default mix (a real operator's variety: field staff, data lines, messaging-app staff,
    # tiny groups, the national calendar, churn, noisy surveys); the sweep (benchmarks/sweep_quality.py,
    # docs/quality.md) measures each setting alone and the mix on several seeds
    generate(SynthParams(months=(PERIOD,), subscribers=9000, seed=12), root / "landing")
    cfg = config_from_dict({"work_dir": str(root / "work"), "validation": {"gx_sample_rows": 5000}})
    report = run_period(cfg, root / "landing", PERIOD)
    return root, cfg, report


def _at_size(bar: float, n: int, upper: bool = False, mae: bool = False) -> float:
    """The issue's bar widened by two standard errors of a measure over n units, so that a test on a small
    operator is not failed by its sample: a proportion's SE is sqrt(bar (1 - bar) / n); a mean absolute
    error's is 0.76 bar / sqrt(n) (absolute values of normal errors: sd = 0.76 x mean)."""
    se = 0.76 * bar / n ** 0.5 if mae else (bar * (1 - bar) / n) ** 0.5
    return bar + 2 * se if upper else bar - 2 * se


def test_quality_bars_on_generated_data(analysed):
    root, cfg, _ = analysed
    m = evaluate(cfg, root / "landing_truth", PERIOD)
    # hundreds of members and candidates: the bars as they are
    assert m["fake_precision"] >= 0.90 and m["fake_recall"] >= 0.90, m
    assert m["potential_score_precision"] >= 0.85 and m["potential_score_recall"] >= 0.80, m
    assert m["data_lines_members"] > 20 and m["data_lines_flagged"] <= 0.05, m
    assert m["messaging_members"] > 50 and m["messaging_flagged"] <= 0.05, m
    assert m["purity_mae_pp"] <= 5.0, m
    # tens of groups, prospects, tiny-group suspects: the bars less two standard errors at that size
    assert m["groups_ge_20"] >= 30, m
    assert m["market_share_staff_mae_pp"] <= _at_size(5.0, m["groups_ge_20"], upper=True, mae=True), m
    assert m["fake_tiny_precision"] >= _at_size(0.90, m["tiny_flagged"]), m
    assert m["prospect_precision"] >= _at_size(0.85, m["prospects"]), m
    assert m["prospect_recall"] >= _at_size(0.80, m["prospect_companies_visible"]), m
    # the score does what the fixed 10 % rule cannot
    assert m["potential_score_precision"] > m["potential_rule10_precision"]
    assert m["potential_score_recall"] > m["potential_rule10_recall"]
    assert m["market_share_staff_mae_pp"] < m["rule_market_share_mae_pp"]


def _read(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_exports_follow_the_contract(analysed, tmp_path):
    root, cfg, _ = analysed
    lists = {}
    for name in ("fake-members", "potential-members", "group-summary"):
        out = tmp_path / f"{name}.csv"
        n = export_list(cfg, name, PERIOD, out)
        rows = _read(out)
        assert n == len(rows) > 0
        assert list(rows[0])[: len(OUTPUT_LISTS[name].column_names)] == OUTPUT_LISTS[name].column_names
        lists[name] = rows
    thr = cfg.analytics.fake_threshold
    for r in lists["fake-members"]:
        s = float(r["fake_score"])
        assert 0 <= s <= 1
        # after the contract's columns: evidence and confidence; too little evidence is never flagged
        assert r["evidence"] in ("sufficient", "insufficient") and 0 <= float(r["confidence"]) <= 1
        assert r["is_suspect"] == ("true" if s >= thr and r["evidence"] == "sufficient" else "false")
        assert "0 of 0" not in r["reasons"]
        assert r["reasons"]
    keys = [(r["group_id"], r["msisdn"]) for r in lists["fake-members"]]
    assert len(keys) == len(set(keys))
    et = cfg.analytics.employee_score_threshold
    for r in lists["potential-members"]:
        s, share = float(r["score"]), float(r["member_share"])
        assert len(r["msisdn"]) == 11 and r["msisdn"].startswith("1")
        assert (r["msisdn"], r["group_id"]) and (r["group_id"], r["msisdn"]) not in set(keys)
        assert r["likely_employee"] == ("true" if s >= et - 5e-5 else "false") or abs(s - et) < 1e-4
        assert share > cfg.analytics.potential_member_share or r["likely_employee"] == "true"
        assert r["on_net"] in ("true", "false")
        assert (r["carrier"] == cfg.home_carrier) == (r["on_net"] == "true"), r
    extra = [c.name for c in OUTPUT_LISTS["group-summary"].extra]
    assert list(lists["group-summary"][0])[len(OUTPUT_LISTS["group-summary"].columns):][: len(extra)] == extra
    for r in lists["group-summary"]:
        listed, sus, real = int(r["listed_members"]), int(r["suspect_members"]), int(r["real_members"])
        assert real == listed - sus
        assert abs(float(r["purity"]) - real / listed) < 1e-3
        # the contract's formula over the exported columns, on every row (both shares rounded to 4 places,
        # est_offnet_employees too: at most 1e-4 apart); the staff share puts real_members - data_lines
        on, off = real + int(r["est_onnet_unregistered"]), float(r["est_offnet_employees"])
        staff = on - int(r["data_lines"])
        for col, n in (("market_share", on), ("market_share_staff", staff)):
            if n + off == 0:
                assert r[col] == "", r
            else:
                assert abs(float(r[col]) - n / (n + off)) <= 1e-4 + 1e-9, (col, r)
                assert 0 <= float(r[col]) <= 1


def test_prospect_groups_export_lists_every_number_of_every_prospect(analysed, tmp_path):
    _, cfg, _ = analysed
    out = tmp_path / "prospects.csv"
    n = export_list(cfg, "prospect-groups", PERIOD, out)
    rows = _read(out)
    assert n == len(rows) > 0
    by_prospect: dict[str, list[dict]] = {}
    for r in rows:
        by_prospect.setdefault(r["prospect_id"], []).append(r)
        assert len(r["msisdn"]) == 11 and (r["carrier"] == cfg.home_carrier) == (r["on_net"] == "true"), r
    sizes = [int(v[0]["size"]) for v in by_prospect.values()]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= cfg.analytics.prospect_min_size
    for pid, members in by_prospect.items():
        size, onnet = int(members[0]["size"]), int(members[0]["onnet"])
        assert len(members) == size and sum(r["on_net"] == "true" for r in members) == onnet, pid
        mix = dict(part.split(":") for part in members[0]["carrier_mix"].split(";"))
        assert sum(map(int, mix.values())) == size and int(mix.get(cfg.home_carrier, 0)) == onnet, pid
        assert int(members[0]["teams"]) >= 1 and members[0]["region"]


def test_dormant_members_are_flagged_with_a_specific_reason(analysed):
    root, cfg, _ = analysed
    truth = {(r["group_id"], r["msisdn"]): r for r in _read(root / "landing_truth" / f"month={PERIOD}" / "members.csv")}
    out = root / "fm.csv"
    export_list(cfg, "fake-members", PERIOD, out)
    dormant = [r for r in _read(out) if truth[(r["group_id"], r["msisdn"])]["fake_kind"] == "dormant"]
    assert dormant
    for r in dormant:
        assert r["is_suspect"] == "true" and r["reasons"].startswith("dormant")
    relative = [r for r in _read(out) if truth[(r["group_id"], r["msisdn"])]["fake_kind"] == "relative" and r["is_suspect"] == "true"]
    assert relative and all("contacts" in r["reasons"] or "working hours" in r["reasons"] for r in relative)


def test_report_and_calibration(analysed):
    root, cfg, report = analysed
    assert "suspected fake" in report and "correction coefficient: global (n=" in report
    assert re.search(r"prospect groups: [1-9][\d,]* calling communities", report), report
    con = duckdb.connect()
    cal = con.execute(
        f"SELECT scope, surveys, coefficient FROM read_parquet('{cfg.work_path}/derived/market_calibration/period={PERIOD}/*.parquet')"
    ).fetchall()
    g = [c for c in cal if c[0] == "global"][0]
    assert g[1] > 5 and 0.5 < g[2] < 5


def test_rerun_gives_identical_results(analysed):
    _, cfg, _ = analysed
    con = duckdb.connect()
    first = build_group_analytics(cfg, PERIOD)
    snap = {k: con.execute(f"SELECT * FROM read_parquet('{p}') ORDER BY ALL").fetchall() for k, p in first.items()}
    again = build_group_analytics(cfg, PERIOD)
    assert {k: con.execute(f"SELECT * FROM read_parquet('{p}') ORDER BY ALL").fetchall() for k, p in again.items()} == snap


def test_analytics_sql_transpiles_to_spark():
    from groupscope.config import ModelConfig

    mc = ModelConfig()
    queries = [
        graph.events_sql("calls", "work_calendar"),
        graph.events_sql("calls", "work_calendar", nodes_only=False),
        graph.call_graph_sql("events"),
        graph.presence_sql("events"),
        membership.member_features_sql("members", "adj", "presence", "profile", "activity", "billing", 0.5, 2, "2026-10-31"),
        membership.colleague_ties_sql("members", "adj", "employees", 0.5, 2),
        potential.candidate_features_sql("members", "adj", "presence", "numbers"),
        # the stage's own forms (pipelines/analytics.py): shared per-group parts, one pass per relation
        potential.candidate_features_sql("members", "member_adj", "presence", "numbers", None, "totals", "group_cells", "member_ties",
                                         "member_keys"),
        potential.member_keys_sql("members"),
        potential.member_ties_sql("member_keys", "member_adj"),
        potential.numbers_sql("calls", "CMCC", "sides"),
        graph.number_sides_sql("calls", "CMCC"),
        graph.activity_sql("calls"),
        graph.call_graph_sql("events", bins=True),
        graph.adjacency_sql("graph", "member_numbers", graph.BIN_COLUMNS),
        graph.adjacency_profile_sql("member_adj"),
        graph.presence_sql("events", "member_numbers"),
        scores.fake_scores_sql("features", "refs", "colleagues", mc, 0.5),
        scores.employee_scores_sql("candidates", "refs", mc),
        scores.group_reference_sql("features", "groups", mc),
        market.group_counts_sql("groups", "fake", "employee", 0.5, 0.65, 0.1, [3, 9]),
        market.calibration_sql("counts", "surveys", 8, [3, 9]),
        market.market_share_sql("counts", "calibration", "previous"),
    ]
    for q in queries:
        sqlglot.parse_one(render(q, "spark"), read="spark")


def test_value_scores_and_tiers_for_every_subscriber_and_group(analysed, tmp_path):
    root, cfg, report = analysed
    assert "group value tiers" in report
    con = duckdb.connect()
    w = cfg.work_path / "derived"
    subs = con.execute(
        f"SELECT count(*) FROM read_parquet('{cfg.work_path}/staged/subscribers/month={PERIOD}/*.parquet') WHERE status <> 'closed'"
    ).fetchone()[0]
    labels = cfg.value.pyramid_labels
    for name, n_expected in (("subscriber_value", subs), ("group_value", None)):
        rows = con.execute(
            f"SELECT value_score, value_tier, value_grid, top_indicator FROM read_parquet('{w}/{name}/period={PERIOD}/*.parquet')"
        ).fetchall()
        if n_expected is not None:
            assert len(rows) == n_expected
        assert all(0 <= r[0] <= 100 and r[1] in labels and r[3] for r in rows)
        assert {r[2] for r in rows} == {"重要 important", "中等 medium", "大 big", "小 small"}
        counts = [sum(r[1] == lab for r in rows) for lab in labels]
        for c, share in zip(counts, cfg.value.pyramid):
            assert abs(c - share * len(rows)) <= 1.5
    clv = con.execute(f"SELECT min(clv), max(clv), count(*) FILTER (WHERE clv IS NULL) FROM read_parquet('{w}/subscriber_value/period={PERIOD}/*.parquet')").fetchone()
    assert clv[0] >= 0 and clv[1] > 0 and clv[2] == 0
    out = tmp_path / "gs.csv"
    export_list(cfg, "group-summary", PERIOD, out)
    assert all(r["value_score"] and r["value_tier"] in labels for r in _read(out))


def test_value_stage_without_the_analytics_usage_tables_gives_the_same_values(analysed, tmp_path):
    """A work folder whose group analytics wrote no number table or number activity (an older version's):
    the value stage computes both from the calls, with the same SQL, and gives the same values."""
    import shutil

    from pipelines.storage import derived_path
    from pipelines.value import build_value

    _, cfg, _ = analysed
    work = tmp_path / "work"
    shutil.copytree(cfg.work_path, work, ignore=shutil.ignore_patterns("tmp", "gx", "*.duckdb*"))
    for name in ("number_activity", "numbers"):
        shutil.rmtree(derived_path(work, name, PERIOD).parent.parent)
    again = config_from_dict({"work_dir": str(work)})
    out = build_value(again, PERIOD)
    con = duckdb.connect()
    for name in ("subscriber_value", "group_value"):
        before = con.execute(f"SELECT * FROM read_parquet('{derived_path(cfg.work_path, name, PERIOD)}') ORDER BY ALL").fetchall()
        after = con.execute(f"SELECT * FROM read_parquet('{out[name]}') ORDER BY ALL").fetchall()
        assert len(before) > 100 and after == before, name


def test_inconsistent_ahp_config_stops_the_run(analysed):
    from groupscope.errors import StopRun

    root, cfg, _ = analysed
    bad = cfg.model_dump()
    bad["value"]["subscriber"]["indicators"]["current"]["matrix"] = [
        [1, 9, "1/9", 1], ["1/9", 1, 9, 1], [9, "1/9", 1, 1], [1, 1, 1, 1]
    ]
    with pytest.raises(StopRun, match=r"AHP matrix 'value.subscriber.indicators.current' is inconsistent: CR = \d+\.\d{3}"):
        run_period(config_from_dict(bad), root / "landing", PERIOD)


def test_a_survey_delivered_again_in_a_later_month_replaces_the_earlier_delivery(tmp_path):
    """The same group and day in two months' folders (a correction re-delivered): the later delivery is the
    survey; other days of the group stay (the calibration picks among them)."""
    from pipelines.analytics import register_surveys
    from pipelines.engine import DuckDBEngine

    con = duckdb.connect()
    for month, rows in (("2026-09", [("G1", 550, "2026-09-20"), ("G2", 7, "2026-09-01")]), ("2026-10", [("G1", 55, "2026-09-20")])):
        d = tmp_path / "staged" / "surveys" / f"month={month}"
        d.mkdir(parents=True)
        values = ", ".join(f"('{g}', {h}, DATE '{day}', 'surveys/month={month}/surveys.csv', {i + 1})" for i, (g, h, day) in enumerate(rows))
        con.execute(f"COPY (SELECT * FROM (VALUES {values}) AS t(group_id, surveyed_headcount, surveyed_at, __file, __row)) "
                    f"TO '{d}/surveys-x.parquet' (FORMAT parquet)")
    eng = DuckDBEngine(con, tmp_path / "scratch")
    register_surveys(eng, tmp_path, PERIOD, 12)
    got = con.execute("SELECT group_id, surveyed_headcount, CAST(surveyed_at AS VARCHAR) FROM surveys ORDER BY 1").fetchall()
    assert got == [("G1", 55, "2026-09-20"), ("G2", 7, "2026-09-01")]
