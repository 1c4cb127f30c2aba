"""A whole win-over campaign cycle from the command line on a generated three-month operator: create and
select in month 1, feedback in month 2, evaluation with the month-3 bills; every step's bad input; the
same cycle on the real PostgreSQL gives the same rows."""

from __future__ import annotations

import contextlib
import csv
import io
import re

import pytest
import sqlalchemy as sa

from groupscope.config import load_config
from groupscope.reporting import db, models
from pipelines.cli import main
from pipelines.export import spreadsheet_safe
from tests.conftest import CAMPAIGN_MONTHS, copy_campaign_state
from transforms.privacy import number_key

M1, M2, M3 = CAMPAIGN_MONTHS
CID = "CMP-TEST"


def gs(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def cycle(campaign_month1, tmp_path_factory):
    st = copy_campaign_state(campaign_month1, tmp_path_factory.mktemp("cycle"))
    c = ["--config", st["config"]]
    out: dict = {"state": st, "errors": {}}
    # bad input at every step: one line, exit 2
    out["errors"]["no results"] = gs("campaign", "create", "--name", "x", "--period", M2, "--offer-cost", 100,
                                     "--budget", 1000, "--capacity", 5, *c)
    out["errors"]["criterion"] = gs("campaign", "create", "--name", "x", "--period", M1, "--criterion", "colour=red",
                                    "--offer-cost", 100, "--budget", 1000, "--capacity", 5, *c)
    out["errors"]["industry"] = gs("campaign", "create", "--name", "x", "--period", M1, "--criterion", "industry=mining",
                                   "--offer-cost", 100, "--budget", 1000, "--capacity", 5, *c)
    out["errors"]["budget"] = gs("campaign", "create", "--name", "x", "--period", M1, "--offer-cost", 100,
                                 "--budget", 50, "--capacity", 5, *c)
    out["errors"]["unknown"] = gs("campaign", "select", "CMP-NOPE", *c)
    rc, cid_early, _ = gs("campaign", "create", "--name", "early", "--period", M1, "--offer-cost", 100, "--budget", 500,
                          "--capacity", 5, "--id", "CMP-EARLY", "--criterion", "exclude_recent_months=0", *c)
    out["errors"]["assign before select"] = gs("campaign", "assign", "CMP-EARLY", *c)
    # the campaign: every off-net potential member of month 1 within a large budget, 20 % held out
    out["create"] = gs("campaign", "create", "--name", "Q4 win-back 策反", "--period", M1, "--criterion", "on_net=false",
                       "--offer-cost", 100, "--budget", 100000, "--capacity", 1000, "--holdout", 0.2, "--seed", 5,
                       "--id", CID, *c)
    out["select"] = gs("campaign", "select", CID, *c)
    out["targets_first"] = _targets(st)
    out["select_again"] = gs("campaign", "select", CID, *c)
    out["targets_again"] = _targets(st)
    out["assign"] = gs("campaign", "assign", CID, "--out", st["root"] / "worklists", *c)
    out["errors"]["evaluate early"] = gs("campaign", "evaluate", CID, *c)
    out["show"] = gs("campaign", "show", CID, "--targets-out", st["root"] / "targets.csv", *c)
    # the field answers (simulated from the truth), plus bad rows of every kind in a second file
    out["simulate"] = gs("generate-feedback", "--landing", st["landing"], "--targets", st["root"] / "targets.csv",
                         "--months", f"{M2},{M3}", "--seed", 3)
    targets = _rows(st["root"] / "targets.csv")
    hold = next(t for t in targets if t["holdout"] == "true")
    app = [t for t in targets if t["holdout"] == "false"]
    bad = st["landing"] / "campaign_feedback" / f"month={M2}" / "bad.csv"
    with open(bad, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["campaign_id", "msisdn", "account_manager_id", "outcome", "contacted_at", "cost_yuan"])
        w.writerow(["CMP-GHOST", app[0]["msisdn"], "AM0000", "converted", f"{M2}-03", "100.00"])
        w.writerow([CID, "13900000000", "AM0000", "declined", f"{M2}-03", "10.00"])
        w.writerow([CID, hold["msisdn"], "AM0000", "converted", f"{M2}-04", "100.00"])
        w.writerow([CID, app[1]["msisdn"], "AM0000", "maybe", f"{M2}-04", "10.00"])
    out["bad_feedback_file"] = bad
    for period in (M2, M3):
        assert gs("run", "--landing", st["landing"], "--period", period, *c)[0] == 0, period
    out["feedback"] = gs("campaign", "feedback", "--landing", st["landing"], "--period", M2, *c)
    out["feedback_rows"] = _count(st, "campaign_feedback")
    out["feedback_again"] = gs("campaign", "feedback", "--landing", st["landing"], "--period", M2, *c)
    out["feedback_rows_again"] = _count(st, "campaign_feedback")
    out["evaluate"] = gs("campaign", "evaluate", CID, *c)
    out["list"] = gs("campaign", "list", *c)
    out["show_after"] = gs("campaign", "show", CID, *c)
    assert gs("export", "quarantine", "--period", M2, "--out", st["root"] / "quarantine.csv", *c)[0] == 0
    return out


def _cfg(st):
    return load_config(st["config"])


def _engine(st, url=None):
    cfg = _cfg(st)
    return cfg, db.make_engine(cfg, url)


def _targets(st, url=None) -> list[tuple]:
    cfg, eng = _engine(st, url)
    t = models.campaign_target
    with eng.connect() as c:
        rows = c.execute(sa.select(t.c.number_key, t.c.rank, t.c.holdout, t.c.expected_value)
                         .where(t.c.campaign_id == CID).order_by(t.c.rank)).fetchall()
    eng.dispose()
    return [tuple(r) for r in rows]


def _count(st, table) -> int:
    cfg, eng = _engine(st)
    with eng.connect() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(getattr(models, table))).scalar()
    eng.dispose()
    return n


