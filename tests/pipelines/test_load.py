"""The reporting database: loads on the embedded default and on the real PostgreSQL, idempotence,
crash safety, personal data, the BI and account-manager roles, exports."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from groupscope.config import config_from_dict
from groupscope.errors import StopRun
from groupscope.reporting import db, models
from pipelines.export import export_list, export_worklists
from pipelines.run import load_results, run_period

PERIOD = "2026-10"
KEY = "test-pseudonym-key-0123456789"
NASTY = ["O'Brien \"Holdings\"; DROP TABLE dim_group; --", "深圳市,恒信；百货\t有限公司", "a\\b\nnew line"]


@pytest.fixture(scope="module")
def loaded(faulty_operator, tmp_path_factory):
    """The faulty operator with hostile group names, run end to end on the embedded default."""
    src, _ = faulty_operator
    root = tmp_path_factory.mktemp("rep")
    landing = root / "landing"
    shutil.copytree(src, landing)
    # a second groups file of the month, delivering groups with hostile names
    renamed = {f"GX{i:05d}": name for i, name in enumerate(NASTY)}
    with open(landing / "groups" / f"month={PERIOD}" / "extra.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["group_id", "group_name", "industry", "region", "account_manager_id", "registered_at", "status"])
        w.writerows([g, name, "retail", "shenzhen", "AM0000", "2026-01-05", "active"] for g, name in renamed.items())
    cfg = config_from_dict({
        "work_dir": str(root / "work"),
        "validation": {"gx_sample_rows": 5000, "severity": {
            "days_complete": "warning", "files_readable": "warning", "quarantine_share": "warning"}},
    })
    os.environ[cfg.reporting.pseudonym_key_env] = KEY
    report = run_period(cfg, landing, PERIOD)
    return cfg, report, renamed


def _snapshot(eng: sa.Engine, skip=("fact_pipeline_run",)) -> dict[str, list[tuple]]:
    out = {}
    with eng.connect() as c:
        for t in models.metadata.sorted_tables:
            if t.name in skip:
                continue
            rows = c.execute(sa.select(t)).fetchall()
            out[t.name] = sorted(tuple(_norm(v) for v in r) for r in rows)
    return out


def _norm(v):
    if isinstance(v, float):
        return round(v, 9)
    if v is not None and type(v).__name__ == "Decimal":
        return str(v)
    return v


def _pg_cfg(cfg, schema: str):
    d = cfg.model_dump()
    d["reporting"].update(schema_name=schema, restricted_schema=f"{schema}_r", bi_role=f"{schema}_bi", am_role=f"{schema}_am")
    return config_from_dict(d)


@pytest.fixture()
def pg_cfg(loaded, pg_url):
    """The loaded operator's config pointed at fresh schemas and roles of the real PostgreSQL; all dropped after."""
    cfg = _pg_cfg(loaded[0], f"gs_{uuid.uuid4().hex[:8]}")
    yield cfg, pg_url
    eng = sa.create_engine(pg_url)
    with eng.begin() as c:
        for s in (cfg.reporting.schema_name, cfg.reporting.restricted_schema, f"{cfg.reporting.schema_name}_other"):
            c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{s}" CASCADE'))
        roles = [r for (r,) in c.execute(sa.text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"),
                                          {"p": cfg.reporting.schema_name + "%"})]
        for r in roles:
            c.execute(sa.text(f'DROP OWNED BY "{r}"'))
            c.execute(sa.text(f'DROP ROLE "{r}"'))
    eng.dispose()


def test_run_loads_every_table_of_the_embedded_default(loaded):
    cfg, report, _ = loaded
    assert "loaded" in report and "reporting.duckdb" in report
    eng = db.make_engine(cfg)
    snap = _snapshot(eng, skip=())
    empty = [t for t, rows in snap.items() if not rows]
    # am_access is filled by `groupscope db add-account-manager`, the campaign tables by `groupscope campaign`
    assert empty == ["am_access"] + sorted(t.name for t in models.CAMPAIGN_TABLES), empty
    with eng.connect() as c:
        read, acc, quar = c.execute(sa.text(
            "SELECT sum(rows_read), sum(accepted), sum(quarantined) FROM groupscope.fact_source_rows")).fetchone()
        n_q = c.execute(sa.text("SELECT count(row_number) FROM groupscope_restricted.quarantine_row")).scalar()
        n_qc = c.execute(sa.text("SELECT sum(rows) FROM groupscope.fact_quarantine_count")).scalar()
        # a file not read is one quarantine row without a row number (its rows are unknown)
        n_files = c.execute(sa.text(
            "SELECT count(*) FROM groupscope_restricted.quarantine_row WHERE row_number IS NULL")).scalar()
        not_read = c.execute(sa.text(
            "SELECT count(*) FROM groupscope.fact_source_rows WHERE status IN ('unreadable', 'refused')")).scalar()
    assert read == acc + quar and quar > 40 and n_q == n_qc == quar and n_files == not_read


