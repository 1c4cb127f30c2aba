"""Group analytics stage: call graph, member coupling and fake scores, potential members, market share.

Reads the period's staged tables and the calls table; writes derived Parquet under
WORK/derived/<name>/period=P/ and returns their paths (never data frames).
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import duckdb

from groupscope.config import AnalyticsConfig, Config
from groupscope.console import progress
from pipelines.transform import derived_path, staged_glob, write_parquet
from transforms.communities import (
    leiden_teams,
    merge_teams,
    node_edges_sql,
    prospect_assignment_sql,
    prospect_edges_sql,
    prospect_members_sql,
    prospects_sql,
    team_core_sql,
    team_links_sql,
    team_nodes_sql,
    team_stats_sql,
)
from transforms.graph import activity_sql, adjacency_sql, call_graph_sql, events_sql, presence_sql
from transforms.market import calibration_sql, group_counts_sql, market_share_sql
from transforms.membership import colleague_ties_sql, member_features_sql, profile_sql
from transforms.potential import candidate_features_sql, numbers_sql
from transforms.scores import employee_scores_sql, fake_scores_sql, group_reference_sql
from transforms.sql import lit

OUTPUTS = (
    "call_graph",
    "member_scores",
    "potential_members",
    "group_summary",
    "market_calibration",
    "prospect_groups",
    "prospect_members",
)


def period_end(period: str) -> date:
    y, m = (int(x) for x in period.split("-"))
    return date(y, m, calendar.monthrange(y, m)[1])


def _earlier_periods(period: str, months: int) -> list[str]:
    y, m = (int(x) for x in period.split("-"))
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def _surveys_relation(work: Path, period: str, months: int) -> str:
    files = []
    for p in _earlier_periods(period, months):
        files += sorted((work / "staged" / "surveys" / f"month={p}").glob("*.parquet"))
    if not files:
        return "(SELECT CAST(NULL AS VARCHAR) AS group_id, CAST(NULL AS BIGINT) AS surveyed_headcount, CAST(NULL AS DATE) AS surveyed_at WHERE false)"
    return "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "], union_by_name=true)"


# last month's group summary as the month-over-month change needs it
PREVIOUS_COLUMNS = {
    "group_id": "VARCHAR", "onnet_registered_staff": "BIGINT", "onnet_detected": "BIGINT", "offnet_detected": "BIGINT",
    "offnet_key_competitor": "BIGINT", "correction_coefficient": "DOUBLE", "rule_correction_coefficient": "DOUBLE",
}


def _previous_summary(con: duckdb.DuckDBPyConnection, work: Path, period: str) -> str:
    """Query of the previous month's group summary (empty when that month has no results); columns a
    summary written by an older version lacks are NULL."""
    prev = _earlier_periods(period, 2)[1]
    path = derived_path(work, "group_summary", prev)
    if not path.exists():
        return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in PREVIOUS_COLUMNS.items()) + " WHERE false"
    rel = f"read_parquet({lit(str(path))})"
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    cols = ", ".join(f"CAST({c if c in have else 'NULL'} AS {t}) AS {c}" for c, t in PREVIOUS_COLUMNS.items())
    return f"SELECT {cols} FROM {rel}"


def build_group_analytics(cfg: Config, period: str, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Path]:
    work = cfg.work_path
    a = cfg.analytics
    con = con or cfg.duckdb_connect()
    calls = derived_path(work, "calls", period)
    con.execute(f"CREATE OR REPLACE TEMP VIEW calls AS SELECT * FROM read_parquet({lit(str(calls))})")
    con.execute(f"CREATE OR REPLACE TEMP VIEW groups AS SELECT * FROM {staged_glob(work, 'groups', period)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW memberships AS SELECT * FROM {staged_glob(work, 'memberships', period)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW surveys AS SELECT * FROM {_surveys_relation(work, period, a.survey_months)}")
    end = period_end(period).isoformat()
    con.execute(f"CREATE OR REPLACE TEMP VIEW subscribers AS SELECT * FROM {staged_glob(work, 'subscribers', period)}")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW billing AS SELECT msisdn, CAST(voice_fee AS DOUBLE) AS voice_fee, "
        "CAST(data_fee AS DOUBLE) AS data_fee, CAST(sms_fee AS DOUBLE) AS sms_fee, CAST(vas_fee AS DOUBLE) AS vas_fee "
        f"FROM {staged_glob(work, 'billing', period)} WHERE bill_month = {lit(period)}"
    )
    # registered members at period end, of active groups; since = the later of joining and activating the line
    con.execute(
        "CREATE OR REPLACE TEMP TABLE members AS SELECT m.group_id, m.msisdn, "
        "CASE WHEN bool_or(m.member_role = 'key_person') THEN 'key_person' ELSE max(m.member_role) END AS member_role, "
        "greatest(max(m.joined_at), coalesce(max(s.activated_at), max(m.joined_at))) AS since FROM memberships AS m "
        "JOIN groups AS g ON g.group_id = m.group_id "
        "LEFT JOIN (SELECT msisdn, max(activated_at) AS activated_at FROM subscribers WHERE status <> 'closed' GROUP BY msisdn) AS s "
        "ON s.msisdn = m.msisdn "
        f"WHERE g.status = 'active' AND m.joined_at <= DATE {lit(end)} AND (m.left_at IS NULL OR m.left_at > DATE {lit(end)}) "
        "GROUP BY m.group_id, m.msisdn"
    )
    from pipelines.transform import register_calendar

    register_calendar(con, cfg, "calls", "work_calendar")  # working time (config section calendar)
    mc = a.model
    tie = (mc.tie_work_share, mc.tie_min_work_events)
    steps = [
        ("events", events_sql("calls", "work_calendar")),
        ("all_events", events_sql("calls", "work_calendar", nodes_only=False)),
        ("graph", call_graph_sql("events")),
        ("adj", adjacency_sql("graph")),
        ("presence", presence_sql("all_events")),
        ("activity", activity_sql("calls")),
        ("profile", profile_sql("events")),
        ("numbers", numbers_sql("calls", cfg.home_carrier)),
        ("features", member_features_sql("members", "adj", "presence", "profile", "activity", "billing", *tie, end)),
        ("refs", group_reference_sql("features", "groups", mc)),
        ("candidates", candidate_features_sql("members", "adj", "presence", "numbers")),
        ("employee", employee_scores_sql("candidates", "refs", mc)),
        ("colleagues", colleague_ties_sql(
            "members", "adj", f"(SELECT group_id, msisdn FROM employee WHERE score >= {a.employee_score_threshold})", *tie)),
        ("fake", fake_scores_sql("features", "refs", "colleagues", mc, a.fake_threshold)),
        ("counts", group_counts_sql(
            "groups", "fake", "employee", a.fake_threshold, a.employee_score_threshold, a.potential_member_share,
            mc.size_bands)),
        ("calibration", calibration_sql("counts", "surveys", a.min_surveys_per_industry, mc.size_bands)),
        ("previous", _previous_summary(con, work, period)),
        ("market", market_share_sql("counts", "calibration", "previous")),
    ]
    with progress(len(steps), "call graph, scores") as bar:
        for name, sql in steps:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
            bar.advance()
    share = a.potential_member_share
    out = {
        "call_graph": write_parquet(con, "SELECT * FROM graph", derived_path(work, "call_graph", period)),
        "member_scores": write_parquet(
            con,
            "SELECT * FROM fake ORDER BY group_id, msisdn",
            derived_path(work, "member_scores", period),
        ),
        "potential_members": write_parquet(
            con,
            f"SELECT *, score >= {a.employee_score_threshold} AS likely_employee FROM employee "
            f"WHERE member_share > {share} OR score >= {a.employee_score_threshold} ORDER BY group_id, score DESC, msisdn",
            derived_path(work, "potential_members", period),
        ),
        "group_summary": write_parquet(
            con, f"SELECT {lit(period)} AS period, * FROM market ORDER BY group_id", derived_path(work, "group_summary", period)
        ),
        "market_calibration": write_parquet(
            con, f"SELECT {lit(period)} AS period, * FROM calibration", derived_path(work, "market_calibration", period)
        ),
    }
    out.update(_prospects(con, cfg, period))
    return out


def _prospects(con: duckdb.DuckDBPyConnection, cfg: Config, period: str) -> dict[str, Path]:
    work = cfg.work_path
    regions = (
        f"(SELECT msisdn, min(region) AS region FROM {staged_glob(work, 'subscribers', period)} "
        "WHERE status <> 'closed' GROUP BY msisdn)"
    )
    groups_sql, members_sql = build_prospects(con, cfg.analytics, regions)
    return {
        "prospect_groups": write_parquet(
            con, f"SELECT {lit(period)} AS period, * FROM ({groups_sql})", derived_path(work, "prospect_groups", period)
        ),
        "prospect_members": write_parquet(con, members_sql, derived_path(work, "prospect_members", period)),
    }


def build_prospects(con: duckdb.DuckDBPyConnection, a: AnalyticsConfig, regions: str) -> tuple[str, str]:
    """Prospect groups from the relations graph, adj, numbers, members and employee on `con`: teams
    (Leiden CPM) of work-like ties outside the registered groups, cut to their core, without the teams
    that are a registered group's staff, merged into companies by their links. Returns the queries of
    the prospect groups and of their numbers."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE p_edges AS "
        + prospect_edges_sql(
            "graph", "members", "numbers", "employee", a.prospect_min_work_share, a.prospect_min_events,
            a.employee_score_threshold,
        )
    )
    con.execute("CREATE OR REPLACE TEMP TABLE p_nodes AS " + team_nodes_sql("p_edges", a.prospect_min_ties))
    n_nodes = con.execute("SELECT count(*) FROM p_nodes").fetchall()[0][0]
    teams = leiden_teams(n_nodes, con.sql(node_edges_sql("p_edges", "p_nodes")).to_arrow_table(), a.prospect_team_density)
    con.register("p_teams_arrow", teams)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE p_teams AS SELECT n.number, t.team FROM p_teams_arrow AS t JOIN p_nodes AS n USING (node)"
    )
    con.unregister("p_teams_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE p_core AS " + team_core_sql("p_teams", "p_edges", a.prospect_min_ties))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE p_kept AS "
        + team_stats_sql("p_core", "graph", "adj", "members", a.prospect_max_group_attachment)
    )
    links = con.sql(team_links_sql("p_core", "p_kept", "p_edges", a.prospect_link_ties, a.prospect_link_numbers)).to_arrow_table()
    con.register("p_merged_arrow", merge_teams(con.sql("SELECT team FROM p_kept").to_arrow_table(), links))
    con.execute("CREATE OR REPLACE TEMP TABLE p_merged AS SELECT * FROM p_merged_arrow")
    con.unregister("p_merged_arrow")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE p_assign AS " + prospect_assignment_sql("p_core", "p_merged", a.prospect_min_size)
    )
    return (
        prospects_sql("p_assign", "numbers", regions, "graph", "adj", "members"),
        prospect_members_sql("p_assign", "numbers"),
    )
