"""Group analytics stage: call graph, member coupling and fake scores, potential members, market share.

Reads the period's staged tables and the calls table; writes derived Parquet under
WORK/derived/<name>/period=P/ and returns their paths (never data frames).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from groupscope.config import AnalyticsConfig, Config
from groupscope.console import progress
from groupscope.period import Period
from pipelines.engine import Engine, engine_for
from pipelines.storage import derived_files, derived_path, staged_files
from transforms.communities import (
    leiden_teams,
    merge_teams,
    node_edges_sql,
    prospect_assignment_sql,
    prospect_edges_sql,
    prospect_members_sql,
    prospects_sql,
    team_core_sql,
    team_graph_sql,
    team_links_sql,
    team_nodes_sql,
    team_stats_sql,
)
from transforms.graph import (
    ACTIVITY_COLUMNS,
    ADJACENCY_COLUMNS,
    BIN_COLUMNS,
    CALL_GRAPH_COLUMNS,
    activity_sql,
    adjacency_profile_sql,
    adjacency_sql,
    call_graph_sql,
    events_sql,
    number_sides_sql,
    presence_sql,
)
from transforms.market import calibration_sql, group_counts_sql, market_share_sql, surveyed_groups_sql
from transforms.membership import colleague_ties_sql, member_features_sql
from transforms.potential import (
    candidate_features_sql,
    candidate_totals_sql,
    group_cells_sql,
    member_keys_sql,
    member_ties_sql,
    numbers_sql,
)
from transforms.scores import employee_scores_sql, fake_scores_sql, group_reference_sql
from transforms.sql import lit

OUTPUTS = (
    "call_graph",
    "numbers",
    "number_activity",
    "member_scores",
    "potential_members",
    "group_summary",
    "market_calibration",
    "prospect_groups",
    "prospect_members",
)


def period_end(period: str) -> date:
    return Period.parse(period).end


SURVEY_COLUMNS = {"group_id": "VARCHAR", "surveyed_headcount": "BIGINT", "surveyed_at": "DATE"}


def register_surveys(eng: Engine, work: Path, period: str, months: int) -> None:
    """The staged surveys of the `months` months up to `period` as relation `surveys`, one row per group
    and day (the latest delivery)."""
    files = []
    for p in Period.parse(period).back(months):
        files += sorted(str(f) for f in (work / "staged" / "surveys" / f"month={p}").glob("*.parquet"))
    if files:
        # one row per group and day: a survey delivered again in a later month's folder (a correction)
        # replaces the earlier delivery (month=YYYY-MM folders sort by time)
        eng.register_parquet("surveys_staged", files)
        eng.view("surveys", "SELECT group_id, surveyed_headcount, surveyed_at FROM (SELECT *, row_number() OVER "
                 "(PARTITION BY group_id, surveyed_at ORDER BY __file DESC) AS rk FROM surveys_staged) AS s WHERE rk = 1")
    else:
        eng.empty("surveys", SURVEY_COLUMNS)


# last month's group summary as the month-over-month change needs it
PREVIOUS_COLUMNS = {
    "group_id": "VARCHAR", "real_members": "BIGINT", "onnet_registered_staff": "BIGINT", "onnet_detected": "BIGINT", "offnet_detected": "BIGINT",
    "offnet_key_competitor": "BIGINT", "correction_coefficient": "DOUBLE", "rule_correction_coefficient": "DOUBLE",
    "onnet_expected": "DOUBLE", "offnet_expected": "DOUBLE",
}
# a summary written before the expected counts existed: its hard counts stand in for them
PREVIOUS_FALLBACK = {"onnet_expected": "onnet_detected", "offnet_expected": "offnet_detected"}


def _previous_summary(eng: Engine, work: Path, period: str) -> str:
    """Query of the previous month's group summary (empty when that month has no results); columns a
    summary written by an older version lacks are NULL."""
    path = derived_path(work, "group_summary", str(Period.parse(period).previous))
    if not path.exists():
        return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in PREVIOUS_COLUMNS.items()) + " WHERE false"
    eng.register_parquet("previous_summary_file", [path])
    have = set(eng.to_arrow("SELECT * FROM previous_summary_file LIMIT 0").column_names)
    def pick(c: str) -> str:
        if c in have:
            return c
        return PREVIOUS_FALLBACK[c] if PREVIOUS_FALLBACK.get(c) in have else "NULL"

    cols = ", ".join(f"CAST({pick(c)} AS {t}) AS {c}" for c, t in PREVIOUS_COLUMNS.items())
    return f"SELECT {cols} FROM previous_summary_file"


def build_group_analytics(cfg: Config, period: str, con=None) -> dict[str, Path]:
    """`con`: an Engine, a DuckDB connection, or None for the configured engine."""
    work = cfg.work_path
    a = cfg.analytics
    eng = engine_for(cfg, con)
    calls = derived_files(work, "calls", period)
    if len(calls) > 1 and hasattr(eng, "register_parts"):
        eng.register_parts("calls", calls)  # hash partitions of the number pair (pipelines.calls.build_calls)
    else:
        eng.register_parquet("calls", calls)
    eng.register_parquet("groups", staged_files(work, "groups", period))
    eng.register_parquet("memberships", staged_files(work, "memberships", period))
    register_surveys(eng, work, period, a.survey_months)
    end = period_end(period).isoformat()
    eng.register_parquet("subscribers", staged_files(work, "subscribers", period))
    eng.register_parquet("billing_staged", staged_files(work, "billing", period))
    eng.view(
        "billing",
        "SELECT msisdn, CAST(voice_fee AS DOUBLE) AS voice_fee, "
        "CAST(data_fee AS DOUBLE) AS data_fee, CAST(sms_fee AS DOUBLE) AS sms_fee, CAST(vas_fee AS DOUBLE) AS vas_fee "
        f"FROM billing_staged WHERE bill_month = {lit(period)}",
    )
    # registered members at period end, of active groups; since = the later of joining and activating the line
    eng.transform(
        "members",
        "SELECT m.group_id, m.msisdn, "
        "CASE WHEN bool_or(m.member_role = 'key_person') THEN 'key_person' ELSE max(m.member_role) END AS member_role, "
        "greatest(max(m.joined_at), coalesce(max(s.activated_at), max(m.joined_at))) AS since FROM memberships AS m "
        "JOIN groups AS g ON g.group_id = m.group_id "
        "LEFT JOIN (SELECT msisdn, max(activated_at) AS activated_at FROM subscribers WHERE status <> 'closed' GROUP BY msisdn) AS s "
        "ON s.msisdn = m.msisdn "
        f"WHERE g.status = 'active' AND m.joined_at <= DATE {lit(end)} AND (m.left_at IS NULL OR m.left_at > DATE {lit(end)}) "
        "GROUP BY m.group_id, m.msisdn",
    )
    from pipelines.calls import register_calendar

    register_calendar(eng, cfg, "calls", "work_calendar")  # working time (config section calendar)
    mc = a.model
    tie = (mc.tie_work_share, mc.tie_min_work_events)
    # Each pass over the month's calls (about 0.8 of the CDR rows) and over the graph costs seconds per
    # ten million records, so the steps read what they need once: the graph carries each pair's events
    # per time bin (the members' calling profile is summed from it, not from the events again); the
    # members' contacts (member_adj) are taken from the graph once, and every step that starts from a
    # member (features, the candidates' touch and closure, colleagues, the prospects' attachment) reads
    # them instead of the whole adjacency; presence and activity keep only what is read (every number's
    # working-time presence, the members' in every bin; the members' activity); the candidates'
    # per-group parts (the members' working-time cells, every number's totals) are computed once and
    # joined into each hash partition.
    steps = [
        ("events", events_sql("calls", "work_calendar")),
        ("all_events", events_sql("calls", "work_calendar", nodes_only=False)),
        ("graph", call_graph_sql("events", bins=True)),
        ("adj", adjacency_sql("graph")),
        ("member_numbers", "SELECT DISTINCT msisdn FROM members"),
        ("member_adj", adjacency_sql("graph", "member_numbers", BIN_COLUMNS)),
        ("presence", presence_sql("all_events", "member_numbers")),
        ("sides", number_sides_sql("calls", cfg.home_carrier)),
        ("activity", activity_sql("calls")),
        ("profile", adjacency_profile_sql("member_adj")),
        ("numbers", numbers_sql("calls", cfg.home_carrier, "sides")),
        ("features", member_features_sql("members", "member_adj", "presence", "profile", "activity", "billing", *tie, end,
                                          mc.home_time_bins)),
        ("refs", group_reference_sql("features", "groups", mc)),
        ("totals", candidate_totals_sql("adj")),
        ("group_cells", group_cells_sql("members", "presence")),
        ("member_keys", member_keys_sql("members")),
        ("member_ties", member_ties_sql("member_keys", "member_adj")),
        ("candidates", None),
        ("employee", employee_scores_sql("candidates", "refs", mc)),
        # employee-like contacts (contact_score, before the one-member floor): what the market counts (the
        # survey-calibrated coefficient corrects the count as a whole) and the colleagues who vouch for a
        # member (in a one-line group an unregistered colleague can reach only that member); docs/models.md
        ("employee_counted", "SELECT group_id, msisdn, on_net, member_share, contact_score AS score FROM employee"),
        ("colleagues", colleague_ties_sql(
            "members", "member_adj", f"(SELECT group_id, msisdn FROM employee_counted WHERE score >= {a.employee_score_threshold})", *tie)),
        ("fake", fake_scores_sql("features", "refs", "colleagues", mc, a.fake_threshold)),
        ("counts", group_counts_sql(
            "groups", "fake", "employee_counted", a.fake_threshold, a.employee_score_threshold, a.potential_member_share,
            mc.size_bands, a.employee_count_ramp)),
        ("calibration", calibration_sql("counts", "surveys", a.min_surveys_per_industry, mc.size_bands,
                                        a.coefficient_max_ratio, a.rule_coefficient_max_ratio, a.survey_max_ratio,
                                        a.survey_slack)),
        ("previous", _previous_summary(eng, work, period)),
        ("market", market_share_sql("counts", "calibration", "previous")),
    ]
    # intermediates dropped once their last reader has run (what the engine holds stays small)
    last_read = {"numbers": ("sides",), "features": ("profile",),
                 "candidates": ("presence", "totals", "group_cells", "member_ties", "member_keys")}
    ((cdr_rows,),) = eng.rows("SELECT count(*) FROM calls")
    # events of the month are views (read by each step that needs them, never held whole); the call graph
    # runs per partition of the calls (hash of the number pair, the graph's own key)
    views = {"events", "all_events", "adj", "employee_counted"}
    with progress(len(steps), "call graph, scores") as bar:
        for name, sql in steps:
            if name == "graph":
                eng.map_parts("graph", lambda rel: call_graph_sql(f"({events_sql(rel, 'work_calendar')}) AS ev", bins=True), "calls")
            elif name == "candidates":  # (group, contact) pairs of every member's contacts: by a hash of the contact
                eng.split("candidates", lambda part: candidate_features_sql(
                    "members", "member_adj", "presence", "numbers", part, totals="totals", group_cells="group_cells",
                    member_ties="member_ties", member_keys="member_keys"), cdr_rows)
            elif name in views:
                eng.view(name, sql)
            else:
                eng.transform(name, sql)
            for rel in last_read.get(name, ()):
                eng.drop(rel)
            bar.advance()
    _warn_implausible_surveys(eng, a.survey_max_ratio, a.survey_slack)
    share = a.potential_member_share
    out = {
        "call_graph": eng.write(f"SELECT {', '.join(CALL_GRAPH_COLUMNS)} FROM graph", derived_path(work, "call_graph", period)),
        # every graph node with its carrier and on-net flag (the value stage reads it instead of recomputing)
        "numbers": eng.write("SELECT * FROM numbers", derived_path(work, "numbers", period)),
        # every home number's usage (the value stage's indicators read it instead of another pass over the calls)
        "number_activity": eng.write(f"SELECT {', '.join(ACTIVITY_COLUMNS)} FROM activity", derived_path(work, "number_activity", period)),
        "member_scores": eng.write(
            "SELECT * FROM fake ORDER BY group_id, msisdn",
            derived_path(work, "member_scores", period),
        ),
        "potential_members": eng.write(
            f"SELECT *, score >= {a.employee_score_threshold} AS likely_employee FROM employee "
            f"WHERE member_share > {share} OR score >= {a.employee_score_threshold} ORDER BY group_id, score DESC, msisdn",
            derived_path(work, "potential_members", period),
        ),
        "group_summary": eng.write(
            f"SELECT {lit(period)} AS period, * FROM market ORDER BY group_id", derived_path(work, "group_summary", period)
        ),
        "market_calibration": eng.write(
            f"SELECT {lit(period)} AS period, * FROM calibration", derived_path(work, "market_calibration", period)
        ),
    }
    out.update(_prospects(eng, cfg, period))
    eng.drop("graph")  # its partitions (written whole as call_graph above)
    eng.drop("activity")
    return out


def _warn_implausible_surveys(eng: Engine, ratio: float, slack: float) -> None:
    """Name the surveys the calibration left out (transforms.market.surveyed_groups_sql) in the log: the
    calibration table only counts them, and an account manager has to correct the survey."""
    import logging

    every = f"SELECT *, bool_or(used) OVER (PARTITION BY group_id) AS fallback FROM ({surveyed_groups_sql('counts', 'surveys', ratio, slack)}) AS v"
    bad = eng.rows(f"SELECT group_id, surveyed_at, implausible, fallback FROM ({every}) AS w WHERE left_out ORDER BY group_id, surveyed_at")
    if bad:
        shown = "; ".join(f"{g} ({d}): {why}{' (an earlier survey of the group used instead)' if fb else ''}" for g, d, why, fb in bad[:10])
        shown += f"; and {len(bad) - 10} more" if len(bad) > 10 else ""
        logging.getLogger("groupscope").warning(
            "market share: %d survey(s) left out of the calibration as implausible (analytics.survey_max_ratio): %s",
            len(bad), shown)


def _prospects(eng: Engine, cfg: Config, period: str) -> dict[str, Path]:
    work = cfg.work_path
    eng.register_parquet("subscribers_staged", staged_files(work, "subscribers", period))
    regions = "(SELECT msisdn, min(region) AS region FROM subscribers_staged WHERE status <> 'closed' GROUP BY msisdn)"
    # a group's staff (left out of the prospects) as the market counts them: contact_score, before the floor;
    # the prospects' attachment to a group reads only the adjacency rows that end at a member: the
    # members' own contacts (member_adj), seen from the other end
    eng.view("adj_to_members", f"SELECT y AS x, x AS y, {', '.join(ADJACENCY_COLUMNS)} FROM member_adj")
    groups_sql, members_sql = build_prospects(eng, cfg.analytics, regions, "employee_counted", "adj_to_members")
    return {
        "prospect_groups": eng.write(
            f"SELECT {lit(period)} AS period, * FROM ({groups_sql}) AS p", derived_path(work, "prospect_groups", period)
        ),
        "prospect_members": eng.write(members_sql, derived_path(work, "prospect_members", period)),
    }


def build_prospects(con, a: AnalyticsConfig, regions: str, employees: str = "employee", adj: str = "adj") -> tuple[str, str]:
    """Prospect groups from the relations graph, adj, numbers, members and employee on `con` (an Engine
    or a DuckDB connection): teams (Leiden CPM) of work-like ties outside the registered groups, cut to
    their core, without the teams that are a registered group's staff, merged into companies by their
    links. `employees`: the relation whose numbers at the employee threshold are a group's staff;
    `adj`: the adjacency (its rows whose y is a member suffice). Returns the queries of the prospect
    groups and of their numbers.

    Leiden runs on the driver, in memory, over the reduced graph only: work-like ties between numbers
    outside every registered group, cut to the numbers with >= prospect_min_ties such ties (see
    docs/scale.md for its size bound)."""
    from pipelines.engine import DuckDBEngine

    eng = con if isinstance(con, Engine) else DuckDBEngine(con)
    eng.transform(
        "p_edges",
        prospect_edges_sql(
            "graph", "members", "numbers", employees, a.prospect_min_work_share, a.prospect_min_events,
            a.employee_score_threshold,
        ),
    )
    eng.transform("p_nodes", team_nodes_sql("p_edges", a.prospect_min_ties))
    n_nodes = eng.rows("SELECT count(*) FROM p_nodes")[0][0]
    t0 = time.perf_counter()
    ties = eng.to_arrow(node_edges_sql("p_edges", "p_nodes"))
    teams = leiden_teams(n_nodes, ties, a.prospect_team_density)
    eng.timings["leiden (driver)"] = time.perf_counter() - t0
    eng.timings["leiden nodes"], eng.timings["leiden ties"] = n_nodes, ties.num_rows
    eng.register_arrow("p_teams_arrow", teams)
    eng.transform("p_teams", "SELECT n.number, t.team FROM p_teams_arrow AS t JOIN p_nodes AS n ON n.node = t.node")
    eng.drop("p_teams_arrow")
    eng.transform("p_core", team_core_sql("p_teams", "p_edges", a.prospect_min_ties))
    # the edges between numbers of the teams: the teams' and prospects' inner ties read these, not the graph
    eng.transform("p_graph", team_graph_sql("graph", "p_nodes"))
    eng.transform("p_kept", team_stats_sql("p_core", "p_graph", adj, "members", a.prospect_max_group_attachment))
    links = eng.to_arrow(team_links_sql("p_core", "p_kept", "p_edges", a.prospect_link_ties, a.prospect_link_numbers))
    eng.register_arrow("p_merged", merge_teams(eng.to_arrow("SELECT team FROM p_kept"), links))
    eng.transform("p_assign", prospect_assignment_sql("p_core", "p_merged", a.prospect_min_size))
    return (
        prospects_sql("p_assign", "numbers", regions, "p_graph", adj, "members"),
        prospect_members_sql("p_assign", "numbers"),
    )