def test_rerunning_the_load_changes_nothing(loaded):
    cfg, _, _ = loaded
    eng = db.make_engine(cfg)
    before = _snapshot(eng)
    load_results(cfg, PERIOD)
    assert _snapshot(eng) == before
    with eng.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM groupscope.fact_pipeline_run WHERE stage = 'results'")).scalar() == 2


def test_reporting_tables_hold_no_clear_number(loaded):
    cfg, _, _ = loaded
    eng = db.make_engine(cfg)
    snap = _snapshot(eng, skip=())
    number = re.compile(r"(?<!\d)1\d{10}(?!\d)")
    reporting = {t.name for t in models.metadata.sorted_tables if t.schema == models.REPORTING}
    pseudonym = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")  # pseudonyms and file hashes
    hits = [(t, v) for t in reporting for row in snap[t] for v in row
            if isinstance(v, str) and number.search(v) and not pseudonym.fullmatch(v)]
    assert hits == []
    masked = [r for r in snap["dim_number"]]
    assert masked and all(re.fullmatch(r"[0-9a-f]{32}", k) and re.fullmatch(r"\d{3}\*+\d{4}", m) for k, m in masked)
    assert len(snap["number_identity"]) == len(masked)


def test_hostile_group_names_round_trip(loaded, tmp_path):
    cfg, _, renamed = loaded
    eng = db.make_engine(cfg)
    with eng.connect() as c:
        got = dict(c.execute(sa.select(models.dim_group.c.group_id, models.dim_group.c.group_name)
                             .where(models.dim_group.c.period == PERIOD)).fetchall())
    assert {g: got[g] for g in renamed} == renamed


def test_exports_read_the_database_and_follow_the_contract(loaded, tmp_path):
    from groupscope.contract import OUTPUT_LISTS

    cfg, _, _ = loaded
    for name in ("fake-members", "potential-members", "group-summary", "quarantine"):
        out = tmp_path / f"{name}.csv"
        n = export_list(cfg, name, PERIOD, out)
        with open(out, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert n == len(rows) > 0 and list(rows[0])[: len(OUTPUT_LISTS[name].column_names)] == OUTPUT_LISTS[name].column_names
    files = export_worklists(cfg, PERIOD, tmp_path / "wl")
    assert len(files) >= 2 and sum(files.values()) > 0
    for am, n in files.items():
        with open(tmp_path / "wl" / f"worklist-{am}.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == n and {r["account_manager_id"] for r in rows} <= {am}
        assert all(re.fullmatch(r"1\d{10}", r["msisdn"]) for r in rows)
    with pytest.raises(ValueError, match="not loaded"):
        export_list(cfg, "fake-members", "2020-01", tmp_path / "x.csv")


@pytest.mark.postgres
def test_postgres_load_equals_embedded_and_rerun_changes_nothing(loaded, pg_cfg, tmp_path):
    cfg, url = pg_cfg
    load_results(cfg, PERIOD, url, ingest_only=True)
    load_results(cfg, PERIOD, url)
    eng = db.make_engine(cfg, url)
    first = _snapshot(eng)
    load_results(cfg, PERIOD, url)
    assert _snapshot(eng) == first
    assert first == _snapshot(db.make_engine(loaded[0]))  # the same rows as on the embedded default
    for name in ("fake-members", "group-summary", "quarantine"):
        a, b = tmp_path / f"pg-{name}.csv", tmp_path / f"dd-{name}.csv"
        export_list(cfg, name, PERIOD, a, url)
        export_list(loaded[0], name, PERIOD, b)
        assert a.read_bytes() == b.read_bytes(), name


CRASHING_LOAD = textwrap.dedent("""
    import json, os, sys, time
    from groupscope.config import config_from_dict
    import pipelines.load as load
    cfg = config_from_dict(json.loads(sys.argv[1]))
    real, n = load._load_table, [0]
    def slow(*a, **k):
        out = real(*a, **k)
        n[0] += 1
        if n[0] == 8:  # well inside the transaction: the period's rows are deleted, some reloaded
            open(sys.argv[3], "w").close()
            time.sleep(120)
        return out
    load._load_table = slow
    load.load_period(cfg, "2026-10", sys.argv[2])
""")


def _kill_mid_load(cfg, url: str, marker: Path) -> None:
    p = subprocess.Popen([sys.executable, "-c", CRASHING_LOAD, cfg.model_dump_json(), url, str(marker)],
                         env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[2])})
    deadline = time.time() + 120
    while not marker.exists():
        assert p.poll() is None, "the loader ended before it reached the middle of the load"
        assert time.time() < deadline
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait()