def test_every_steps_bad_input_is_one_clear_line_exit_2(cycle):
    e = cycle["errors"]
    for name, (rc, out, err) in e.items():
        assert rc == 2, (name, out, err)
        assert err.count("\n") == 1 and err.startswith("groupscope campaign: "), (name, err)
    assert "no potential-member results" in e["no results"][2]
    assert "unknown criterion 'colour'" in e["criterion"][2]
    assert "criterion industry: 'mining' not found" in e["industry"][2]
    assert "does not pay for one target" in e["budget"][2]
    assert "unknown campaign 'CMP-NOPE'" in e["unknown"][2]
    assert "run groupscope campaign select first" in e["assign before select"][2]
    assert "no month after 2026-09 is loaded" in e["evaluate early"][2]


def test_selection_is_ranked_reproducible_within_budget_and_records_the_cutoff(cycle):
    assert cycle["create"][0] == 0 and cycle["select"][0] == 0, cycle["select"]
    first, again = cycle["targets_first"], cycle["targets_again"]
    assert first == again and len(first) > 100  # same inputs and seed: the same targets and hold-out
    ev = [r[3] for r in first]
    assert ev == sorted(ev, reverse=True)  # ranked by expected value
    n_hold = sum(r[2] for r in first)
    assert abs(n_hold - 0.2 * len(first)) <= 1
    assert "cut-off at rank" in cycle["select"][1] and "by candidates" in cycle["select"][1]
    st = cycle["state"]
    cfg, eng = _engine(st)
    with eng.connect() as c:
        camp = c.execute(sa.select(models.campaign).where(models.campaign.c.campaign_id == CID)).mappings().one()
        onnet = c.execute(sa.select(sa.func.count()).select_from(models.campaign_target)
                          .where(models.campaign_target.c.campaign_id == CID, models.campaign_target.c.on_net)).scalar()
    eng.dispose()
    assert camp["cutoff_rank"] == len(first) and camp["cutoff_reason"] == "candidates" and onnet == 0
    # a second campaign in the same month leaves out the numbers this one targets (recent campaign)
    c = ["--config", st["config"]]
    rc, out, err = gs("campaign", "create", "--name", "again", "--period", M1, "--criterion", "on_net=false",
                      "--offer-cost", 100, "--budget", 100000, "--capacity", 1000, "--id", "CMP-AGAIN", *c)
    assert rc == 0, err
    rc, out, err = gs("campaign", "select", "CMP-AGAIN", *c)
    assert rc == 2 and err == (f"groupscope campaign: no potential member of {M1} meets the criteria of CMP-AGAIN "
                               f"({len(first)} numbers of recent campaigns left out)\n"), err
    rc, out, err = gs("campaign", "feedback", "--landing", st["landing"], "--period", "2026-12", *c)
    assert rc == 2 and err.startswith("groupscope campaign: missing partition: campaign_feedback/month=2026-12"), err


