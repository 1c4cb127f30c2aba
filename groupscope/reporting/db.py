"""Connections, migrations and access control of the reporting database.

One switch selects the database: no URL (the default) is an embedded DuckDB file under work_dir that
needs no server; `--db URL` / `database_url` is any SQLAlchemy URL, PostgreSQL in production. The same
models, migrations, loads and exports serve both.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from alembic.ddl.postgresql import PostgresqlImpl

from groupscope.config import Config
from groupscope.reporting import models


class ReportingDbError(RuntimeError):
    """The reporting database cannot be used; str(e) is the one-line reason."""


class AlembicDuckDBImpl(PostgresqlImpl):
    """Alembic has no DuckDB dialect of its own; DuckDB speaks PostgreSQL's DDL (registered on import)."""

    __dialect__ = "duckdb"


MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(cfg: Config, url: str | None = None) -> str:
    """The reporting database URL: `url`, else the configured one, else the embedded DuckDB file.
    A plain postgresql:// or postgres:// URL gets the psycopg (3) driver that groupscope installs."""
    url = url or cfg.resolved_database_url()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_embedded(url: str) -> bool:
    return url.startswith("duckdb")


def schema_map(cfg: Config) -> dict[str, str]:
    return {models.REPORTING: cfg.reporting.schema_name, models.RESTRICTED: cfg.reporting.restricted_schema}


def make_engine(cfg: Config, url: str | None = None) -> sa.Engine:
    """An engine whose connections put the configured schema names in place of the symbolic ones."""
    url = database_url(cfg, url)
    if is_embedded(url):
        path = sa.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    # The embedded file is locked while a connection is open: hold it only for a unit of work, so that
    # other processes (a BI tool, the next stage) can open it in between.
    pool = {"poolclass": sa.pool.NullPool} if is_embedded(url) else {}
    try:
        eng = sa.create_engine(url, execution_options={"schema_translate_map": schema_map(cfg)}, **pool)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as e:
        raise ReportingDbError(f"reporting database URL not usable: {e}") from None
    try:
        with eng.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as e:
        raise ReportingDbError(f"reporting database unreachable ({eng.url.render_as_string()}): {_first_line(e)}") from None
    return eng


def _first_line(e: BaseException) -> str:
    return str(getattr(e, "orig", None) or e).strip().splitlines()[0]


def lock(conn: sa.Connection, cfg: Config) -> None:
    """Serialise migrations and loads of one reporting schema on PostgreSQL (released at commit)."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(cfg.reporting.schema_name.encode()).digest()[:8], "big", signed=True)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def upgrade(engine: sa.Engine, cfg: Config, revision: str = "head") -> None:
    """Create the schemas if needed and bring them to `revision` with the Alembic migrations."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    with engine.begin() as conn:
        lock(conn, cfg)
        for name in schema_map(cfg).values():  # names are validated identifiers (config pattern)
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
        acfg = AlembicConfig()
        acfg.set_main_option("script_location", str(MIGRATIONS))
        acfg.attributes.update(
            connection=conn, version_table_schema=cfg.reporting.schema_name, schemas=schema_map(cfg)
        )
        command.upgrade(acfg, revision)


def current_revision(engine: sa.Engine, cfg: Config) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table_schema": cfg.reporting.schema_name})
        return ctx.get_current_revision()


# ---------------------------------------------------------------- PostgreSQL access control

def _ensure_role(conn: sa.Connection, role: str) -> None:
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).fetchone()
    if not exists:
        conn.execute(sa.text(f'CREATE ROLE "{role}" NOLOGIN'))


# What an account manager's role may read besides the rows of its own groups (no personal data beyond
# pseudonyms, no other account manager's groups).
AM_READABLE = ["dim_period", "dim_carrier", "dim_industry", "dim_region", "dim_account_manager", "dim_number"]
AM_VIEWS = ["v_group_scorecard", "v_account_manager_worklist", "v_market_share_trend"]
# Win-over campaigns: their settings (no personal data) and the view of one's own targets.
AM_READABLE += ["campaign"]
AM_VIEWS += ["v_campaign_targets"]


def grant_access(engine: sa.Engine, cfg: Config) -> list[str]:
    """Create the read-only BI role and the account-manager role with row-level security (idempotent).

    The BI role reads every table and view of the reporting schema and nothing else; the account-manager
    role reads the dimensions and, through row-level security, only the rows of the groups that
    `am_access` assigns to the current database user. Neither can read the restricted schema or write.
    """
    if engine.dialect.name != "postgresql":
        raise ReportingDbError("roles and row-level security exist only on PostgreSQL; the embedded database is a local file")
    rs, xs = cfg.reporting.schema_name, cfg.reporting.restricted_schema
    bi, am = cfg.reporting.bi_role, cfg.reporting.am_role
    done = []
    with engine.begin() as conn:
        lock(conn, cfg)
        for role in (bi, am):
            _ensure_role(conn, role)
        stmts = [
            f'REVOKE ALL ON SCHEMA "{xs}" FROM PUBLIC',
            f'REVOKE ALL ON ALL TABLES IN SCHEMA "{xs}" FROM "{bi}", "{am}"',
            f'REVOKE ALL ON SCHEMA "{rs}" FROM PUBLIC',
            f'GRANT USAGE ON SCHEMA "{rs}" TO "{bi}", "{am}"',
            f'REVOKE ALL ON ALL TABLES IN SCHEMA "{rs}" FROM "{bi}", "{am}"',
            f'GRANT SELECT ON ALL TABLES IN SCHEMA "{rs}" TO "{bi}"',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{rs}" GRANT SELECT ON TABLES TO "{bi}"',
        ]
        am_tables = AM_READABLE + [t.name for t in models.OWNED_TABLES] + ["am_access"] + AM_VIEWS
        stmts += [f'GRANT SELECT ON "{rs}"."{t}" TO "{am}"' for t in am_tables]
        own = f'SELECT a.account_manager_id FROM "{rs}".am_access AS a WHERE a.role_name = current_user'
        policies = {t.name: f"account_manager_id IN ({own})" for t in models.OWNED_TABLES}
        policies["am_access"] = "role_name = current_user"
        for t, rule in policies.items():
            stmts += [
                f'ALTER TABLE "{rs}"."{t}" ENABLE ROW LEVEL SECURITY',
                f'DROP POLICY IF EXISTS bi_reads_all ON "{rs}"."{t}"',
                f'CREATE POLICY bi_reads_all ON "{rs}"."{t}" FOR SELECT TO "{bi}" USING (true)',
                f'DROP POLICY IF EXISTS am_reads_own ON "{rs}"."{t}"',
                f'CREATE POLICY am_reads_own ON "{rs}"."{t}" FOR SELECT TO "{am}" USING ({rule})',
            ]
        for s in stmts:
            conn.execute(sa.text(s))
            done.append(s)
    return done


def add_account_manager_role(engine: sa.Engine, cfg: Config, role: str, account_manager_id: str) -> None:
    """Let database role `role` act for `account_manager_id` (creates it NOLOGIN when missing; the DBA
    gives it LOGIN and a password outside groupscope)."""
    import re

    if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", role):
        raise ReportingDbError(f"role name {role!r} must be a lower-case identifier")
    with engine.begin() as conn:
        _ensure_role(conn, role)
        conn.execute(sa.text(f'GRANT "{cfg.reporting.am_role}" TO "{role}"'))
        t = models.am_access
        conn.execute(t.delete().where(t.c.role_name == role, t.c.account_manager_id == account_manager_id))
        conn.execute(t.insert().values(role_name=role, account_manager_id=account_manager_id))