@pytest.mark.postgres
def test_killed_postgres_load_leaves_previous_contents(loaded, pg_cfg, tmp_path):
    cfg, url = pg_cfg
    load_results(cfg, PERIOD, url)
    eng = db.make_engine(cfg, url)
    before = _snapshot(eng, skip=())
    _kill_mid_load(cfg, url, tmp_path / "mid-load")
    assert _snapshot(eng, skip=()) == before
    load_results(cfg, PERIOD, url)  # no lock or half-state left behind


def test_killed_embedded_load_leaves_previous_contents(loaded, tmp_path):
    cfg = loaded[0]
    eng = db.make_engine(cfg)
    before = _snapshot(eng, skip=())
    eng.dispose()
    _kill_mid_load(cfg, db.database_url(cfg), tmp_path / "mid-load")
    eng = db.make_engine(cfg)
    assert _snapshot(eng, skip=()) == before
    eng.dispose()


def _as(conn: sa.Connection, role: str, sql: str):
    conn.execute(sa.text(f'SET ROLE "{role}"'))
    try:
        return conn.execute(sa.text(sql)).fetchall()
    finally:
        conn.execute(sa.text("RESET ROLE"))


def _denied(conn: sa.Connection, role: str, sql: str) -> None:
    """`sql` run as `role` fails for lack of privilege (the savepoint's rollback also undoes SET ROLE)."""
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        with conn.begin_nested():
            conn.execute(sa.text(f'SET ROLE "{role}"'))
            conn.execute(sa.text(sql))
    assert conn.execute(sa.text("SELECT current_user")).scalar() != role


@pytest.mark.postgres
def test_bi_role_reads_reporting_only_and_account_managers_see_their_groups(loaded, pg_cfg):
    cfg, url = pg_cfg
    load_results(cfg, PERIOD, url)
    eng = db.make_engine(cfg, url)
    db.grant_access(eng, cfg)
    db.grant_access(eng, cfg)  # idempotent
    rs, xs, bi = cfg.reporting.schema_name, cfg.reporting.restricted_schema, cfg.reporting.bi_role
    with eng.begin() as c:
        ams = [r for (r,) in c.execute(sa.text(
            f"SELECT DISTINCT account_manager_id FROM {rs}.fact_group_month ORDER BY 1"))]
        total = c.execute(sa.text(f"SELECT count(*) FROM {rs}.fact_member_audit")).scalar()
        own = c.execute(sa.text(f"SELECT count(*) FROM {rs}.fact_member_audit WHERE account_manager_id = :a"),
                        {"a": ams[0]}).scalar()
        c.execute(sa.text(f'CREATE SCHEMA "{rs}_other"'))
        c.execute(sa.text(f'CREATE TABLE "{rs}_other".t (x int)'))
    am_role = f"{rs}_am_alice"
    db.add_account_manager_role(eng, cfg, am_role, ams[0])
    assert len(ams) >= 2 and 0 < own < total

    with eng.connect() as c:
        # the BI role reads every reporting row and view
        assert _as(c, bi, f"SELECT count(*) FROM {rs}.fact_member_audit")[0][0] == total
        assert _as(c, bi, f"SELECT count(*) FROM {rs}.v_group_scorecard")[0][0] > 0
        # ... and nothing else: not the clear numbers, not another schema, no writes
        for sql in (f"SELECT msisdn FROM {xs}.number_identity", f"SELECT * FROM {xs}.quarantine_row",
                    f'SELECT * FROM "{rs}_other".t', f"DELETE FROM {rs}.fact_member_audit",
                    f"INSERT INTO {rs}.dim_industry VALUES ('x')"):
            _denied(c, bi, sql)
        # the account manager sees only the groups they own, in tables and through the views
        assert _as(c, am_role, f"SELECT count(*) FROM {rs}.fact_member_audit")[0][0] == own
        seen = {r[0] for r in _as(c, am_role, f"SELECT DISTINCT account_manager_id FROM {rs}.v_account_manager_worklist")}
        assert seen == {ams[0]}
        seen = {r[0] for r in _as(c, am_role, f"SELECT DISTINCT account_manager_id FROM {rs}.v_group_scorecard")}
        assert seen == {ams[0]}
        for sql in (f"SELECT * FROM {rs}.fact_subscriber_value", f"SELECT msisdn FROM {xs}.number_identity"):
            _denied(c, am_role, sql)
        c.rollback()