def test_worklists_one_per_account_manager_clear_numbers_spreadsheet_safe(cycle):
    rc, out, err = cycle["assign"]
    assert rc == 0, err
    files = sorted((cycle["state"]["root"] / "worklists").glob("worklist-*.csv"))
    assert files
    seen = []
    for f in files:
        rows = _rows(f)
        assert rows and len(rows) <= 1000
        assert {r["account_manager_id"] for r in rows} == {f.stem.removeprefix("worklist-")}
        for r in rows:
            assert re.fullmatch(r"1[0-9]{10}", r["msisdn"]), r
            assert not r["group_name"].startswith(("=", "+", "-", "@"))
        ranks = [int(r["rank"]) for r in rows]
        assert ranks == sorted(ranks)
        seen += [r["msisdn"] for r in rows]
    targets = _rows(cycle["state"]["root"] / "targets.csv")
    approached = {t["msisdn"] for t in targets if t["holdout"] == "false"}
    assert sorted(seen) == sorted(approached)  # every approached target once, no hold-out
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)" and spreadsheet_safe("-1") == "'-1"
    assert spreadsheet_safe("广州") == "广州" and spreadsheet_safe(-1.5) == -1.5


def test_feedback_is_checked_quarantined_with_reasons_and_never_doubles(cycle):
    rc, out, err = cycle["feedback"]
    assert rc == 0, err
    approached = sum(1 for t in _rows(cycle["state"]["root"] / "targets.csv") if t["holdout"] == "false")
    assert cycle["feedback_rows"] == approached  # every approached target answered once
    assert "3 by the campaign check" in out and "1 by the contract checks" in out, out
    assert cycle["feedback_again"][0] == 0 and cycle["feedback_rows_again"] == cycle["feedback_rows"]
    q = [r for r in _rows(cycle["state"]["root"] / "quarantine.csv") if r["source"] == "campaign_feedback"]
    reasons = {r["reason"] for r in q}
    assert "campaign_id not a known campaign" in reasons
    assert f"msisdn not a target of campaign {CID}" in reasons
    assert f"msisdn is a hold-out target of campaign {CID} (not to be approached)" in reasons
    assert any("outcome" in r["column"] for r in q)  # the contract check of the same delivery
    assert all(r["file"] == f"campaign_feedback/month={M2}/bad.csv" for r in q)
    # a corrected re-delivery in the next month replaces the row, never adds one
    st = cycle["state"]
    target = next(t for t in _rows(st["root"] / "targets.csv") if t["holdout"] == "false")
    fix = st["landing"] / "campaign_feedback" / f"month={M3}" / "fix.csv"
    fix.parent.mkdir(parents=True, exist_ok=True)
    fix.write_text("campaign_id,msisdn,account_manager_id,outcome,contacted_at,cost_yuan\n"
                   f"{CID},{target['msisdn']},{target['account_manager_id']},pending,{M3}-02,0.00\n", encoding="utf-8")
    try:
        rc, out, err = gs("campaign", "feedback", "--landing", st["landing"], "--period", M3, "--config", st["config"])
        assert rc == 0, err
        assert _count(st, "campaign_feedback") == cycle["feedback_rows"]
        cfg, eng = _engine(st)
        key = (cfg.work_path / "secrets" / "pseudonym.key").read_text().strip().encode()
        f = models.campaign_feedback
        with eng.connect() as c:
            row = c.execute(sa.select(f.c.outcome, f.c.feedback_period).where(
                f.c.campaign_id == CID, f.c.number_key == number_key(key, target["msisdn"]))).one()
        eng.dispose()
        assert tuple(row) == ("pending", M3)
    finally:
        fix.unlink()
        gs("campaign", "feedback", "--landing", st["landing"], "--period", M3, "--config", st["config"])
        gs("campaign", "feedback", "--landing", st["landing"], "--period", M2, "--config", st["config"])
        gs("campaign", "evaluate", CID, "--config", st["config"])


