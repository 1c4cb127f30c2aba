"""AHP and sBG against published worked examples."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from transforms.ahp import InconsistentJudgments, ahp_weights, checked_weights
from transforms.retention import discounted_residual_lifetime, fit_sbg, sbg_survival

# Saaty, T. L. (1990), How to make a decision: the Analytic Hierarchy Process, European Journal of
# Operational Research 48, 9-26: criteria of buying a house. Published priorities and consistency.
HOUSE = """1 5 3 7 6 6 1/3 1/4
1/5 1 1/3 5 3 3 1/5 1/7
1/3 3 1 6 3 4 6 1/5
1/7 1/5 1/6 1 1/3 1/4 1/7 1/8
1/6 1/3 1/3 3 1 1/2 1/5 1/6
1/6 1/3 1/4 4 2 1 1/5 1/6
3 5 1/6 7 5 5 1 1/2
4 7 5 8 6 6 2 1"""
HOUSE_PRIORITIES = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
HOUSE_CR = 0.169


def _parse(text: str) -> list[list[float]]:
    return [[float(Fraction(x)) for x in row.split()] for row in text.splitlines()]


def test_ahp_reproduces_saaty_house_example():
    w, cr = ahp_weights(_parse(HOUSE))
    assert np.round(w, 3).tolist() == HOUSE_PRIORITIES
    assert round(cr, 3) == HOUSE_CR


def test_inconsistent_matrix_is_refused_with_its_name_and_cr():
    with pytest.raises(InconsistentJudgments, match=r"'house criteria' is inconsistent: CR = 0\.169"):
        checked_weights("house criteria", _parse(HOUSE))


def test_consistent_matrix_gives_exact_weights():
    true = np.array([0.5, 0.3, 0.15, 0.05])
    m = true[:, None] / true[None, :]
    w = checked_weights("consistent", m)
    assert np.allclose(w, true) and ahp_weights(m)[1] < 1e-9
    assert np.allclose(ahp_weights([[1, 3], [1 / 3, 1]])[0], [0.75, 0.25])


@pytest.mark.parametrize(
    "bad, msg",
    [([[1, 2], [2, 1]], "reciprocal"), ([[1, -2], [-0.5, 1]], "positive"), ([[1, 2, 3]], "square"), (np.ones((11, 11)), "1..10")],
)
def test_malformed_matrices_are_refused(bad, msg):
    with pytest.raises(ValueError, match=msg):
        ahp_weights(bad)


# Fader, P. S. & Hardie, B. G. S. (2007), How to project customer retention, Journal of Interactive
# Marketing 21(1): survivors of two cohorts of 1,000 over years 0-7, and the published MLEs.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize("alive, alpha, beta", [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_sbg_reproduces_fader_hardie_estimates(alive, alpha, beta):
    a, b = fit_sbg(alive)
    assert (round(a, 3), round(b, 3)) == (alpha, beta)


def test_sbg_survival_and_residual_lifetime():
    a, b = fit_sbg(REGULAR)
    s = sbg_survival(a, b, np.arange(0, 8)) * 1000
    assert np.max(np.abs(s - np.array(REGULAR))) < 25  # the fitted curve follows the cohort
    # retention rises with tenure under sBG, so a longer-tenured customer has a longer residual life
    assert discounted_residual_lifetime(a, b, 5, 0.1) > discounted_residual_lifetime(a, b, 1, 0.1) > 0
    # with discounting d the residual lifetime is bounded by 1/d periods
    assert discounted_residual_lifetime(a, b, 1, 0.1) < 10
    with pytest.raises(ValueError):
        fit_sbg([1000, 1100, 900])


def test_residual_lifetime_at_the_geometric_limit_is_finite():
    from transforms.retention import discounted_residual_lifetime

    # a fit that ran off to alpha, beta -> infinity is a constant churn rate p = alpha / (alpha + beta)
    alpha, beta = 4.88e14, 1.23e17
    p = alpha / (alpha + beta)
    got = discounted_residual_lifetime(alpha, beta, 290, 0.008)
    expected = sum((1 - p) ** k / 1.008**k for k in range(1, 2001))
    assert abs(got - expected) < 1e-9 * expected
    # and it meets the sBG where both apply
    assert abs(discounted_residual_lifetime(2e5, 5e7, 10, 0.008) - discounted_residual_lifetime(2e6, 5e8, 10, 0.008)) < 0.05


def test_value_scores_take_weights_with_long_decimal_expansions():
    """AHP weights such as 0.5000000000000001 went into the SQL as DECIMAL literals, whose product
    overflowed DECIMAL(18) in DuckDB on one machine's eigenvector; they must be doubles."""
    import duckdb

    from transforms.value_scores import value_scores_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE ind AS SELECT i AS k, i * 1.5 AS a, 10 - i AS b FROM range(10) AS t(i)")
    sql = value_scores_sql(
        "ind", "k", {"current": 0.5, "potential": 0.5},
        {"current": {"a": 1.0}, "potential": {"b": 0.5000000000000001, "a": 0.49999999999999994}},
        [0.01, 0.04, 0.15, 0.40, 0.40], ["t1", "t2", "t3", "t4", "t5"], 0.5,
    )
    table = con.execute(f"SELECT * FROM ({sql}) ORDER BY k").to_arrow_table()  # every contribution column too
    rows = list(zip(table["k"].to_pylist(), table["value_score"].to_pylist()))
    assert len(rows) == 10
    # a rises with k and b falls: the score is 100 x (0.75 r_a + 0.25 r_b) with r_b = 1 - r_a
    assert all(abs(v - 100 * (0.75 * k / 9 + 0.25 * (1 - k / 9))) < 1e-9 for k, v in rows)
