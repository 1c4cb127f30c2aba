"""The percent ranks of transforms.value_scores (from each indicator's distinct values) against worked-out
values and against the window function percent_rank() they replace."""

import duckdb
import pytest

from transforms.value_scores import value_scores_sql

PYRAMID = [0.01, 0.04, 0.15, 0.40, 0.40]
LABELS = ["t1", "t2", "t3", "t4", "t5"]


def _scores(con, weights):
    sql = value_scores_sql("ind", "k", {"current": 0.5, "potential": 0.5}, weights, PYRAMID, LABELS, 0.5)
    return con.execute(f"SELECT * FROM ({sql}) ORDER BY k").fetchall(), [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description]


def test_ties_share_a_rank_worked_out():
    con = duckdb.connect()
    # a: 1, 2, 2, 2, 5 -> rows below 0, 1, 1, 1, 4 over 4: 0, .25, .25, .25, 1
    # b: 7, 7, 7, 7, 7 -> all tied: 0
    con.execute("CREATE TABLE ind AS SELECT * FROM (VALUES ('k1', 1, 7.0), ('k2', 2, 7.0), ('k3', 2, 7.0), "
                "('k4', 2, 7.0), ('k5', 5, 7.0)) AS t(k, a, b)")
    rows, cols = _scores(con, {"current": {"a": 1.0}, "potential": {"b": 1.0}})
    ra, rb, pos = cols.index("r_a"), cols.index("r_b"), cols.index("pos")
    assert [r[ra] for r in rows] == [0.0, 0.25, 0.25, 0.25, 1.0]
    assert [r[rb] for r in rows] == [0.0] * 5
    # value 100 x (0.5 r_a + 0.5 r_b): k5 first, then k2, k3, k4 by key, k1 last
    assert {r[0]: r[pos] for r in rows} == {"k5": 0.0, "k2": 0.2, "k3": 0.4, "k4": 0.6, "k1": 0.8}


def test_one_row_ranks_zero():
    con = duckdb.connect()
    con.execute("CREATE TABLE ind AS SELECT 'k1' AS k, 3 AS a, 4.0 AS b")
    rows, cols = _scores(con, {"current": {"a": 1.0}, "potential": {"b": 1.0}})
    assert rows[0][cols.index("r_a")] == 0.0 and rows[0][cols.index("value_score")] == 0.0


@pytest.mark.parametrize("seed", [3, 17])
def test_same_doubles_as_percent_rank(seed):
    con = duckdb.connect()
    con.execute(f"SELECT setseed(0.{seed})")
    con.execute("CREATE TABLE ind AS SELECT 'k' || i AS k, CAST(floor(random() * 50) AS INTEGER) AS a, "
                "round(random() * 10, 1) AS b, CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 5) END AS c "
                "FROM range(2000) AS t(i)")
    rows, cols = _scores(con, {"current": {"a": 0.3, "b": 0.7}, "potential": {"c": 0.6, "a": 0.4}})
    want = con.execute("SELECT k, percent_rank() OVER (ORDER BY a), percent_rank() OVER (ORDER BY b), "
                       "percent_rank() OVER (ORDER BY c) FROM ind ORDER BY k").fetchall()
    got = [(r[0], r[cols.index("r_a")], r[cols.index("r_b")], r[cols.index("r_c")]) for r in rows]
    assert got == want  # exactly: NULLs rank as the window function ranks them
