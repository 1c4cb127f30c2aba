"""The downloadable lists (CONTRACT.md section 3, the prospect groups and the account-manager worklist), read from the
reporting database (the embedded default or `--db URL`) and written as UTF-8 CSV with a header row.

Clear telephone numbers come from the restricted schema, joined on the pseudonym; every value reaches
SQL as a bound parameter.
"""

from __future__ import annotations

import csv
import decimal
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from groupscope.config import Config
from groupscope.contract import OUTPUT_LISTS
from groupscope.reporting import db
from groupscope.reporting import models as m

# Decimal places of rounded columns in the lists.
ROUNDING = {
    "fake_score": 4, "member_share": 4, "score": 4, "purity": 4, "market_share": 4,
    "est_offnet_employees": 1, "value_score": 2, "confidence": 3, "correction_coefficient": 4,
    "rule_correction_coefficient": 4, "rule_est_offnet_employees": 1, "rule_market_share": 4, "share_change": 4,
    "share_change_movement": 4, "share_change_recalibration": 4,
}

# The view (created by the migrations) as a selectable; its own MetaData so no one creates it as a table.
WORKLIST_VIEW = sa.Table(
    "v_account_manager_worklist",
    sa.MetaData(),
    *(sa.Column(c) for c in (
        "period", "account_manager_id", "group_id", "group_name", "action", "number_key", "number_masked",
        "score", "carrier", "on_net", "members_contacted", "detail",
    )),
    schema=m.REPORTING,
)


