"""Group analytics stage: call graph, member coupling and fake scores, potential members, market share.

Reads the period's staged tables and the calls table; writes derived Parquet under
WORK/derived/<name>/period=P/ and returns their paths (never data frames).
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

import duckdb

from groupscope.config import Config
from pipelines.transform import derived_path, staged_glob, write_parquet
from transforms.communities import (
    community_core_sql,
    leiden_communities,
    prospect_edges_sql,
    prospect_members_sql,
    prospects_sql,
)
from transforms.graph import activity_sql, adjacency_sql, call_graph_sql, events_sql, presence_sql
from transforms.market import calibration_sql, group_counts_sql, market_share_sql
from transforms.membership import member_features_sql, profile_sql
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
    # registered members at period end, of active groups
    con.execute(
        "CREATE OR REPLACE TEMP TABLE members AS SELECT DISTINCT m.group_id, m.msisdn FROM memberships AS m "
        "JOIN groups AS g ON g.group_id = m.group_id "
        f"WHERE g.status = 'active' AND m.joined_at <= DATE {lit(end)} AND (m.left_at IS NULL OR m.left_at > DATE {lit(end)})"
    )
    ws, we = a.working_hours
    steps = [
        ("events", events_sql("calls", ws, we)),
        ("graph", call_graph_sql("events")),
        ("adj", adjacency_sql("graph")),
        ("presence", presence_sql("events")),
        ("activity", activity_sql("calls")),
        ("profile", profile_sql("events")),
        ("numbers", numbers_sql("calls", cfg.home_carrier)),
        ("features", member_features_sql("members", "adj", "presence", "profile", "activity")),
        ("refs", group_reference_sql("features")),
        ("fake", fake_scores_sql("features", "refs")),
        ("candidates", candidate_features_sql("members", "adj", "presence", "numbers")),
        ("employee", employee_scores_sql("candidates", "refs")),
        ("counts", group_counts_sql("groups", "fake", "employee", a.fake_threshold, a.employee_score_threshold)),
        ("calibration", calibration_sql("counts", "surveys", a.min_surveys_per_industry)),
        ("market", market_share_sql("counts", "calibration")),
    ]
    for name, sql in steps:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    share = a.potential_member_share
    out = {
        "call_graph": write_parquet(con, "SELECT * FROM graph", derived_path(work, "call_graph", period)),
        "member_scores": write_parquet(
            con,
            f"SELECT *, fake_score >= {a.fake_threshold} AS is_suspect FROM fake ORDER BY group_id, msisdn",
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
    # prospect groups: Leiden communities of work-like ties outside the registered groups
    edges = con.execute(
        prospect_edges_sql(
            "graph", "members", "numbers", "employee", a.prospect_min_work_share, a.prospect_min_events,
            a.employee_score_threshold,
        )
    ).to_arrow_table()
    con.register("assign_arrow", leiden_communities(edges, a.prospect_resolution))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE assign AS " + community_core_sql("assign_arrow", "graph", a.prospect_min_ties)
    )
    con.unregister("assign_arrow")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE prospects AS "
        + prospects_sql(
            "assign", "numbers", "employee", "graph", "adj", "members", a.prospect_min_size,
            a.prospect_max_group_overlap, a.employee_score_threshold, a.prospect_max_group_attachment,
        )
    )
    out["prospect_groups"] = write_parquet(
        con, f"SELECT {lit(period)} AS period, * FROM prospects", derived_path(work, "prospect_groups", period)
    )
    out["prospect_members"] = write_parquet(
        con, prospect_members_sql("assign", "numbers", "prospects"), derived_path(work, "prospect_members", period)
    )
    return out
