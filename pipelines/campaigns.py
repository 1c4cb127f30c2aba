"""Win-over (策反) campaigns, the operator's third model, in five steps on the reporting database:

1. create   a campaign: name, period, criteria, offer cost, budget, capacity per account manager, hold-out
2. select   targets from the period's potential members (ranked by expected value, within budget)
3. assign   them to account managers (owner first, then balanced) and write one worklist per manager
4. feedback the month's `campaign_feedback` (validated at ingest like every source; here checked against
            the campaigns: unknown campaign, not a target, hold-out target -> quarantine with a reason)
5. evaluate each campaign from the feedback and the following months' bills (fact_subscriber_value)

Campaign state lives in reporting.campaign, campaign_target, campaign_feedback and campaign_evaluation
(pseudonyms only); the clear numbers of worklists come from the restricted schema. Every step is
callable from the CLI (`groupscope campaign ...`) and from the Airflow DAG groupscope_campaigns, and
returns small JSON-able values.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from groupscope.config import Config
from groupscope.contract import CAMPAIGN_FEEDBACK
from groupscope.errors import StopRun
from groupscope.period import Period
from groupscope.reporting import db
from groupscope.reporting import models as m
from transforms import campaigns as tc

STATUSES = ("created", "selected", "assigned", "feedback", "evaluated")
# Where the campaign check's quarantine rows go: beside the ingest's own, read by every load of the month.
REFERENCE_QUARANTINE = "campaign_references"


class CampaignError(StopRun):
    """A campaign step cannot go on; str(e) is the one-line reason (exit 2 on the CLI, a failed task
    without retries in Airflow)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _engine(cfg: Config, url: str | None) -> sa.Engine:
    eng = db.make_engine(cfg, url)
    db.upgrade(eng, cfg)
    return eng


def _records(df: pd.DataFrame, cols: list[str]) -> list[dict]:
    out = []
    for row in df[cols].itertuples(index=False, name=None):
        out.append({c: _py(v) for c, v in zip(cols, row)})
    return out