def test_evaluation_real_employees_convert_more_from_the_bills(cycle):
    rc, out, err = cycle["evaluate"]
    assert rc == 0, err
    assert f"bills through {M3}" in out
    st = cycle["state"]
    cfg, eng = _engine(st)
    rs = cfg.reporting.schema_name
    with eng.connect() as c:
        ev = {(r.level, r.level_key): r for r in c.execute(sa.text(f'SELECT * FROM "{rs}".v_campaign_evaluation WHERE campaign_id = :c'),
                                                           {"c": CID})}
        targets = c.execute(sa.select(models.campaign_target.c.number_key, models.campaign_target.c.holdout,
                                      models.campaign_target.c.group_id)
                            .where(models.campaign_target.c.campaign_id == CID)).fetchall()
        v = models.fact_subscriber_value
        billed = set(c.execute(sa.select(v.c.number_key).where(v.c.period > M1)).scalars())
    eng.dispose()
    allrow = ev[("campaign", "all")]
    assert allrow.evaluated_through == M3
    assert allrow.converted > 0 and float(allrow.revenue) > 0 and float(allrow.cost) > 0 and allrow.roi is not None
    assert allrow.uplift > 0.1  # approached targets come over far more often than the hold-out
    assert {k[0] for k in ev} == {"campaign", "account_manager", "tranche", "employee_score"}
    assert sum(1 for k in ev if k[0] == "tranche") == 5
    assert sum(r.targets for k, r in ev.items() if k[0] == "account_manager") == allrow.targets
    likely, other = ev[("employee_score", "likely employee")], ev[("employee_score", "other")]
    assert likely.targets > 20 and other.targets > 20
    assert likely.conversion_rate > other.conversion_rate  # the field check of the employee score
    # the truth: real employees of the target's group, won (billed in months 2-3) more often than the others
    key = (cfg.work_path / "secrets" / "pseudonym.key").read_text().strip().encode()
    emp = {(r["group_id"], number_key(key, r["msisdn"]))
           for r in _rows(st["truth"] / f"month={M1}" / "employees.csv") if r["group_id"]}
    won = {True: [0, 0], False: [0, 0]}
    for nk, hold, gid in targets:
        if not hold:
            w = won[(gid, nk) in emp]
            w[0] += 1
            w[1] += nk in billed
    rate = {k: b / max(n, 1) for k, (n, b) in won.items()}
    assert won[True][0] > 20 and won[False][0] > 20, won
    assert rate[True] > rate[False] + 0.15, rate
    assert CID in cycle["list"][1] and "evaluated" in cycle["list"][1]
    assert "evaluation through" in cycle["show_after"][1]
    # the month reports of the campaign's month and later were written again: they show the results now,
    # rates as the command line prints them, under readable headings
    from pipelines.report import report_path

    for period in (M2, M3):
        assert f"report updated: {report_path(cfg, period)}" in out
    html = report_path(cfg, M3).read_text(encoding="utf-8")
    assert "No campaign has results yet" not in html and CID in html
    assert f">{allrow.conversion_rate:.1%}<" in html and f">{allrow.uplift:.1%}<" in html
    assert ">uplift over hold-out<" in html and ">conversion_rate<" not in html


