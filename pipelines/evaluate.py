"""`groupscope evaluate`: the stored results of a period against a generator's ground-truth folder."""

from __future__ import annotations

from pathlib import Path

import duckdb

from groupscope.config import Config
from pipelines.storage import derived_path
from transforms.sql import lit


def _prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(cfg: Config, truth: Path, period: str) -> dict[str, float]:
    work = cfg.work_path
    t = Path(truth) / f"month={period}"
    if not t.is_dir():
        raise ValueError(f"no ground truth for {period} in {truth}")
    con = duckdb.connect()
    for name in ("member_scores", "potential_members", "group_summary"):
        p = derived_path(work, name, period)
        if not p.exists():
            raise ValueError(f"no {name} for {period} under {work}: run the period first")
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({lit(str(p))})")
    for name in ("members", "unregistered_employees", "groups"):
        con.execute(f"CREATE VIEW t_{name} AS SELECT * FROM read_csv({lit(str(t / (name + '.csv')))}, header=true)")
    out: dict[str, float] = {}
    tp, n_pred, n_true = con.execute(
        "SELECT count(*) FILTER (WHERE s.is_suspect AND t.is_fake), count(*) FILTER (WHERE s.is_suspect), "
        "count(*) FILTER (WHERE t.is_fake) FROM t_members AS t JOIN member_scores AS s USING (group_id, msisdn)"
    ).fetchone()
    out["fake_precision"], out["fake_recall"], out["fake_f1"] = _prf(tp, n_pred, n_true)
    out["members_scored"] = con.execute("SELECT count(*) FROM member_scores").fetchone()[0]
    out.update(_member_kind_metrics(con))
    # potential members: truth = unregistered employees of the group; recall over those with >= 2 member contacts
    for label, cond in (("score", "likely_employee"), ("rule10", f"member_share > {cfg.analytics.potential_member_share}")):
        tp, n_pred = con.execute(
            f"SELECT count(*) FILTER (WHERE t.msisdn IS NOT NULL), count(*) FROM potential_members AS p "
            f"LEFT JOIN t_unregistered_employees AS t USING (group_id, msisdn) WHERE {cond}"
        ).fetchone()
        found, n_true = con.execute(
            f"SELECT count(*) FILTER (WHERE p.msisdn IS NOT NULL), count(*) FROM t_unregistered_employees AS t "
            f"LEFT JOIN (SELECT * FROM potential_members WHERE {cond}) AS p USING (group_id, msisdn) "
            "WHERE t.members_contacted >= 2"
        ).fetchone()
        out[f"potential_{label}_precision"] = tp / n_pred if n_pred else 0.0
        out[f"potential_{label}_recall"] = found / n_true if n_true else 0.0
    mae, n_groups, purity_err = con.execute(
        "SELECT avg(abs(g.market_share - t.market_share)) * 100, count(*), "
        "avg(abs(g.purity - t.registered_real / t.listed_members)) * 100 "
        "FROM group_summary AS g JOIN t_groups AS t USING (group_id) WHERE t.true_headcount >= 20"
    ).fetchone()
    pm = derived_path(work, "prospect_members", period)
    if pm.exists():
        out.update(_prospect_metrics(con, t, pm, derived_path(work, "call_graph", period)))
    out["market_share_mae_pp"] = mae or 0.0
    out["groups_ge_20"] = n_groups
    out["purity_mae_pp"] = purity_err or 0.0
    return out


# real members that must not be flagged, by the truth's member_kind (generator setting of issue 12)
REAL_KINDS = {"data_lines": ("data_card", "iot"), "messaging": ("messaging",), "field": ("field",)}