def _query(name: str, period: str, account_manager: str | None = None) -> sa.Select:
    ident = m.number_identity
    if name == "fake-members":
        f = m.fact_member_audit
        return (
            # the contract's columns, then evidence and confidence
            sa.select(f.c.group_id, ident.c.msisdn, f.c.fake_score, f.c.is_suspect, f.c.reasons, f.c.evidence,
                      f.c.confidence)
            .join(ident, ident.c.number_key == f.c.number_key)
            .where(f.c.period == period)
            .order_by(f.c.group_id, f.c.fake_score.desc(), ident.c.msisdn)
        )
    if name == "potential-members":
        f = m.fact_potential_member
        return (
            sa.select(f.c.group_id, ident.c.msisdn, f.c.carrier, f.c.on_net, f.c.members_contacted,
                      f.c.member_share, f.c.score, f.c.likely_employee)
            .join(ident, ident.c.number_key == f.c.number_key)
            .where(f.c.period == period)
            .order_by(f.c.group_id, f.c.score.desc(), ident.c.msisdn)
        )
    if name == "group-summary":
        f = m.fact_group_month
        return (
            sa.select(f.c.group_id, f.c.listed_members, f.c.suspect_members, f.c.real_members, f.c.purity,
                      f.c.est_onnet_unregistered, f.c.est_offnet_employees, f.c.market_share, f.c.value_score,
                      f.c.value_tier,
                      # after the contract's columns: how the share was corrected, the operator's rule, the change
                      f.c.coefficient_scope, f.c.correction_coefficient, f.c.offnet_key_competitor,
                      f.c.rule_coefficient_scope, f.c.rule_correction_coefficient, f.c.rule_est_offnet_employees,
                      f.c.rule_market_share, f.c.previous_month, f.c.share_change, f.c.share_change_movement,
                      f.c.share_change_recalibration, f.c.insufficient_members)
            .where(f.c.period == period)
            .order_by(f.c.group_id)
        )
    if name == "prospect-groups":
        g, pm = m.fact_prospect_group, m.fact_prospect_member
        return (
            sa.select(g.c.prospect_id, g.c.size, g.c.teams, g.c.region, g.c.onnet, g.c.offnet, g.c.carrier_mix,
                      ident.c.msisdn, pm.c.carrier, pm.c.on_net)
            .join(pm, (pm.c.period == g.c.period) & (pm.c.prospect_id == g.c.prospect_id))
            .join(ident, ident.c.number_key == pm.c.number_key)
            .where(g.c.period == period)
            .order_by(g.c.prospect_id, pm.c.on_net.desc(), ident.c.msisdn)
        )
    if name == "quarantine":
        q = m.quarantine_row
        return (
            sa.select(q.c.source, q.c.file, q.c.row_number, q.c.column, q.c.reason, q.c.raw)
            .where(q.c.period == period)
            .order_by(q.c.source, q.c.file, q.c.row_number, q.c.column, q.c.reason)
        )
    if name == "worklist":
        w = WORKLIST_VIEW
        sel = (
            sa.select(w.c.account_manager_id, w.c.group_id, w.c.group_name, w.c.action, ident.c.msisdn, w.c.carrier,
                      w.c.on_net, w.c.score, w.c.members_contacted, w.c.detail)
            .join(ident, ident.c.number_key == w.c.number_key)
            .where(w.c.period == period)
            .order_by(w.c.account_manager_id, w.c.group_id, w.c.action, w.c.score.desc(), ident.c.msisdn)
        )
        if account_manager is not None:
            sel = sel.where(w.c.account_manager_id == account_manager)
        return sel
    raise ValueError(f"unknown list {name}")


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(v: object) -> object:
    """A cell value that a spreadsheet shows as text: a string starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe, e.g. `=HYPERLINK(...)` -> `'=HYPERLINK(...)`. Numbers and
    other values are returned unchanged (a negative number stays a number). Every CSV export meant for
    spreadsheets writes its cells through this function."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def _text(col: str, v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float | decimal.Decimal) and col in ROUNDING:
        return round(float(v), ROUNDING[col])
    return spreadsheet_safe(v)


def _write(rows: Iterable, cols: list[str], out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for row in rows:
            w.writerow([_text(c, v) for c, v in zip(cols, row)])
            n += 1
    tmp.replace(out)
    return n


def _has_period(conn: sa.Connection, name: str, period: str) -> bool:
    """Whether the period is loaded: its results, or for the quarantine list its ingest."""
    col = m.fact_source_rows.c.period if name == "quarantine" else m.dim_period.c.period
    return conn.execute(sa.select(col).where(col == period).limit(1)).first() is not None


def check_account_manager(conn: sa.Connection, period: str, account_manager: str) -> None:
    """An account manager unknown in the period is an error (not an empty list)."""
    d = m.dim_account_manager
    known = conn.execute(
        sa.select(d.c.account_manager_id).where(d.c.period == period, d.c.account_manager_id == account_manager).limit(1)
    ).first()
    if known is None:
        n = conn.execute(sa.select(sa.func.count()).select_from(d).where(d.c.period == period)).scalar()
        raise ValueError(f"unknown account manager {account_manager!r} in period {period} ({n} account managers loaded)")


def export_list(cfg: Config, name: str, period: str, out: str | Path, url: str | None = None,
                account_manager: str | None = None) -> int:
    """Write list `name` of `period` to the CSV file `out`; returns the number of data rows."""
    eng = db.make_engine(cfg, url)
    sel = _query(name, period, account_manager)
    cols = [c.name for c in sel.selected_columns]
    spec = OUTPUT_LISTS[name]
    documented = spec.column_names + [c.name for c in spec.extra]
    if cols != documented:  # the contract's columns first, in order, then the extras docs/contract.md lists
        raise AssertionError(f"{name} columns {cols} are not the documented {documented}")
    try:
        with eng.connect() as conn:
            if db.current_revision(eng, cfg) is None or not _has_period(conn, name, period):
                raise ValueError(f"period {period} is not loaded in {eng.url.render_as_string()}: run the period first")
            if account_manager is not None:
                check_account_manager(conn, period, account_manager)
            result = conn.execution_options(stream_results=True, yield_per=50_000).execute(sel)
            return _write(result, cols, Path(out))
    finally:
        eng.dispose()


def export_worklists(cfg: Config, period: str, out_dir: str | Path, url: str | None = None) -> dict[str, int]:
    """One worklist CSV per account manager owning an active group: OUT_DIR/worklist-<id>.csv."""
    eng = db.make_engine(cfg, url)
    f = m.fact_group_month
    with eng.connect() as conn:
        ams = conn.execute(
            sa.select(f.c.account_manager_id).where(f.c.period == period, f.c.account_manager_id.is_not(None))
            .distinct().order_by(f.c.account_manager_id)
        ).scalars().all()
    eng.dispose()
    if not ams:
        raise ValueError(f"period {period} has no groups with an account manager loaded: run the period first")
    out_dir = Path(out_dir)
    return {
        am: export_list(cfg, "worklist", period, out_dir / f"worklist-{_safe(am)}.csv", url, am) for am in ams
    }


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)