@pytest.mark.postgres
def test_the_same_cycle_on_postgres_gives_the_same_rows(cycle, pg_url, pg_schema, monkeypatch):
    """The months' results and the campaign steps loaded into the real PostgreSQL: the same targets,
    assignment, feedback and evaluation as on the embedded database."""
    from groupscope.config import config_from_dict
    from pipelines import campaigns as pc
    from pipelines.run import load_results

    st = cycle["state"]
    emb = _cfg(st)
    monkeypatch.setenv(emb.reporting.pseudonym_key_env, (emb.work_path / "secrets" / "pseudonym.key").read_text().strip())
    d = emb.model_dump()
    d["reporting"].update(schema_name=pg_schema, restricted_schema=f"{pg_schema}_r", bi_role=f"{pg_schema}_bi",
                          am_role=f"{pg_schema}_am")
    cfg = config_from_dict(d)
    try:
        for p in CAMPAIGN_MONTHS:
            load_results(cfg, p, pg_url)
        cid = pc.create_campaign(cfg, "Q4 win-back 策反", M1, ["on_net=false"], 100, 100000, 1000, 0.2, 5, CID, pg_url)
        pc.select_campaign(cfg, cid, pg_url)
        pc.assign_campaign(cfg, cid, st["root"] / "pg-worklists", pg_url)
        r = pc.feedback_campaigns(cfg, st["landing"], M2, pg_url)
        assert r["quarantined_references"] == 3
        pc.evaluate_campaign(cfg, cid, url=pg_url)
        pg = db.make_engine(cfg, pg_url)
        em = db.make_engine(emb)
        for t in (models.campaign_target, models.campaign_feedback, models.campaign_evaluation):
            cols = [c for c in t.c if c.name not in ("file",)]
            with pg.connect() as a, em.connect() as b:
                got = sorted(map(_norm, a.execute(sa.select(*cols).where(t.c.campaign_id == CID))))
                want = sorted(map(_norm, b.execute(sa.select(*cols).where(t.c.campaign_id == CID))))
            assert got == want, t.name
        with pg.connect() as a:
            n = a.execute(sa.text(f'SELECT count(*) FROM "{pg_schema}".v_campaign_evaluation')).scalar()
            q = a.execute(sa.text(f"SELECT count(*) FROM \"{pg_schema}_r\".quarantine_row WHERE period = '{M2}' "
                                  "AND reason LIKE 'msisdn not a target%'")).scalar()
        assert n > 5 and q == 1
        # an account manager's role sees their own targets and feedback, never a hold-out
        db.grant_access(pg, cfg)
        with pg.connect() as a:
            am = a.execute(sa.text(f'SELECT min(account_manager_id) FROM "{pg_schema}".campaign_target')).scalar()
            own = a.execute(sa.text(f'SELECT count(*) FROM "{pg_schema}".campaign_target WHERE account_manager_id = :a'),
                            {"a": am}).scalar()
        role = f"{pg_schema}_am_bob"
        db.add_account_manager_role(pg, cfg, role, am)
        with pg.connect() as a:
            a.execute(sa.text(f'SET ROLE "{role}"'))
            rows = a.execute(sa.text(f'SELECT account_manager_id, holdout FROM "{pg_schema}".v_campaign_targets')).fetchall()
            a.rollback()
        assert len(rows) == own > 0 and {r[0] for r in rows} == {am} and not any(r[1] for r in rows)
        pg.dispose()
        em.dispose()
        for a, b in zip(sorted((st["root"] / "pg-worklists").glob("*.csv")), sorted((st["root"] / "worklists").glob("*.csv"))):
            assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
    finally:
        eng = sa.create_engine(pg_url)
        with eng.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{pg_schema}_r" CASCADE'))
            for r in (f"{pg_schema}_am_bob", cfg.reporting.bi_role, cfg.reporting.am_role):
                if c.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": r}).first():
                    c.execute(sa.text(f'DROP OWNED BY "{r}"'))
                    c.execute(sa.text(f'DROP ROLE "{r}"'))
        eng.dispose()


def _norm(row) -> tuple:
    out = []
    for v in row:
        if isinstance(v, float):
            v = round(v, 9)
        elif v is not None and type(v).__name__ == "Decimal":
            v = str(v)
        out.append(v)
    return tuple(out)


def test_campaign_help_prints():
    for argv in (["campaign", "--help"], ["campaign", "create", "--help"], ["generate-feedback", "--help"]):
        with pytest.raises(SystemExit) as e:
            gs(*argv)
        assert e.value.code == 0, argv
