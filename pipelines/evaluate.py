"""`groupscope evaluate`: the stored results of a period against a generator's ground-truth folder."""

from __future__ import annotations

from pathlib import Path

import duckdb

from groupscope.config import Config
from pipelines.transform import derived_path
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
    # prospect groups: the company most of a community's numbers work for, if any
    pm = derived_path(work, "prospect_members", period)
    if pm.exists():
        con.execute(f"CREATE VIEW t_employees AS SELECT * FROM read_csv({lit(str(t / 'employees.csv'))}, header=true)")
        n, purity, unregistered = con.execute(
            f"""WITH j AS (SELECT p.prospect_id, e.company_id, e.group_id, count(*) AS n
                FROM read_parquet({lit(str(pm))}) AS p LEFT JOIN t_employees AS e USING (msisdn) GROUP BY ALL),
            best AS (SELECT prospect_id, arg_max(company_id, n) AS company_id, arg_max(group_id, n) AS group_id,
                            max(n) FILTER (WHERE company_id IS NOT NULL) AS n, sum(n) AS size FROM j GROUP BY prospect_id)
            SELECT count(*), avg(coalesce(n, 0) * 1.0 / size),
                   count(*) FILTER (WHERE company_id IS NOT NULL AND group_id IS NULL) FROM best"""
        ).fetchone()
        # unregistered companies with >= 5 employees, and how many of them are some prospect's main company
        companies, found = con.execute(
            f"""WITH big AS (SELECT company_id FROM t_employees WHERE group_id IS NULL GROUP BY company_id
                             HAVING count(*) >= 5),
            j AS (SELECT p.prospect_id, e.company_id, count(*) AS n
                  FROM read_parquet({lit(str(pm))}) AS p JOIN t_employees AS e USING (msisdn) GROUP BY ALL),
            main AS (SELECT prospect_id, company_id FROM (
                SELECT *, row_number() OVER (PARTITION BY prospect_id ORDER BY n DESC, company_id) AS rk FROM j) WHERE rk = 1)
            SELECT (SELECT count(*) FROM big), count(DISTINCT company_id) FILTER (WHERE company_id IN (SELECT company_id FROM big))
            FROM main"""
        ).fetchone()
        out["unregistered_companies_ge5"] = companies
        out["unregistered_companies_found"] = found
        out["prospects"] = n
        out["prospect_purity"] = purity or 0.0
        out["prospects_unregistered_company"] = unregistered
    out["market_share_mae_pp"] = mae or 0.0
    out["groups_ge_20"] = n_groups
    out["purity_mae_pp"] = purity_err or 0.0
    return out


BAR = {
    "fake_precision": 0.90,
    "fake_recall": 0.90,
    "potential_score_precision": 0.85,
    "potential_score_recall": 0.80,
}


def report(m: dict[str, float]) -> str:
    rows = [
        ("fake members", "precision", m["fake_precision"], ">= 0.90"),
        ("", "recall", m["fake_recall"], ">= 0.90"),
        ("", "F1", m["fake_f1"], ""),
        ("potential members (score)", "precision", m["potential_score_precision"], ">= 0.85"),
        ("", "recall (>= 2 member contacts)", m["potential_score_recall"], ">= 0.80"),
        ("potential members (10% rule)", "precision", m["potential_rule10_precision"], ""),
        ("", "recall (>= 2 member contacts)", m["potential_rule10_recall"], ""),
        (f"market share ({m['groups_ge_20']} groups >= 20 employees)", "MAE, pp", m["market_share_mae_pp"], "<= 5"),
        ("purity", "MAE, pp", m["purity_mae_pp"], ""),
    ]
    if "prospects" in m:
        rows += [
            (f"prospect groups ({m['prospects']} listed)", "mean share of main company", m["prospect_purity"], ""),
            ("", "main company unregistered (count)", m["prospects_unregistered_company"], ""),
            (f"unregistered companies (>= 5 staff: {m['unregistered_companies_ge5']})", "found as a main company",
             m["unregistered_companies_found"], ""),
        ]
    return "\n".join(f"{a:<44}{b:<32}{c:>8.3f}  {d}" for a, b, c, d in rows)
