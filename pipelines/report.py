"""The month's report: one self-contained HTML file per period, read from the reporting database.

`write_report` is the one report function: `groupscope run` calls it at the end of a month and the monthly
DAG's report task calls it too. It gathers the month's figures with SQL on the reporting schema (the
embedded DuckDB file or `--db URL`, the same SQL on both) into a `ReportData` of plain values, and hands
them to `pipelines.report_render`, whose functions only turn values into HTML and SVG charts.

The campaign section appears when the reporting schema has a `v_campaign_evaluation` view or table
(the win-over campaign workflow); without it the section is left out.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from groupscope.config import Config
from groupscope.console import get_logger
from groupscope.reporting import db
from transforms.market import scope_order

REPORT_NAME = "report.html"
log = get_logger("report")
CAMPAIGN_RELATION = "v_campaign_evaluation"
TOP_GROUPS = 15
CALLS_PER_AM = 10
MIN_LISTED_FOR_PURITY = 10  # the lowest-purity table leaves out groups too small for a share to mean much


class ReportError(ValueError):
    """The report cannot be written; str(e) is the one-line reason (exit status 2 on the command line)."""


@dataclass
class ReportData:
    period: str
    generated_at: str
    database: str
    data_docs_href: str | None = None
    periods_loaded: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    quarantine_reasons: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    purity: list[float] = field(default_factory=list)
    suspects_by_industry: list[dict] = field(default_factory=list)
    suspects_by_region: list[dict] = field(default_factory=list)
    padded_groups: list[dict] = field(default_factory=list)
    lowest_purity: list[dict] = field(default_factory=list)
    potential_groups: list[dict] = field(default_factory=list)
    market_share: list[float] = field(default_factory=list)
    market_trend: list[dict] = field(default_factory=list)
    # the month's share of the groups' employees: on-net staff (real members less data lines) in place of real members
    staff_share: float | None = None
    # the month's correction coefficients per scope (fact_market_calibration), global first, bands by size
    calibration: list[dict] = field(default_factory=list)
    pyramid: list[dict] = field(default_factory=list)
    grid: list[dict] = field(default_factory=list)
    campaigns: dict | None = None
    account_managers: list[dict] = field(default_factory=list)


def report_path(cfg: Config, period: str) -> Path:
    return cfg.work_path / "reports" / f"period={period}" / REPORT_NAME


def refresh_reports(cfg: Config, since: str, url: str | None = None) -> list[Path]:
    """Write again the month reports already written for `since` and later months (their campaign section
    changed, e.g. after a campaign of month `since` was evaluated); returns their paths."""
    root = cfg.work_path / "reports"
    periods = sorted(p.parent.name.split("=", 1)[1] for p in root.glob(f"period=*/{REPORT_NAME}")) if root.exists() else []
    done = []
    for period in (p for p in periods if p >= since):
        try:
            done.append(write_report(cfg, period, url))
        except ReportError as e:  # a month no longer loaded keeps its report as it was
            log.warning("report of %s not re-rendered: %s", period, e)
    return done


def data_docs_index(cfg: Config) -> Path:
    return cfg.work_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def write_report(cfg: Config, period: str, url: str | None = None, out: Path | str | None = None) -> Path:
    """Write the month's HTML report (default WORK/reports/period=P/report.html) and return its path."""
    from pipelines.report_render import render_report

    out = Path(out) if out else report_path(cfg, period)
    data = gather(cfg, period, url, out)
    html = render_report(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


# ---------------------------------------------------------------------------------------- gathering

def _rows(conn: sa.Connection, sql: str, **params) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def _f(v) -> float | None:
    return None if v is None else float(v)


def relation_exists(conn: sa.Connection, schema: str, name: str) -> bool:
    insp = sa.inspect(conn)
    return name in insp.get_view_names(schema=schema) or name in insp.get_table_names(schema=schema)


def gather(cfg: Config, period: str, url: str | None = None, out: Path | None = None) -> ReportData:
    """Every figure of the report for `period`, read from the reporting database."""
    rs = f'"{cfg.reporting.schema_name}"'  # a validated identifier (config pattern)
    eng = db.make_engine(cfg, url)
    out = out or report_path(cfg, period)
    docs = data_docs_index(cfg)
    data = ReportData(
        period=period,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        database=eng.url.render_as_string(hide_password=True),
        data_docs_href=os.path.relpath(docs, out.parent) if docs.exists() else None,
    )
    try:
        with eng.connect() as conn:
            if db.current_revision(eng, cfg) is None:
                raise ReportError(f"the reporting database {data.database} has no groupscope schema: run a period first")
            p = {"p": period}
            data.periods_loaded = [r["period"] for r in _rows(conn, f"SELECT period FROM {rs}.dim_period ORDER BY period")]
            if period not in data.periods_loaded:
                raise ReportError(f"period {period} is not loaded in {data.database}: run the period first")
            _gather_quality(conn, rs, p, data)
            _gather_groups(conn, rs, p, data)
            _gather_market(conn, rs, p, data)
            _gather_value(conn, rs, p, data)
            _gather_calls(conn, rs, p, data)
            if relation_exists(conn, cfg.reporting.schema_name, CAMPAIGN_RELATION):
                data.campaigns = _gather_campaigns(conn, rs, period)
    finally:
        eng.dispose()
    return data


def _gather_quality(conn, rs: str, p: dict, data: ReportData) -> None:
    data.sources = _rows(
        conn,
        f"SELECT source, count(*) AS files, sum(rows_read) AS rows_read, sum(accepted) AS accepted, "
        f"sum(quarantined) AS quarantined, "
        f"sum(CASE WHEN status IN ('unreadable', 'refused') THEN 1 ELSE 0 END) AS not_read FROM {rs}.fact_source_rows WHERE period = :p GROUP BY source ORDER BY source",
        **p,
    )
    data.quarantine_reasons = _rows(
        conn,
        f"SELECT source, reason, sum(rows) AS rows FROM {rs}.fact_quarantine_count WHERE period = :p "
        f"GROUP BY source, reason ORDER BY sum(rows) = 0 DESC, sum(rows) DESC, source, reason",  # whole files first
        **p,
    )
    data.checks = _rows(
        conn,
        f"SELECT source, expectation, severity, success, observed FROM {rs}.fact_data_quality "
        f"WHERE period = :p ORDER BY success, severity, source, check_no",
        **p,
    )


def _gather_groups(conn, rs: str, p: dict, data: ReportData) -> None:
    t = _rows(
        conn,
        f"SELECT count(*) AS groups_, coalesce(sum(listed_members), 0) AS listed, "
        f"coalesce(sum(suspect_members), 0) AS suspects, coalesce(sum(est_onnet_unregistered), 0) AS onnet_unreg, "
        f"coalesce(sum(est_offnet_employees), 0) AS offnet, coalesce(sum(real_members), 0) AS real_ "
        f"FROM {rs}.fact_group_month WHERE period = :p",
        **p,
    )[0]
    data.totals = {
        "groups": int(t["groups_"]), "listed": int(t["listed"]), "suspects": int(t["suspects"]),
        "onnet_unregistered": int(t["onnet_unreg"]), "offnet": float(t["offnet"]), "real": int(t["real_"]),
    }
    data.purity = [
        float(r["purity"]) for r in _rows(
            conn, f"SELECT purity FROM {rs}.fact_group_month WHERE period = :p AND purity IS NOT NULL", **p
        )
    ]
    for dim, target in (("industry", data.suspects_by_industry), ("region", data.suspects_by_region)):
        target += [
            {"label": r["label"], "groups": int(r["groups_"]), "listed": int(r["listed"]), "suspects": int(r["suspects"])}
            for r in _rows(
                conn,
                f"SELECT coalesce(g.{dim}, '(none)') AS label, count(*) AS groups_, sum(f.listed_members) AS listed, "
                f"sum(f.suspect_members) AS suspects FROM {rs}.fact_group_month AS f "
                f"LEFT JOIN {rs}.dim_group AS g ON g.period = f.period AND g.group_id = f.group_id "
                f"WHERE f.period = :p GROUP BY coalesce(g.{dim}, '(none)') ORDER BY sum(f.suspect_members) DESC, 1",
                **p,
            )
        ]
    data.padded_groups = _rows(
        conn,
        f"SELECT s.group_id, s.group_name, s.industry, s.region, s.account_manager_id, s.account_manager_name, "
        f"s.listed_members, s.suspect_members, s.purity FROM {rs}.v_group_scorecard AS s "
        f"WHERE s.period = :p AND s.suspect_members > 0 "
        f"ORDER BY s.suspect_members DESC, s.purity, s.group_id LIMIT {TOP_GROUPS}",
        **p,
    )
    data.lowest_purity = _rows(
        conn,
        f"SELECT s.group_id, s.group_name, s.industry, s.region, s.account_manager_id, s.account_manager_name, "
        f"s.listed_members, s.suspect_members, s.purity FROM {rs}.v_group_scorecard AS s "
        f"WHERE s.period = :p AND s.suspect_members > 0 AND s.listed_members >= {MIN_LISTED_FOR_PURITY} "
        f"ORDER BY s.purity, s.suspect_members DESC, s.group_id LIMIT {TOP_GROUPS}",
        **p,
    )
    data.potential_groups = _rows(
        conn,
        f"SELECT f.group_id, g.group_name, f.account_manager_id, "
        f"count(*) FILTER (WHERE f.on_net) AS onnet, count(*) FILTER (WHERE NOT f.on_net) AS offnet, "
        f"count(*) AS total FROM {rs}.fact_potential_member AS f "
        f"LEFT JOIN {rs}.dim_group AS g ON g.period = f.period AND g.group_id = f.group_id "
        f"WHERE f.period = :p AND f.likely_employee GROUP BY f.group_id, g.group_name, f.account_manager_id "
        f"ORDER BY count(*) DESC, f.group_id LIMIT {TOP_GROUPS}",
        **p,
    )


def _gather_market(conn, rs: str, p: dict, data: ReportData) -> None:
    data.market_share = [
        float(r["market_share"]) for r in _rows(
            conn, f"SELECT market_share FROM {rs}.fact_group_month WHERE period = :p AND market_share IS NOT NULL", **p
        )
    ]
    data.staff_share = _f(_rows(
        conn,
        f"SELECT (sum(real_members - data_lines) + sum(est_onnet_unregistered)) / nullif(sum(real_members - data_lines) + "
        f"sum(est_onnet_unregistered) + sum(est_offnet_employees), 0) AS s FROM {rs}.fact_group_month WHERE period = :p",
        **p,
    )[0]["s"])
    data.calibration = sorted(
        _rows(conn, f"SELECT scope, surveys, surveys_excluded, status, coefficient, loo_mae_pp, rule_coefficient, rule_loo_mae_pp "
                    f"FROM {rs}.fact_market_calibration WHERE period = :p", **p),
        key=lambda r: scope_order(r["scope"]),
    )
    data.market_trend = [
        {"period": r["period"], "groups": int(r["groups_"]), "mean_share": _f(r["mean_share"]),
         "overall_share": _f(r["overall_share"]), "gained": int(r["gained"] or 0), "lost": int(r["lost"] or 0),
         "compared": int(r["compared"] or 0)}
        for r in _rows(
            conn,
            f"SELECT period, count(*) AS groups_, avg(market_share) AS mean_share, "
            f"(sum(real_members) + sum(est_onnet_unregistered)) / nullif(sum(real_members) + "
            f"sum(est_onnet_unregistered) + sum(est_offnet_employees), 0) AS overall_share, "
            f"count(*) FILTER (WHERE change > 0.005) AS gained, count(*) FILTER (WHERE change < -0.005) AS lost, "
            f"count(change) AS compared "
            f"FROM {rs}.v_market_share_trend WHERE period <= :p GROUP BY period ORDER BY period",
            **p,
        )
    ]


def _gather_value(conn, rs: str, p: dict, data: ReportData) -> None:
    data.pyramid = [
        {"tier": r["value_tier"], "groups": int(r["entities"]), "revenue": _f(r["revenue"]) or 0.0}
        for r in _rows(
            conn,
            f"SELECT value_tier, entities, revenue FROM {rs}.v_value_pyramid WHERE period = :p AND level = 'group' "
            f"AND value_tier IS NOT NULL ORDER BY value_tier",
            **p,
        )
    ]
    data.grid = [
        {"cell": r["value_grid"], "groups": int(r["entities"])}
        for r in _rows(
            conn,
            f"SELECT value_grid, entities FROM {rs}.v_value_grid WHERE period = :p AND level = 'group' "
            f"AND value_grid IS NOT NULL ORDER BY value_grid",
            **p,
        )
    ]


def _gather_calls(conn, rs: str, p: dict, data: ReportData) -> None:
    """Per account manager: counts of the worklist's actions, its most padded group, and the calls to make first."""
    ams = _rows(
        conn,
        f"SELECT f.account_manager_id, max(m.name) AS name, max(m.region) AS region, count(*) AS groups_, "
        f"sum(f.listed_members) AS listed, sum(f.suspect_members) AS suspects "
        f"FROM {rs}.fact_group_month AS f LEFT JOIN {rs}.dim_account_manager AS m "
        f"ON m.period = f.period AND m.account_manager_id = f.account_manager_id "
        f"WHERE f.period = :p AND f.account_manager_id IS NOT NULL GROUP BY f.account_manager_id "
        f"ORDER BY sum(f.suspect_members) DESC, f.account_manager_id",
        **p,
    )
    counts = {
        (r["account_manager_id"], r["action"]): int(r["n"])
        for r in _rows(
            conn,
            f"SELECT account_manager_id, action, count(*) AS n FROM {rs}.v_account_manager_worklist "
            f"WHERE period = :p GROUP BY account_manager_id, action",
            **p,
        )
    }
    top = _rows(
        conn,
        f"SELECT * FROM (SELECT account_manager_id, group_name, group_id, action, number_masked, score, carrier, "
        f"members_contacted, detail, row_number() OVER (PARTITION BY account_manager_id "
        f"ORDER BY score DESC, members_contacted DESC NULLS LAST, group_id, number_key) AS k "
        f"FROM {rs}.v_account_manager_worklist WHERE period = :p) AS w WHERE k <= {CALLS_PER_AM} "
        f"ORDER BY account_manager_id, k",
        **p,
    )
    worst = {
        r["account_manager_id"]: r
        for r in _rows(
            conn,
            f"SELECT * FROM (SELECT s.account_manager_id, s.group_name, s.group_id, s.suspect_members, s.purity, "
            f"row_number() OVER (PARTITION BY s.account_manager_id ORDER BY s.suspect_members DESC, s.group_id) AS k "
            f"FROM {rs}.v_group_scorecard AS s WHERE s.period = :p AND s.suspect_members > 0) AS w WHERE k = 1",
            **p,
        )
    }
    for a in ams:
        am = a["account_manager_id"]
        data.account_managers.append({
            "id": am, "name": a["name"], "region": a["region"], "groups": int(a["groups_"]),
            "listed": int(a["listed"] or 0), "suspects": int(a["suspects"] or 0),
            "verify": counts.get((am, "verify suspected fake member"), 0),
            "register": counts.get((am, "register on-net employee"), 0),
            "win": counts.get((am, "win over competitor user"), 0),
            "worst_group": worst.get(am),
            "calls": [r for r in top if r["account_manager_id"] == am],
        })


# Columns of the campaign view shown when present (the view may carry more); others are left out.
CAMPAIGN_COLUMNS = ["campaign_id", "campaign_name", "period", "status", "level_key", "evaluated_through", "targets",
                    "contacted", "converted", "conversion_rate", "billed_rate", "revenue", "cost", "roi", "uplift"]


def _gather_campaigns(conn, rs: str, period: str) -> dict:
    """Campaigns of this month and before: the overall rows (level `campaign` when the view has levels) and
    the rows per account manager."""
    res = conn.execute(sa.text(f"SELECT * FROM {rs}.{CAMPAIGN_RELATION}"))
    cols = list(res.keys())
    rows = [dict(zip(cols, r)) for r in res]
    if "period" in cols:
        rows = [r for r in rows if r["period"] is None or str(r["period"]) <= period]
    shown = [c for c in CAMPAIGN_COLUMNS if c in cols] or cols
    overall, per_am = rows, []
    if "level" in cols:
        overall = [r for r in rows if r["level"] == "campaign"]
        per_am = [r for r in rows if r["level"] == "account_manager"]
    return {
        "columns": [c for c in shown if c != "level_key"], "rows": [[r[c] for c in shown if c != "level_key"]
                                                                    for r in overall][:200],
        "am_columns": shown, "am_rows": [[r[c] for c in shown] for r in per_am][:500],
        "total": len(overall),
    }
