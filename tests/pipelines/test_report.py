"""The month's HTML report: figures from the reporting database, escaping of hostile names, the optional
campaign section, and the page in headless Chromium (every chart drawn, no console error, no request
leaving the file)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from groupscope.config import config_from_dict
from groupscope.reporting import db
from pipelines.report import ReportData, gather, report_path, write_report
from pipelines.report_render import esc, render_report
from pipelines.run import run_period
from tests.browser import CHARTS_JS, visit

HOSTILE = '<script>alert("x")</script> =HYPERLINK("http://evil.example","click") & 集团'
CHARTS = {"purity", "suspects_industry", "suspects_region", "potential", "market_share", "market_trend",
          "pyramid", "grid", "quarantine_reasons"}


@pytest.fixture(scope="module")
def two_months(faulty_operator, tmp_path_factory):
    """Both months of the faulty small operator run into one work dir (embedded database)."""
    landing, _ = faulty_operator
    work = tmp_path_factory.mktemp("report")
    relaxed = {"days_complete": "warning", "files_readable": "warning", "quarantine_share": "warning"}
    cfg = config_from_dict({"work_dir": str(work / "work"), "validation": {"gx_sample_rows": 3000, "severity": relaxed}})
    out = {p: run_period(cfg, landing, p) for p in ("2026-09", "2026-10")}
    return cfg, out


def _set_hostile_name(cfg) -> str:
    eng = db.make_engine(cfg)
    rs = cfg.reporting.schema_name
    with eng.begin() as c:
        gid = c.execute(sa.text(
            f"SELECT group_id FROM {rs}.fact_group_month WHERE period = '2026-10' ORDER BY suspect_members DESC LIMIT 1"
        )).scalar()
        c.execute(sa.text(f"UPDATE {rs}.dim_group SET group_name = :n WHERE group_id = :g"), {"n": HOSTILE, "g": gid})
    eng.dispose()
    return gid


def test_run_writes_the_report_and_prints_its_path(two_months):
    cfg, out = two_months
    path = report_path(cfg, "2026-10")
    assert out["2026-10"].splitlines()[-1] == f"report: {path}"
    html = path.read_text(encoding="utf-8")
    assert set(re.findall(r'data-chart="([a-z_]+)"', html)) == CHARTS
    assert "months loaded: 2026-09, 2026-10" in html
    assert "No campaign has results yet." in html  # the campaign view exists (migrations) and is empty
    assert "Most padded groups" in html and "Lowest purity" in html and html.count('<details class="am"') >= 2


def test_figures_match_the_database(two_months):
    cfg, _ = two_months
    d = gather(cfg, "2026-10")
    eng = db.make_engine(cfg)
    rs = cfg.reporting.schema_name
    with eng.connect() as c:
        groups, listed, suspects = c.execute(sa.text(
            f"SELECT count(*), sum(listed_members), sum(suspect_members) FROM {rs}.fact_group_month WHERE period = '2026-10'"
        )).one()
        read, acc, q = c.execute(sa.text(
            f"SELECT sum(rows_read), sum(accepted), sum(quarantined) FROM {rs}.fact_source_rows WHERE period = '2026-10'"
        )).one()
        wl = c.execute(sa.text(f"SELECT count(*) FROM {rs}.v_account_manager_worklist WHERE period = '2026-10'")).scalar()
        # a likely employee's detail names its member count in the right number (migration 0005)
        details = dict(c.execute(sa.text(
            f"SELECT members_contacted, min(detail) FROM {rs}.v_account_manager_worklist "
            "WHERE period = '2026-10' AND action <> 'verify suspected fake member' GROUP BY members_contacted"
        )).all())
        # with the default support floor no likely employee has a single member contact: the singular is
        # checked on one row set to 1 inside a transaction that is rolled back
        key = c.execute(sa.text(
            f"SELECT number_key FROM {rs}.fact_potential_member WHERE period = '2026-10' AND likely_employee LIMIT 1"
        )).scalar()
        c.execute(sa.text(f"UPDATE {rs}.fact_potential_member SET members_contacted = 1 "
                          "WHERE period = '2026-10' AND number_key = :k"), {"k": key})
        single = c.execute(sa.text(
            f"SELECT DISTINCT detail FROM {rs}.v_account_manager_worklist WHERE period = '2026-10' "
            "AND members_contacted = 1 AND action <> 'verify suspected fake member'"
        )).scalars().all()
        c.rollback()
    eng.dispose()
    assert (d.totals["groups"], d.totals["listed"], d.totals["suspects"]) == (groups, listed, suspects)
    assert len(d.purity) == groups and len(d.market_share) == groups
    assert sum(s["rows_read"] for s in d.sources) == read == acc + q
    assert q > 0 and sum(r["rows"] for r in d.quarantine_reasons) == q  # the faulty operator has quarantined rows
    assert sum(a["verify"] + a["register"] + a["win"] for a in d.account_managers) == wl
    # likely employees are in contact with at least employee_min_members members (the support floor)
    assert details and min(details) >= cfg.analytics.model.employee_min_members, details
    assert all(t == f"in contact with {n} member{'s' if n != 1 else ''}" for n, t in details.items()), details
    assert single == ["in contact with 1 member"], single
    assert [t["period"] for t in d.market_trend] == ["2026-09", "2026-10"]
    # the month's coefficients, global first; the HTML shows each scope
    with eng.connect() as c:
        scopes = c.execute(sa.text(f"SELECT scope, surveys FROM {rs}.fact_market_calibration WHERE period = '2026-10'")).all()
    assert d.calibration[0]["scope"] == "global" and sorted((r["scope"], r["surveys"]) for r in d.calibration) == sorted(scopes)
    html = render_report(d)
    assert "Correction coefficients" in html and all(f"<td>{esc(sc)}</td>" in html for sc, _ in scopes)
    assert sum(s["suspects"] for s in d.suspects_by_industry) == suspects == sum(s["suspects"] for s in d.suspects_by_region)
    assert d.padded_groups[0]["suspect_members"] == max(g["suspect_members"] for g in d.padded_groups)
    assert [g["purity"] for g in d.lowest_purity] == sorted(g["purity"] for g in d.lowest_purity)
    assert all(g["listed_members"] >= 10 for g in d.lowest_purity)
    calls = [c for a in d.account_managers for c in a["calls"]]
    assert calls and all(len(a["calls"]) <= 10 for a in d.account_managers)
    for a in d.account_managers:  # most likely first
        keys = [(-c["score"], -(c["members_contacted"] or 0)) for c in a["calls"]]
        assert keys == sorted(keys), a["id"]
    assert d.data_docs_href and d.data_docs_href.endswith("data_docs/local_site/index.html")
    assert (report_path(cfg, "2026-10").parent / d.data_docs_href).resolve().is_file()
    # the month's unreadable files: the accounting line counts them instead of saying "yes"
    d = gather(cfg, "2026-09")  # the faulty operator's first month holds its unreadable files
    lost = sum(s["not_read"] for s in d.sources)
    html = render_report(d)
    assert lost > 0 and f"no: {lost} file{'s' if lost > 1 else ''} unreadable, rows unknown" in html
    assert "whole file" in html


def test_hostile_group_name_is_escaped_and_campaigns_shown_when_present(two_months, tmp_path):
    cfg, _ = two_months
    _set_hostile_name(cfg)
    eng = db.make_engine(cfg)
    rs = cfg.reporting.schema_name
    from groupscope.reporting.views import CURRENT

    view = next(v for v in CURRENT if v.name == "v_campaign_evaluation")
    with eng.begin() as c:  # the view's rows stand in for campaigns evaluated by the campaign workflow
        c.execute(sa.text(view.drop_sql(rs)))
        c.execute(sa.text(f"CREATE TABLE {rs}.v_campaign_evaluation (campaign_id TEXT, campaign_name TEXT, period TEXT, "
                          f"level TEXT, level_key TEXT, converted BIGINT, uplift DOUBLE, other TEXT)"))
        c.execute(sa.text(f"INSERT INTO {rs}.v_campaign_evaluation VALUES ('C1', :n, '2026-10', 'campaign', NULL, 12, "
                          f"0.034, 'x'), ('C1', :n, '2026-10', 'account_manager', 'AM0001', 5, 0.02, 'x'), "
                          f"('C2', 'later', '2026-11', 'campaign', NULL, 1, 0.5, 'x')"), {"n": HOSTILE})
    eng.dispose()
    try:
        out = write_report(cfg, "2026-10", out=tmp_path / "r.html")
        html = out.read_text(encoding="utf-8")
    finally:
        eng = db.make_engine(cfg)
        with eng.begin() as c:
            c.execute(sa.text(f"DROP TABLE {rs}.v_campaign_evaluation"))
            c.execute(sa.text(view.create_sql(rs, "duckdb")))
        eng.dispose()
    assert "<script" not in html.lower()
    assert esc(HOSTILE) in html  # in the padded groups and in the campaign table, as text
    assert 'id="campaigns"' in html and "C1" in html and ">3.4%<" in html and "AM0001" in html
    text = re.sub(r'src="data:[^"]*"', "", html)  # without the charts' base64
    assert "later" not in text and ">C2<" not in text  # a campaign of a later month is not this month's


def test_render_of_an_empty_month_says_so():
    html = render_report(ReportData(period="2026-01", generated_at="now", database="duckdb:///x",
                                    totals={"groups": 0, "listed": 0, "suspects": 0, "onnet_unregistered": 0, "offnet": 0.0}))
    assert "<figure" not in html and "No purity of groups this month." in html
    assert 'id="campaigns"' not in html  # no campaign view: no section
    assert "no Data Docs were built" in html


def test_calibration_warnings_are_in_the_report():
    """What the run's summary warns about the coefficients is in the HTML too: an uncalibrated method and
    surveys left out as implausible; bands in size order after the global scope."""
    cal = [{"scope": "global", "surveys": 12, "surveys_excluded": 2, "status": "rule uncalibrated", "coefficient": 1.5,
            "loo_mae_pp": 4.0, "rule_coefficient": None, "rule_loo_mae_pp": None},
           {"scope": "size 1-3", "surveys": 9, "surveys_excluded": 1, "status": "calibrated", "coefficient": 1.25,
            "loo_mae_pp": 6.5, "rule_coefficient": 0.3, "rule_loo_mae_pp": 9.0}]
    html = render_report(ReportData(period="2026-10", generated_at="now", database="duckdb:///x", calibration=cal,
                                    totals={"groups": 0, "listed": 0, "suspects": 0, "onnet_unregistered": 0, "offnet": 0.0}))
    assert "Market share rule uncalibrated (12 surveys)" in html
    assert "2 survey(s) left out as implausible" in html
    assert "<td>1.50 (leave-one-out 4.0 pt)</td><td>uncalibrated</td>" in html
    assert html.index("<td>global</td>") < html.index("<td>size 1-3</td>")


def test_report_in_headless_chromium(two_months, tmp_path):
    cfg, _ = two_months
    _set_hostile_name(cfg)
    path = write_report(cfg, "2026-10")
    shot = tmp_path / "report.png"
    v = visit(path, CHARTS_JS, shot)
    charts = {c["name"]: c for c in v.result}
    assert set(charts) == CHARTS
    for name, c in charts.items():
        assert c["complete"] and c["natural"] > 100 and c["height"] > 100, (name, c)
    assert v.console_errors == []
    assert v.blocked == []  # nothing is fetched: the file is self-contained
    assert shot.stat().st_size > 50_000


def test_unknown_account_manager_is_an_error(two_months, capsys, tmp_path):
    from pipelines import cli

    cfg, _ = two_months
    argv = ["export", "worklist", "--period", "2026-10", "--work-dir", str(cfg.work_path), "--out"]
    assert cli.main([*argv, str(tmp_path / "x.csv"), "--account-manager", "AM9999"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("groupscope export: unknown account manager 'AM9999' in period 2026-10") and "\n" not in err
    assert not (tmp_path / "x.csv").exists()
    am = gather(cfg, "2026-10").account_managers[0]["id"]
    assert cli.main(["-q", *argv, str(tmp_path / "y.csv"), "--account-manager", am]) == 0


# ---- Data Docs offline ---------------------------------------------------------------------------------

DOCS_JS = """() => Array.from(document.querySelectorAll('table[id$="-body-table"]')).map(t => ({
  id: t.id, shown: t.querySelectorAll('tbody tr').length, data: JSON.stringify($(t).bootstrapTable('getData'))}))"""


def test_data_docs_index_lists_suites_and_runs_offline(two_months):
    from groupscope.contract import INPUT_TABLES
    from pipelines.datadocs import assets_dir
    from tests.conftest import in_ci

    if assets_dir() is None:
        msg = "Data Docs assets not installed (make installs them with npm ci in vendor/datadocs)"
        if in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    cfg, _ = two_months
    index = cfg.work_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    v = visit(index, DOCS_JS)
    assert v.blocked == [] and v.console_errors == []
    runs = next(t for t in v.result if '"run_time"' in t["data"])  # the validation runs tab
    suites = next(t for t in v.result if '"run_time"' not in t["data"] and '"expectation_suite_name"' in t["data"])
    for name in INPUT_TABLES:
        if name in ("campaign_feedback",):  # optional and absent in the generated landing zone
            continue
        assert f"groupscope.{name}" in runs["data"] and f"groupscope.{name}" in suites["data"], name
    assert runs["shown"] >= 5 and suites["shown"] >= 5
    assert runs["data"].count("groupscope.cdr") >= 2  # both months' runs


def test_rewrite_page_points_remote_assets_at_local_copies(tmp_path):
    from pipelines.datadocs import VENDOR, rewrite_page

    site = tmp_path / "site"
    page = (
        '<link rel="stylesheet" href="https://cdn.example/bootstrap/4.3.1/css/bootstrap.min.css"/>'
        '<script src="https://cdn.example/popper.js/1.12.9/umd/popper.min.js" integrity="sha384-x" '
        'crossorigin="anonymous"></script><script src="https://cdn.example/npm/vega@5"></script>'
        '<script src="https://cdn.example/unknown.js"></script><a href="https://example.org/">home</a>'
        '<img src="https://assets.example/logo-long.png?d=1&amp;id=2">'
    )
    new, n, missing = rewrite_page(page, site / "validations" / "x", site)
    assert n == 4 and missing == ["https://cdn.example/unknown.js"]
    assert f'href="../../{VENDOR}/bootstrap/dist/css/bootstrap.min.css"' in new
    assert f'<script src="../../{VENDOR}/popper.js/dist/umd/popper.min.js"></script>' in new
    assert f'src="../../{VENDOR}/vega/build/vega.min.js"' in new and 'src="../../static/images/logo-long.png"' in new
    assert 'href="https://example.org/"' in new  # links are left alone
    assert rewrite_page(new, site / "validations" / "x", site)[1] == 0  # idempotent


def test_without_assets_the_docs_are_left_as_built(tmp_path, monkeypatch, caplog):
    import pipelines.datadocs as dd

    monkeypatch.setattr(dd, "assets_dir", lambda: None)
    (tmp_path / "index.html").write_text('<script src="https://cdn.example/npm/vega@5"></script>', encoding="utf-8")
    r = dd.make_offline(tmp_path)
    assert r.pages == 0 and "vega@5" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_chart_text_from_the_data_is_escaped_inside_the_svg():
    import base64
    import warnings
    import xml.dom.minidom

    from pipelines.report_render import stacked_groups

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a one-bar chart lays out without complaint
        html = stacked_groups([{"group_name": HOSTILE, "group_id": "G1", "onnet": 3, "offnet": 4}], "potential", "t")
    svg = base64.b64decode(re.search(r'base64,([^"]+)', html).group(1)).decode("utf-8")
    xml.dom.minidom.parseString(svg)  # well-formed
    assert "<script" not in svg and "&lt;script&gt;" in svg