def _member_kind_metrics(con: duckdb.DuckDBPyConnection) -> dict[str, float | None]:
    """Share of each kind of real member flagged as fake, and fake-member precision and recall in tiny
    groups (at most TINY_GROUP_LINES registered lines) and in the others. A truth folder without member
    kinds (an older generator) gives none of these. None: nothing to measure (no such member)."""
    cols = {r[0] for r in con.execute("DESCRIBE t_members").fetchall()}
    if "member_kind" not in cols:
        return {}
    out: dict[str, float | None] = {}
    for label, kinds in REAL_KINDS.items():
        n, flagged = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE s.is_suspect) FROM t_members AS t "
            "JOIN member_scores AS s USING (group_id, msisdn) WHERE t.member_kind IN (" + ", ".join(lit(k) for k in kinds) + ")"
        ).fetchone()
        out[f"{label}_members"] = n
        out[f"{label}_flagged"] = flagged / n if n else None
    for label, cond in (("tiny", f"t.group_lines <= {TINY_GROUP_LINES}"), ("larger", f"t.group_lines > {TINY_GROUP_LINES}")):
        tp, n_pred, n_true, n = con.execute(
            "SELECT count(*) FILTER (WHERE s.is_suspect AND t.is_fake), count(*) FILTER (WHERE s.is_suspect), "
            f"count(*) FILTER (WHERE t.is_fake), count(*) FROM t_members AS t JOIN member_scores AS s USING (group_id, msisdn) WHERE {cond}"
        ).fetchone()
        out[f"{label}_members"] = n
        out[f"{label}_fakes"] = n_true
        out[f"fake_{label}_precision"] = tp / n_pred if n_pred else None
        out[f"fake_{label}_recall"] = tp / n_true if n_true else None
        out[f"{label}_flagged"] = n_pred
    return out


def _prospect_metrics(con: duckdb.DuckDBPyConnection, t: Path, members: Path, graph: Path) -> dict[str, float]:
    """Prospect groups against the companies that have no active registered group (never registered, or
    their group closed). A prospect is right when at least half of its numbers work for one such company.
    Recall is over the companies the month's calls make visible: at least PROSPECT_MIN_STAFF staff who
    each exchanged calls or SMS with at least two colleagues."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE t_employees AS SELECT e.company_id, e.msisdn, g.status IS DISTINCT FROM 'active' AS outside
        FROM read_csv({lit(str(t / 'employees.csv'))}, header=true, types={{'msisdn': 'VARCHAR'}}) AS e
        LEFT JOIN t_groups AS g USING (group_id)"""
    )
    con.execute("CREATE OR REPLACE TEMP VIEW t_outside AS SELECT company_id, msisdn FROM t_employees WHERE outside")
    (n, purity, right, visible, found, per_company), = con.execute(
        f"""WITH pm AS (SELECT prospect_id, msisdn FROM read_parquet({lit(str(members))})),
        sizes AS (SELECT prospect_id, count(*) AS size FROM pm GROUP BY prospect_id),
        by_company AS (SELECT pm.prospect_id, e.company_id, count(*) AS n FROM pm JOIN t_employees AS e USING (msisdn) GROUP BY ALL),
        main AS (
            SELECT s.prospect_id, s.size, b.company_id, coalesce(b.n, 0) AS n FROM sizes AS s LEFT JOIN (
                SELECT *, row_number() OVER (PARTITION BY prospect_id ORDER BY n DESC, company_id) AS rk FROM by_company
            ) AS b ON b.prospect_id = s.prospect_id AND b.rk = 1
        ),
        judged AS (
            SELECT *, n * 2 >= size AND company_id IN (SELECT company_id FROM t_outside) AS right_prospect FROM main
        ),
        g AS (SELECT u, v FROM read_parquet({lit(str(graph))})),
        ties AS (
            SELECT a.company_id, a.msisdn AS x, b.msisdn AS y FROM g JOIN t_outside AS a ON a.msisdn = g.u
            JOIN t_outside AS b ON b.msisdn = g.v WHERE a.company_id = b.company_id
        ),
        staff AS (
            SELECT company_id, x FROM (SELECT company_id, x, y FROM ties UNION ALL SELECT company_id, y, x FROM ties) AS d
            GROUP BY company_id, x HAVING count(*) >= 2
        ),
        visible AS (SELECT company_id FROM staff GROUP BY company_id HAVING count(*) >= {PROSPECT_MIN_STAFF}),
        hit AS (SELECT company_id, count(*) AS prospects FROM judged WHERE right_prospect GROUP BY company_id)
        SELECT (SELECT count(*) FROM judged),
               (SELECT avg(n * 1.0 / size) FROM judged),
               (SELECT count(*) FILTER (WHERE right_prospect) FROM judged),
               (SELECT count(*) FROM visible),
               (SELECT count(*) FROM visible JOIN hit USING (company_id)),
               (SELECT avg(prospects) FROM hit)"""
    ).fetchall()
    return {
        "prospects": n,
        "prospect_purity": purity or 0.0,
        "prospect_precision": right / n if n else 0.0,
        "prospect_companies_visible": visible,
        "prospect_companies_found": found,
        "prospect_recall": found / visible if visible else 0.0,
        "prospects_per_company": per_company or 0.0,
    }