def test_run_with_unreachable_database_stops_with_one_line(tmp_path, capsys):
    from pipelines.cli import main

    rc = main(["run", "--landing", str(tmp_path), "--period", PERIOD, "--work-dir", str(tmp_path / "w"),
               "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "reporting database unreachable" in err


@pytest.mark.postgres
def test_postgres_without_pseudonym_key_is_refused(loaded, pg_url, monkeypatch):
    cfg = loaded[0]
    monkeypatch.delenv(cfg.reporting.pseudonym_key_env)
    with pytest.raises(StopRun, match="GROUPSCOPE_PSEUDONYM_KEY"):
        load_results(cfg, PERIOD, pg_url)


BIG_SHARED = 130_000  # more than one DuckDB row group (122,880 rows)


def _big_dim_number(cfg, period: str) -> None:
    import duckdb

    folder = cfg.work_path / "load" / f"period={period}"
    folder.mkdir(parents=True, exist_ok=True)
    duckdb.connect().execute(
        f"COPY (SELECT 'k' || lpad(CAST(i AS VARCHAR), 8, '0') AS number_key, '138****' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0') "
        f"AS number_masked FROM range({BIG_SHARED}) AS r(i)) TO '{folder / 'dim_number.parquet'}' (FORMAT parquet)"
    ).fetchall()


def test_embedded_load_keeps_every_row_of_a_large_shared_table(tmp_path):
    """A shared table of more than one row group is loaded whole on the embedded default, twice over."""
    from pipelines.load import load_period

    cfg = config_from_dict({"work_dir": str(tmp_path / "work")})
    _big_dim_number(cfg, PERIOD)
    for _ in range(2):
        res = load_period(cfg, PERIOD)
        assert res.rows["dim_number"] == BIG_SHARED
        with db.make_engine(cfg).connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM groupscope.dim_number")).scalar() == BIG_SHARED


@pytest.mark.postgres
def test_postgres_load_keeps_every_row_of_a_large_shared_table(loaded, pg_cfg, tmp_path):
    from pipelines.load import load_period

    cfg, url = pg_cfg
    cfg = cfg.model_copy(update={"work_dir": str(tmp_path / "work")})
    _big_dim_number(cfg, PERIOD)
    res = load_period(cfg, PERIOD, url)
    assert res.rows["dim_number"] == BIG_SHARED
    with db.make_engine(cfg, url).connect() as c:
        n = c.execute(sa.text(f'SELECT count(*) FROM "{cfg.reporting.schema_name}".dim_number')).scalar()
    assert n == BIG_SHARED


def test_a_load_whose_rows_do_not_all_arrive_stops_and_keeps_nothing(tmp_path):
    """The row check after each insert: a period file of 2 rows of which 1 is of another month loads 1 row
    of the period; the load raises and the rolled-back transaction keeps nothing."""
    import duckdb

    from pipelines.load import load_period

    cfg = config_from_dict({"work_dir": str(tmp_path / "work")})
    folder = cfg.work_path / "load" / f"period={PERIOD}"
    folder.mkdir(parents=True)
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES ('2026-10', DATE '2026-10-01', 2026, 4, 10), ('2026-09', DATE '2026-09-01', 2026, 3, 9)) "
        f"AS t(period, month_start, year, quarter, month)) TO '{folder / 'dim_period.parquet'}' (FORMAT parquet)"
    ).fetchall()
    with pytest.raises(db.ReportingDbError, match="load of dim_period lost rows: 2 in dim_period.parquet, 1 in the table"):
        load_period(cfg, PERIOD)
    with db.make_engine(cfg).connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM groupscope.dim_period")).scalar() == 0


def test_results_from_before_a_reporting_column_stop_the_load_with_one_line(loaded, tmp_path):
    """A period computed by an older groupscope (its market_calibration without surveys_excluded) is not
    loaded with a binder error: one line names the table and the column and says to run the period again."""
    import duckdb

    from pipelines.load import prepare_load

    cfg = loaded[0]
    work = tmp_path / "work"
    shutil.copytree(cfg.work_path, work, ignore=shutil.ignore_patterns("*.duckdb*", "tmp"))
    old = config_from_dict({"work_dir": str(work)})
    f = next((work / "derived" / "market_calibration" / f"period={PERIOD}").glob("*.parquet"))
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * EXCLUDE (surveys_excluded) FROM read_parquet('{f}')) TO '{tmp_path / 'c.parquet'}' (FORMAT parquet)")
    shutil.move(tmp_path / "c.parquet", f)
    with pytest.raises(db.ReportingDbError, match=r"^fact_market_calibration: the period's results have no column "
                       rf"surveys_excluded \(computed by an older groupscope\?\): run the period again \(groupscope run --period {PERIOD}\)"):
        prepare_load(old, PERIOD, db.database_url(old))
