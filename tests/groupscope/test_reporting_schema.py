"""The reporting schema: migrations build exactly the models, on PostgreSQL and on the embedded DuckDB;
downgrade and upgrade again; pseudonyms and masks."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from groupscope.config import config_from_dict
from groupscope.reporting import db, models, views
from transforms.privacy import mask, number_key, pseudonymise


def _cfg(tmp_path, schema: str):
    return config_from_dict({"work_dir": str(tmp_path), "reporting": {"schema_name": schema, "restricted_schema": f"{schema}_r"}})


@pytest.fixture()
def pg_engine(pg_url, tmp_path):
    schema = f"gs_{uuid.uuid4().hex[:8]}"
    cfg = _cfg(tmp_path, schema)
    eng = db.make_engine(cfg, pg_url)
    yield cfg, eng
    with eng.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        c.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_r" CASCADE'))
    eng.dispose()


def _tables(eng, cfg):
    insp = sa.inspect(eng)
    names = db.schema_map(cfg)
    out = {}
    for t in models.metadata.sorted_tables:
        cols = insp.get_columns(t.name, schema=names[t.schema])
        pk = insp.get_pk_constraint(t.name, schema=names[t.schema])["constrained_columns"]
        out[t.name] = ([(c["name"], c["nullable"], c["type"].compile(dialect=eng.dialect)) for c in cols], pk)
    return out


@pytest.mark.postgres
def test_migrations_build_the_models_and_downgrade_cleanly(pg_engine):
    cfg, eng = pg_engine
    db.upgrade(eng, cfg)
    assert db.current_revision(eng, cfg) == "0007_surveys_excluded"
    got = _tables(eng, cfg)
    for t in models.metadata.sorted_tables:
        cols, pk = got[t.name]
        assert [c[0] for c in cols] == list(t.c.keys()), t.name
        assert [c[1] for c in cols] == [c.nullable for c in t.c], t.name
        assert pk == [c.name for c in t.primary_key.columns], t.name
        assert [c[2] for c in cols] == [c.type.compile(dialect=eng.dialect) for c in t.c], t.name
    insp = sa.inspect(eng)
    assert sorted(insp.get_view_names(schema=cfg.reporting.schema_name)) == sorted(v.name for v in views.CURRENT)
    # comments reach the database, for BI tools that show them
    assert insp.get_table_comment("fact_member_audit", schema=cfg.reporting.schema_name)["text"]
    comments = {c["name"]: c["comment"] for c in insp.get_columns("fact_prospect_group", schema=cfg.reporting.schema_name)}
    assert comments == {c.name: c.comment for c in models.fact_prospect_group.c}
    comments = {c["name"]: c["comment"] for c in insp.get_columns("fact_group_month", schema=cfg.reporting.schema_name)}
    assert comments == {c.name: c.comment for c in models.fact_group_month.c}
    from alembic import command
    from alembic.config import Config as AlembicConfig

    with eng.begin() as conn:
        acfg = AlembicConfig()
        acfg.set_main_option("script_location", str(db.MIGRATIONS))
        acfg.attributes.update(connection=conn, version_table_schema=cfg.reporting.schema_name, schemas=db.schema_map(cfg))
        command.downgrade(acfg, "base")
    insp = sa.inspect(eng)
    assert insp.get_table_names(schema=cfg.reporting.schema_name) == ["alembic_version"]
    assert insp.get_view_names(schema=cfg.reporting.schema_name) == []
    db.upgrade(eng, cfg)
    assert db.current_revision(eng, cfg) == "0007_surveys_excluded"


def test_embedded_database_migrates_and_is_idempotent(tmp_path):
    cfg = _cfg(tmp_path, "groupscope")
    eng = db.make_engine(cfg)
    assert eng.dialect.name == "duckdb" and str(tmp_path) in str(eng.url)
    db.upgrade(eng, cfg)
    db.upgrade(eng, cfg)
    with eng.connect() as c:
        for v in views.CURRENT:
            c.execute(sa.text(f"SELECT * FROM groupscope.{v.name}")).fetchall()
        names = {r[0] for r in c.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema IN ('groupscope', 'groupscope_r')"))}
    assert {t.name for t in models.metadata.sorted_tables} <= names
    eng.dispose()


def test_upgrade_from_0001_keeps_prospect_rows(tmp_path):
    cfg = _cfg(tmp_path, "groupscope")
    eng = db.make_engine(cfg)
    db.upgrade(eng, cfg, "0001")
    with eng.begin() as c:
        c.execute(sa.text(
            "INSERT INTO groupscope.fact_prospect_group (period, prospect_id, size, onnet, offnet) VALUES ('2026-09', 0, 7, 4, 3)"
        ))
    db.upgrade(eng, cfg)
    assert db.current_revision(eng, cfg) == "0007_surveys_excluded"
    with eng.connect() as c:
        rows = c.execute(sa.text("SELECT period, prospect_id, size, teams, region FROM groupscope.fact_prospect_group")).fetchall()
    assert [tuple(r) for r in rows] == [("2026-09", 0, 7, None, None)]
    eng.dispose()


def test_grant_access_is_refused_on_the_embedded_database(tmp_path):
    cfg = _cfg(tmp_path, "groupscope")
    eng = db.make_engine(cfg)
    with pytest.raises(db.ReportingDbError, match="only on PostgreSQL"):
        db.grant_access(eng, cfg)
    eng.dispose()


def test_pseudonyms_are_keyed_stable_and_masks_hide_the_middle():
    a, b = b"k" * 32, b"j" * 32
    assert number_key(a, "13812341234") == number_key(a, "13812341234")
    assert number_key(a, "13812341234") != number_key(b, "13812341234")
    assert number_key(a, "13812341234") != number_key(a, "13812341235")
    assert len(number_key(a, "13812341234")) == 32
    assert mask("13812341234") == "138****1234"
    assert mask("01012345678") == "010****5678"
    assert mask("10086") == "***86"
    t = pseudonymise(__import__("pyarrow").array(["13812341234", None, "13812341234", "13900001111"]), a)
    assert t.num_rows == 2 and t["number_masked"].to_pylist() == ["138****1234", "139****1111"]
    with pytest.raises(ValueError, match="16 bytes"):
        pseudonymise(__import__("pyarrow").array(["1"]), b"short")