# an unregistered company counts as visible with at least this many staff tied to two colleagues
PROSPECT_MIN_STAFF = 5
# a group of at most this many registered lines is a tiny group (as in the generator's truth)
TINY_GROUP_LINES = 3

BAR = {
    "fake_precision": 0.90,
    "fake_recall": 0.90,
    "potential_score_precision": 0.85,
    "potential_score_recall": 0.80,
    "prospect_precision": 0.85,
    "prospect_recall": 0.80,
}
# upper bars (issue 12): shares of real members flagged, errors in percentage points
UPPER_BAR = {"data_lines_flagged": 0.05, "messaging_flagged": 0.05, "market_share_mae_pp": 5.0, "purity_mae_pp": 5.0}


def _fmt(v) -> str:
    return "     n/a" if v is None else f"{v:>8.3f}"


def _bar(key: str) -> str:
    if key in UPPER_BAR:
        return f"<= {UPPER_BAR[key]:g}"
    return f">= {BAR[key]:.2f}"


def report(m: dict[str, float]) -> str:
    rows = [
        ("fake members", "precision", m["fake_precision"], _bar("fake_precision")),
        ("", "recall", m["fake_recall"], _bar("fake_recall")),
        ("", "F1", m["fake_f1"], ""),
        ("potential members (score)", "precision", m["potential_score_precision"], _bar("potential_score_precision")),
        ("", "recall (>= 2 member contacts)", m["potential_score_recall"], _bar("potential_score_recall")),
        ("potential members (10% rule)", "precision", m["potential_rule10_precision"], ""),
        ("", "recall (>= 2 member contacts)", m["potential_rule10_recall"], ""),
        (f"market share ({m['groups_ge_20']} groups >= 20 employees)", "MAE, pp", m["market_share_mae_pp"], _bar("market_share_mae_pp")),
        ("purity", "MAE, pp", m["purity_mae_pp"], _bar("purity_mae_pp")),
    ]
    if "tiny_members" in m:
        rows += [
            (f"data lines ({m['data_lines_members']})", "share flagged as fake", m["data_lines_flagged"], _bar("data_lines_flagged")),
            (f"messaging-app staff ({m['messaging_members']})", "share flagged as fake", m["messaging_flagged"], _bar("messaging_flagged")),
            (f"field staff ({m['field_members']})", "share flagged as fake", m["field_flagged"], ""),
            (f"groups <= {TINY_GROUP_LINES} lines ({m['tiny_members']} members, {m['tiny_fakes']} fakes)", "fake precision",
             m["fake_tiny_precision"], ""),
            ("", "fake recall", m["fake_tiny_recall"], ""),
            (f"groups > {TINY_GROUP_LINES} lines ({m['larger_members']} members)", "fake precision", m["fake_larger_precision"], ""),
            ("", "fake recall", m["fake_larger_recall"], ""),
        ]
    if "prospects" in m:
        rows += [
            (f"prospect groups ({m['prospects']} listed)", "precision (company, no group)", m["prospect_precision"], _bar("prospect_precision")),
            ("", "mean share of main company", m["prospect_purity"], ""),
            (f"companies without a group ({m['prospect_companies_visible']} visible)", "recall (found as a main company)",
             m["prospect_recall"], _bar("prospect_recall")),
            ("", "prospects per company found", m["prospects_per_company"], ""),
        ]
    return "\n".join(f"{a:<44}{b:<32}{_fmt(c)}  {d}" for a, b, c, d in rows)
