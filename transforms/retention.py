"""Value model, part two: the shifted-beta-geometric (sBG) retention model and the discounted residual
lifetime it gives (the AHP weights are transforms/ahp.py).

Pure functions, no I/O.

sBG (Fader & Hardie 2007, "How to project customer retention", J. Interactive Marketing 21(1)):
each customer churns at the end of a period with probability theta, theta ~ Beta(alpha, beta) across
customers. P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta); S(t) = B(alpha, beta + t) / B(alpha, beta).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln


def sbg_survival(alpha: float, beta: float, t) -> np.ndarray:
    """S(t): probability of still being a customer after t periods."""
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def sbg_churn_probability(alpha: float, beta: float, t) -> np.ndarray:
    """P(T = t): probability of leaving at the end of period t (t >= 1)."""
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta))


def fit_sbg(alive_counts) -> tuple[float, float]:
    """Maximum-likelihood (alpha, beta) from a cohort: alive_counts[t] customers still active after t
    periods (alive_counts[0] is the cohort's starting size)."""
    a = np.asarray(alive_counts, dtype=float)
    if a.ndim != 1 or len(a) < 3:
        raise ValueError("alive_counts needs at least three periods (t = 0, 1, 2)")
    if np.any(np.diff(a) > 0) or a[-1] < 0 or a[0] <= 0:
        raise ValueError("alive_counts must start positive and never increase")
    n = len(a) - 1
    lost = a[:-1] - a[1:]
    t = np.arange(1, n + 1)

    def nll(x: np.ndarray) -> float:
        alpha, beta = np.exp(x)
        lp = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
        ls = betaln(alpha, beta + n) - betaln(alpha, beta)
        return -float(lost @ lp + a[-1] * ls)

    best = None
    for start in ([0.0, 0.0], [-1.0, 1.0], [1.0, 2.0]):  # log-space starts; keep the best optimum
        r = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        if best is None or r.fun < best.fun:
            best = r
    alpha, beta = np.exp(best.x)
    return float(alpha), float(beta)


def discounted_residual_lifetime(alpha: float, beta: float, tenure: int, discount: float, horizon: int = 2000) -> float:
    """Expected discounted number of further periods of a customer active after `tenure` periods:
    sum over k >= 1 of S(tenure + k) / S(tenure) / (1 + discount)^k (periods paid at their end)."""
    if tenure < 0 or discount < 0:
        raise ValueError("tenure and discount must be non-negative")
    k = np.arange(1, horizon + 1)
    if alpha + beta > 1e6:
        # the fit has run to the limit of no heterogeneity: a constant churn rate p (geometric lifetimes),
        # where betaln loses all precision
        s = (1.0 - alpha / (alpha + beta)) ** k
    else:
        s = np.exp(betaln(alpha, beta + tenure + k) - betaln(alpha, beta + tenure))
    return float(np.sum(s / (1.0 + discount) ** k))