def _py(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def _frame(conn: sa.Connection, sel) -> pd.DataFrame:
    res = conn.execute(sel)
    return pd.DataFrame(res.fetchall(), columns=list(res.keys()))


def _campaign(conn: sa.Connection, campaign_id: str) -> dict:
    row = conn.execute(sa.select(m.campaign).where(m.campaign.c.campaign_id == campaign_id)).mappings().first()
    if row is None:
        raise CampaignError(f"unknown campaign {campaign_id!r} (see: groupscope campaign list)")
    return dict(row)


def _months_back(period: str, n: int) -> list[str]:
    return [str(p) for p in Period.parse(period).back(n + 1)]


# ---------------------------------------------------------------- candidates of a period

def _candidates_sql(period: str) -> sa.Select:
    p, g, d, n = m.fact_potential_member, m.fact_group_month, m.dim_group, m.dim_number
    return (
        sa.select(
            p.c.number_key, n.c.number_masked, p.c.group_id, p.c.score, p.c.member_share, p.c.members_contacted,
            p.c.carrier, p.c.on_net, p.c.likely_employee, g.c.value_score.label("group_value_score"),
            g.c.value_tier, d.c.industry, d.c.region,
            sa.func.coalesce(d.c.account_manager_id, p.c.account_manager_id).label("owner_account_manager_id"),
        )
        .join(g, (g.c.period == p.c.period) & (g.c.group_id == p.c.group_id))
        .outerjoin(d, (d.c.period == p.c.period) & (d.c.group_id == p.c.group_id))
        .outerjoin(n, n.c.number_key == p.c.number_key)
        .where(p.c.period == period)
        .order_by(p.c.group_id, p.c.number_key)
    )


def _has_results(conn: sa.Connection, period: str) -> bool:
    p = m.fact_potential_member
    return conn.execute(sa.select(p.c.period).where(p.c.period == period).limit(1)).first() is not None


def _check_values(conn: sa.Connection, period: str, criteria: dict) -> None:
    """A listed value that the period does not have is a typo, not a wish for zero targets."""
    p, g, d = m.fact_potential_member, m.fact_group_month, m.dim_group
    cols = {"carrier": (p, p.c.carrier), "value_tier": (g, g.c.value_tier), "industry": (d, d.c.industry),
            "region": (d, d.c.region)}
    for key, (t, col) in cols.items():
        if key not in criteria:
            continue
        known = set(conn.execute(sa.select(col).where(t.c.period == period).distinct()).scalars()) - {None}
        unknown = [v for v in criteria[key] if v not in known]
        if unknown:
            raise CampaignError(
                f"criterion {key}: {', '.join(map(repr, unknown))} not found in {period} (known: {', '.join(sorted(known))})"
            )


# ---------------------------------------------------------------- 1. create

def create_campaign(cfg: Config, name: str, period: str, criteria: list[str] | dict, offer_cost: float,
                    budget: float, capacity_per_am: int, holdout_share: float = 0.1, seed: int = 1,
                    campaign_id: str | None = None, url: str | None = None) -> str:
    """Validate and store a new campaign; returns its id (CMP-<period>-NNN unless given)."""
    if not name or not name.strip():
        raise CampaignError("a campaign needs a name")
    try:
        tc.check_settings(offer_cost, budget, capacity_per_am, holdout_share)
        crit = tc.parse_criteria(criteria)
    except ValueError as e:
        raise CampaignError(str(e)) from None
    eng = _engine(cfg, url)
    try:
        with eng.begin() as conn:
            db.lock(conn, cfg)
            if not _has_results(conn, period):
                raise CampaignError(f"period {period} has no potential-member results in the reporting database: run the period first")
            _check_values(conn, period, crit)
            c = m.campaign
            if campaign_id is None:
                taken = set(conn.execute(sa.select(c.c.campaign_id)).scalars())
                k = 1
                while f"CMP-{period}-{k:03d}" in taken:
                    k += 1
                campaign_id = f"CMP-{period}-{k:03d}"
            elif conn.execute(sa.select(c.c.campaign_id).where(c.c.campaign_id == campaign_id)).first():
                raise CampaignError(f"campaign {campaign_id!r} exists already")
            conn.execute(c.insert().values(
                campaign_id=campaign_id, name=name.strip(), period=period, criteria=json.dumps(crit, ensure_ascii=False),
                offer_cost=offer_cost, budget=budget, capacity_per_am=capacity_per_am, holdout_share=holdout_share,
                seed=seed, status="created", created_at=_now(),
            ))
    finally:
        eng.dispose()
    return campaign_id


# ---------------------------------------------------------------- 2. select

TARGET_COLUMNS = [
    "campaign_id", "number_key", "number_masked", "rank", "expected_value", "group_id", "owner_account_manager_id",
    "account_manager_id", "assignment", "holdout", "score", "likely_employee", "member_share", "members_contacted",
    "carrier", "on_net", "group_value_score", "value_tier", "industry", "region",
]


def select_campaign(cfg: Config, campaign_id: str, url: str | None = None) -> dict:
    """Select the campaign's targets (replacing an earlier selection while no feedback has arrived)."""
    eng = _engine(cfg, url)
    try:
        with eng.begin() as conn:
            db.lock(conn, cfg)
            c = _campaign(conn, campaign_id)
            if c["status"] in ("feedback", "evaluated"):
                raise CampaignError(f"campaign {campaign_id} has feedback already: its targets are fixed (create a new campaign)")
            crit = json.loads(c["criteria"])
            period = c["period"]
            if not _has_results(conn, period):
                raise CampaignError(f"period {period} has no potential-member results any more: run the period first")
            cands = _frame(conn, _candidates_sql(period))
            t = m.campaign_target
            recent = _months_back(period, int(crit.get("exclude_recent_months", tc.DEFAULT_EXCLUDE_MONTHS)))
            excluded = set(conn.execute(
                sa.select(t.c.number_key).join(m.campaign, m.campaign.c.campaign_id == t.c.campaign_id)
                .where(m.campaign.c.period.in_(recent), t.c.campaign_id != campaign_id)
            ).scalars()) if crit.get("exclude_recent_months", 0) > 0 else set()
            ams = _account_managers(conn, period)
            if not ams:
                raise CampaignError(f"no account managers delivered for {period}: nobody could approach the targets")
            sel = tc.select_targets(cands, crit, excluded, float(c["offer_cost"]), float(c["budget"]),
                                    int(c["capacity_per_am"]) * len(ams), float(c["holdout_share"]), int(c["seed"]))
            if sel.candidates == 0:
                raise CampaignError(
                    f"no potential member of {period} meets the criteria of {campaign_id}"
                    + (f" ({len(excluded)} numbers of recent campaigns left out)" if excluded else "")
                )
            targets = sel.targets.assign(campaign_id=campaign_id, account_manager_id=None, assignment=None)
            conn.execute(t.delete().where(t.c.campaign_id == campaign_id))
            if len(targets):
                conn.execute(t.insert(), _records(targets, TARGET_COLUMNS))
            conn.execute(m.campaign.update().where(m.campaign.c.campaign_id == campaign_id).values(
                status="selected", selected_at=_now(), assigned_at=None, candidates=sel.candidates,
                targets=len(targets), holdout=int(targets["holdout"].sum()) if len(targets) else 0,
                cutoff_rank=sel.cutoff_rank, cutoff_expected_value=sel.cutoff_expected_value,
                cutoff_reason=sel.cutoff_reason,
            ))
    finally:
        eng.dispose()
    return {
        "campaign_id": campaign_id, "candidates": sel.candidates, "excluded_recent": len(excluded),
        "targets": len(targets), "holdout": int(targets["holdout"].sum()) if len(targets) else 0,
        "cutoff_rank": sel.cutoff_rank, "cutoff_expected_value": sel.cutoff_expected_value,
        "cutoff_reason": sel.cutoff_reason,
    }


def _account_managers(conn: sa.Connection, period: str) -> list[str]:
    a = m.dim_account_manager
    return list(conn.execute(sa.select(a.c.account_manager_id).where(a.c.period == period).order_by(a.c.account_manager_id)).scalars())


# ---------------------------------------------------------------- 3. assign

def assign_campaign(cfg: Config, campaign_id: str, out_dir: str | Path | None = None, url: str | None = None) -> dict:
    """Assign the approached targets to account managers and write their worklists (default folder:
    work_dir/exports/campaigns/<id>/)."""
    eng = _engine(cfg, url)
    try:
        with eng.begin() as conn:
            db.lock(conn, cfg)
            c = _campaign(conn, campaign_id)
            if c["status"] == "created":
                raise CampaignError(f"campaign {campaign_id} has no targets yet: run groupscope campaign select first")
            if c["status"] in ("feedback", "evaluated"):
                raise CampaignError(f"campaign {campaign_id} has feedback already: its assignment is fixed")
            t = m.campaign_target
            targets = _frame(conn, sa.select(t.c.number_key, t.c.rank, t.c.holdout, t.c.owner_account_manager_id)
                             .where(t.c.campaign_id == campaign_id))
            ams = _account_managers(conn, c["period"])
            if not ams:
                raise CampaignError(f"no account managers delivered for {c['period']}")
            a = tc.assign_targets(targets, ams, int(c["capacity_per_am"]))
            conn.execute(t.update().where(t.c.campaign_id == campaign_id).values(account_manager_id=None, assignment=None))
            conn.execute(t.update().where(t.c.campaign_id == campaign_id, t.c.holdout).values(assignment="holdout"))
            for am_id, how in a[["account_manager_id", "assignment"]].drop_duplicates().itertuples(index=False):
                keys = a.loc[(a["assignment"] == how) & (a["account_manager_id"].fillna("") == (am_id or "")), "number_key"].tolist()
                for i in range(0, len(keys), 500):
                    conn.execute(t.update().where(t.c.campaign_id == campaign_id, t.c.number_key.in_(keys[i:i + 500]))
                                 .values(account_manager_id=am_id, assignment=how))
            conn.execute(m.campaign.update().where(m.campaign.c.campaign_id == campaign_id)
                         .values(status="assigned", assigned_at=_now()))
    finally:
        eng.dispose()
    out = Path(out_dir) if out_dir else cfg.work_path / "exports" / "campaigns" / campaign_id
    files = export_campaign_worklists(cfg, campaign_id, out, url)
    counts = a["assignment"].value_counts().to_dict()
    return {"campaign_id": campaign_id, "owner": int(counts.get("owner", 0)), "balanced": int(counts.get("balanced", 0)),
            "unassigned": int(counts.get("unassigned", 0)), "worklists": str(out), "files": len(files)}


WORKLIST_COLUMNS = [
    "campaign_id", "account_manager_id", "rank", "group_id", "group_name", "msisdn", "carrier", "on_net", "score",
    "likely_employee", "members_contacted", "offer_cost", "outcome", "contacted_at", "cost_yuan",
]


def export_campaign_worklists(cfg: Config, campaign_id: str, out_dir: str | Path, url: str | None = None) -> dict[str, int]:
    """One CSV per account manager with the clear numbers of their targets in rank order (joined from the
    restricted schema), spreadsheet-safe. The last three columns are for the account manager's feedback:
    the filled file is a valid campaign_feedback delivery."""
    from pipelines.export import _safe, spreadsheet_safe

    t, i, g = m.campaign_target, m.number_identity, m.dim_group
    eng = _engine(cfg, url)
    try:
        with eng.connect() as conn:
            c = _campaign(conn, campaign_id)
            sel = (
                sa.select(t.c.account_manager_id, t.c.rank, t.c.group_id, g.c.group_name, i.c.msisdn, t.c.carrier,
                          t.c.on_net, t.c.score, t.c.likely_employee, t.c.members_contacted)
                .join(i, i.c.number_key == t.c.number_key)
                .outerjoin(g, (g.c.period == c["period"]) & (g.c.group_id == t.c.group_id))
                .where(t.c.campaign_id == campaign_id, sa.not_(t.c.holdout), t.c.account_manager_id.is_not(None))
                .order_by(t.c.account_manager_id, t.c.rank)
            )
            rows = conn.execute(sel).fetchall()
    finally:
        eng.dispose()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("worklist-*.csv"):
        old.unlink()
    by_am: dict[str, list] = {}
    for r in rows:
        by_am.setdefault(r[0], []).append(r)
    counts = {}
    for am, rs in by_am.items():
        path = out_dir / f"worklist-{_safe(am)}.csv"
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(WORKLIST_COLUMNS)
            for (_am, rank, gid, gname, msisdn, carrier, on_net, score, likely, contacted) in rs:
                w.writerow([spreadsheet_safe(x) for x in (
                    campaign_id, am, rank, gid, gname or "", msisdn, carrier or "", "true" if on_net else "false",
                    round(float(score), 4), "true" if likely else "false", contacted, f"{float(c['offer_cost']):.2f}",
                    "", "", "",
                )])
        tmp.replace(path)
        counts[am] = len(rs)
    return counts


def export_targets(cfg: Config, campaign_id: str, out: str | Path, url: str | None = None) -> int:
    """Every selected target, hold-out included, with its clear number (for audits and for the
    synthetic operator's campaign simulation)."""
    from pipelines.export import spreadsheet_safe

    t, i = m.campaign_target, m.number_identity
    cols = ["campaign_id", "rank", "msisdn", "group_id", "holdout", "account_manager_id", "on_net", "carrier",
            "score", "likely_employee", "expected_value", "region"]
    eng = _engine(cfg, url)
    try:
        with eng.connect() as conn:
            c = _campaign(conn, campaign_id)
            rows = conn.execute(
                sa.select(t.c.campaign_id, t.c.rank, i.c.msisdn, t.c.group_id, t.c.holdout, t.c.account_manager_id,
                          t.c.on_net, t.c.carrier, t.c.score, t.c.likely_employee, t.c.expected_value, t.c.region)
                .join(i, i.c.number_key == t.c.number_key)
                .where(t.c.campaign_id == campaign_id).order_by(t.c.rank)
            ).fetchall()
    finally:
        eng.dispose()
    if c["status"] == "created":
        raise CampaignError(f"campaign {campaign_id} has no targets yet: run groupscope campaign select first")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([spreadsheet_safe("true" if v is True else "false" if v is False else "" if v is None else v) for v in r])
    return len(rows)


# ---------------------------------------------------------------- 4. feedback

def _raw_line(row: dict) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(["" if row[c] is None else str(row[c]) for c in CAMPAIGN_FEEDBACK.column_names])
    return buf.getvalue()


def feedback_campaigns(cfg: Config, landing: str | Path, period: str, url: str | None = None) -> dict:
    """Take the month's campaign_feedback: the contract checks run as at every ingest (bad rows are in the
    month's quarantine already); accepted rows are checked against the campaigns, and rows for an unknown
    campaign, a number that was not a target, or a hold-out target are quarantined with the reason. The
    rest replaces any earlier feedback of the same campaign and number (a re-delivery never doubles)."""
    from groupscope.contract import INPUT_TABLES
    from pipelines.ingest import QUARANTINE_SCHEMA, ingest_table, source_files
    from pipelines.load import pseudonym_key
    from transforms.privacy import number_key

    landing = Path(landing).resolve()
    work = cfg.work_path
    table = INPUT_TABLES["campaign_feedback"]
    if cfg.sources.sql.get("campaign_feedback") is None and not any(
            source_files(landing, table, k) for k in table.partition_keys(period)):
        raise CampaignError(f"missing partition: {table.partition_dir(table.partition_keys(period)[0])} under {landing}")
    url = db.database_url(cfg, url)
    key = pseudonym_key(cfg, url)
    con = cfg.duckdb_connect()
    parts = ingest_table(con, landing, work, "campaign_feedback", period, cfg.sources.encoding_of("campaign_feedback"),
                         cfg.sources.sql.get("campaign_feedback"))
    files = [work / "staged" / "campaign_feedback" / p.partition / f for p in parts for f in p.staged_paths]
    files = [f for f in files if f.exists()]
    contract_quarantined = sum(f.quarantined for p in parts for f in p.files)
    cols = CAMPAIGN_FEEDBACK.column_names + ["__file", "__row"]
    if files:
        rows = con.execute(
            "SELECT " + ", ".join(f'"{c}"' for c in cols) + " FROM read_parquet(["
            + ", ".join(f"'{f}'" for f in files) + "], union_by_name=true) ORDER BY __file, __row"
        ).fetchdf()
    else:
        rows = pd.DataFrame(columns=cols)
    rows["number_key"] = [number_key(key, x) for x in rows["msisdn"]]
    eng = _engine(cfg, url)
    q: list[tuple] = []
    try:
        with eng.begin() as conn:
            db.lock(conn, cfg)
            camps = {r.campaign_id: r for r in conn.execute(sa.select(m.campaign.c.campaign_id, m.campaign.c.period,
                                                                       m.campaign.c.status))}
            t = m.campaign_target
            ids = sorted(set(rows["campaign_id"]) & set(camps))
            tgt = {}
            if ids:
                for cid, nk, hold in conn.execute(sa.select(t.c.campaign_id, t.c.number_key, t.c.holdout).where(t.c.campaign_id.in_(ids))):
                    tgt[(cid, nk)] = hold
            ok = []
            for r in rows.to_dict("records"):
                cid, nk = r["campaign_id"], r["number_key"]
                reason, col = None, None
                if cid not in camps:
                    reason, col = "campaign_id not a known campaign", "campaign_id"
                elif camps[cid].status in ("created", "selected"):
                    reason, col = f"campaign {cid} was not assigned to account managers", "campaign_id"
                elif period < camps[cid].period:
                    reason, col = f"feedback month before the campaign's period {camps[cid].period}", "campaign_id"
                elif (cid, nk) not in tgt:
                    reason, col = f"msisdn not a target of campaign {cid}", "msisdn"
                elif tgt[(cid, nk)]:
                    reason, col = f"msisdn is a hold-out target of campaign {cid} (not to be approached)", "msisdn"
                if reason:
                    q.append(("campaign_feedback", r["__file"], int(r["__row"]), col, reason, _raw_line(r)))
                else:
                    ok.append(r)
            f = m.campaign_feedback
            # this month's delivery replaces what this month delivered before, and any earlier row of the
            # same campaign and number
            conn.execute(f.delete().where(f.c.feedback_period == period))
            acc = pd.DataFrame(ok, columns=list(rows.columns))
            for cid, grp in acc.groupby("campaign_id"):
                keys = grp["number_key"].tolist()
                for i in range(0, len(keys), 500):
                    conn.execute(f.delete().where(f.c.campaign_id == cid, f.c.number_key.in_(keys[i:i + 500])))
            if len(acc):
                acc = acc.assign(feedback_period=period, file=acc["__file"],
                                 cost_yuan=acc["cost_yuan"].astype(float))
                conn.execute(f.insert(), _records(acc, ["campaign_id", "number_key", "account_manager_id", "outcome",
                                                         "contacted_at", "cost_yuan", "feedback_period", "file"]))
                conn.execute(m.campaign.update().where(m.campaign.c.campaign_id.in_(sorted(set(acc["campaign_id"]))),
                                                       m.campaign.c.status == "assigned").values(status="feedback"))
    finally:
        eng.dispose()
    qdir = work / "quarantine" / REFERENCE_QUARANTINE / f"month={period}"
    qdir.mkdir(parents=True, exist_ok=True)
    cols_q = list(zip(*q)) if q else [[] for _ in QUARANTINE_SCHEMA.names]
    pq.write_table(pa.table([pa.array(list(c), t) for c, t in zip(cols_q, QUARANTINE_SCHEMA.types)], schema=QUARANTINE_SCHEMA),
                   qdir / "campaign-references.parquet")
    reloaded = _reload_quarantine(cfg, period, url)
    return {"period": period, "read": len(rows) + contract_quarantined, "applied": len(ok),
            "quarantined": len(q) + contract_quarantined, "quarantined_references": len(q),
            "quarantined_contract": contract_quarantined, "campaigns": sorted(set(acc["campaign_id"])) if len(acc) else [],
            "quarantine_loaded": reloaded}


def _reload_quarantine(cfg: Config, period: str, url: str) -> bool:
    """Bring the month's quarantine in the reporting database up to date when the month has been run."""
    if not (cfg.work_path / "runs" / f"period={period}" / "summary.json").exists():
        return False
    from pipelines.run import load_results

    load_results(cfg, period, url, ingest_only=True)
    return True


# ---------------------------------------------------------------- 5. evaluate

def evaluate_campaign(cfg: Config, campaign_id: str, through: str | None = None, tranches: int = 5,
                      url: str | None = None, refresh: bool = True) -> pd.DataFrame:
    """Evaluate a campaign with the bills of the months after its period up to `through` (default: the
    latest month loaded); stores and returns the evaluation rows. With `refresh`, the month reports
    written for its period and later show the new results (their paths in the result's attrs["reports"])."""
    eng = _engine(cfg, url)
    try:
        with eng.begin() as conn:
            db.lock(conn, cfg)
            c = _campaign(conn, campaign_id)
            if c["status"] in ("created", "selected"):
                raise CampaignError(f"campaign {campaign_id} was not assigned: nothing was approached yet")
            v = m.fact_subscriber_value
            loaded = sorted(conn.execute(sa.select(m.dim_period.c.period).where(m.dim_period.c.period > c["period"])).scalars())
            if through is not None:
                loaded = [p for p in loaded if p <= through]
            if not loaded:
                raise CampaignError(f"no month after {c['period']} is loaded: run the following months before evaluating {campaign_id}")
            through = loaded[-1]
            t = m.campaign_target
            targets = _frame(conn, sa.select(t.c.number_key, t.c.rank, t.c.holdout, t.c.on_net, t.c.likely_employee,
                                             t.c.account_manager_id).where(t.c.campaign_id == campaign_id))
            f = m.campaign_feedback
            fb = _frame(conn, sa.select(f.c.number_key, f.c.outcome, f.c.cost_yuan).where(f.c.campaign_id == campaign_id))
            tv = sa.select(t.c.number_key).where(t.c.campaign_id == campaign_id).scalar_subquery()
            later = _frame(conn, sa.select(v.c.number_key, v.c.period, v.c.revenue)
                           .where(v.c.period > c["period"], v.c.period <= through, v.c.number_key.in_(tv)))
            base = _frame(conn, sa.select(v.c.number_key, v.c.revenue).where(v.c.period == c["period"], v.c.number_key.in_(tv)))
            out = tc.target_outcomes(targets, fb, later, base)
            ev = tc.evaluate_outcomes(out, tranches).assign(campaign_id=campaign_id, evaluated_through=through)
            e = m.campaign_evaluation
            conn.execute(e.delete().where(e.c.campaign_id == campaign_id))
            conn.execute(e.insert(), _records(ev, [col.name for col in e.c]))
            conn.execute(m.campaign.update().where(m.campaign.c.campaign_id == campaign_id).values(status="evaluated"))
    finally:
        eng.dispose()
    if refresh:
        ev.attrs["reports"] = _refresh_reports(cfg, c["period"], url)
    return ev


def _refresh_reports(cfg: Config, since: str, url: str | None) -> list[Path]:
    from pipelines.report import refresh_reports

    return refresh_reports(cfg, since, url)


def evaluate_all(cfg: Config, url: str | None = None, tranches: int = 5) -> dict[str, str]:
    """Evaluate every approached campaign that has a later month loaded; returns campaign -> through."""
    eng = _engine(cfg, url)
    try:
        with eng.connect() as conn:
            c = m.campaign
            latest = conn.execute(sa.select(sa.func.max(m.dim_period.c.period))).scalar()
            todo = dict(conn.execute(sa.select(c.c.campaign_id, c.c.period).where(
                c.c.status.in_(("assigned", "feedback", "evaluated")), c.c.period < (latest or "")
            ).order_by(c.c.campaign_id)).all())
    finally:
        eng.dispose()
    done = {cid: str(evaluate_campaign(cfg, cid, None, tranches, url, refresh=False)["evaluated_through"].iloc[0])
            for cid in todo}
    if todo:  # the month reports that show these campaigns, once
        _refresh_reports(cfg, min(todo.values()), url)
    return done



def evaluation_text(ev: pd.DataFrame) -> str:
    def pct(x):
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"

    def num(x):
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"

    lines = [f"{'level':<16}{'key':<24}{'targets':>8}{'contacted':>10}{'converted':>10}{'conv.':>8}"
             f"{'billed':>8}{'revenue':>11}{'cost':>10}{'ROI':>8}{'uplift':>8}"]
    for r in ev.itertuples(index=False):
        lines.append(f"{r.level:<16}{str(r.level_key)[:23]:<24}{r.targets:>8}{r.contacted:>10}{r.converted:>10}"
                     f"{pct(r.conversion_rate):>8}{pct(r.billed_rate):>8}{r.revenue:>11.2f}{r.cost:>10.2f}"
                     f"{num(r.roi):>8}{pct(r.uplift):>8}")
    return "\n".join(lines)


# ---------------------------------------------------------------- list / show

def list_campaigns(cfg: Config, url: str | None = None) -> list[dict]:
    eng = _engine(cfg, url)
    try:
        with eng.connect() as conn:
            c = m.campaign
            return [dict(r) for r in conn.execute(
                sa.select(c.c.campaign_id, c.c.name, c.c.period, c.c.status, c.c.targets, c.c.holdout, c.c.budget)
                .order_by(c.c.campaign_id)).mappings()]
    finally:
        eng.dispose()


def show_campaign(cfg: Config, campaign_id: str, url: str | None = None) -> str:
    eng = _engine(cfg, url)
    try:
        with eng.connect() as conn:
            c = _campaign(conn, campaign_id)
            t, f, e = m.campaign_target, m.campaign_feedback, m.campaign_evaluation
            by = conn.execute(sa.select(t.c.assignment, sa.func.count()).where(t.c.campaign_id == campaign_id)
                              .group_by(t.c.assignment).order_by(t.c.assignment)).fetchall()
            fb = conn.execute(sa.select(f.c.outcome, sa.func.count()).where(f.c.campaign_id == campaign_id)
                              .group_by(f.c.outcome).order_by(f.c.outcome)).fetchall()
            ev = _frame(conn, sa.select(e).where(e.c.campaign_id == campaign_id).order_by(e.c.level, e.c.level_key))
    finally:
        eng.dispose()
    lines = [
        f"campaign {c['campaign_id']}: {c['name']} ({c['status']})",
        f"  period {c['period']}; criteria {c['criteria']}",
        f"  offer cost {float(c['offer_cost']):.2f} yuan, budget {float(c['budget']):.2f} yuan, capacity "
        f"{c['capacity_per_am']} per account manager, hold-out {c['holdout_share']:.0%}, seed {c['seed']}",
    ]
    if c["targets"] is not None:
        lines.append(f"  {c['candidates']} candidates, {c['targets']} targets ({c['holdout']} hold-out); cut-off at rank "
                     f"{c['cutoff_rank']} (expected value {c['cutoff_expected_value'] or 0:.2f}) by {c['cutoff_reason']}")
    if by:
        lines.append("  assignment: " + ", ".join(f"{a or 'none'} {n}" for a, n in by))
    if fb:
        lines.append("  feedback: " + ", ".join(f"{o} {n}" for o, n in fb))
    if len(ev):
        ev = ev.assign(revenue=ev["revenue"].astype(float), cost=ev["cost"].astype(float))
        lines.append(f"  evaluation through {ev['evaluated_through'].iloc[0]}:")
        lines.append("    " + evaluation_text(ev).replace("\n", "\n    "))
    return "\n".join(lines)


# ---------------------------------------------------------------- stages for the scheduler

def latest_loaded_period(cfg: Config, url: str | None = None) -> str:
    eng = _engine(cfg, url)
    try:
        with eng.connect() as conn:
            p = conn.execute(sa.select(sa.func.max(m.dim_period.c.period))).scalar()
    finally:
        eng.dispose()
    if p is None:
        raise CampaignError("no month is loaded in the reporting database: run a period first")
    return p


def stage_feedback(cfg: Config, landing: str, period: str, url: str | None = None) -> dict:
    """The month's feedback when its partition was delivered (it is optional); else nothing to do."""
    from groupscope.contract import INPUT_TABLES
    from pipelines.ingest import source_files

    t = INPUT_TABLES["campaign_feedback"]
    delivered = cfg.sources.sql.get("campaign_feedback") is not None or any(
        source_files(Path(landing), t, k) for k in t.partition_keys(period))
    if not delivered:
        return {"period": period, "read": 0, "applied": 0, "quarantined": 0, "campaigns": []}
    return feedback_campaigns(cfg, landing, period, url)


def stage_targets(cfg: Config, campaign_id: str, url: str | None = None) -> str:
    """Every target of the campaign (hold-out included) to work_dir/exports/campaigns/<id>/targets.csv."""
    out = cfg.work_path / "exports" / "campaigns" / campaign_id / "targets.csv"
    export_targets(cfg, campaign_id, out, url)
    return str(out)
