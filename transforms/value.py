"""Value models: AHP indicator weights and the shifted-beta-geometric (sBG) retention model.

Pure functions, no I/O.

AHP (Saaty): weights are the principal eigenvector of a positive reciprocal pairwise-comparison matrix
on the 1-9 scale; CI = (lambda_max - n) / (n - 1), CR = CI / RI(n), accepted when CR < 0.10.

sBG (Fader & Hardie 2007, "How to project customer retention", J. Interactive Marketing 21(1)):
each customer churns at the end of a period with probability theta, theta ~ Beta(alpha, beta) across
customers. P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta); S(t) = B(alpha, beta + t) / B(alpha, beta).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln

# Saaty's random consistency index for n = 1..10
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
MAX_CR = 0.10


class InconsistentJudgments(ValueError):
    """A pairwise-comparison matrix whose consistency ratio is not below the accepted limit."""


def _matrix(matrix) -> np.ndarray:
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"a pairwise-comparison matrix must be square, got shape {a.shape}")
    n = a.shape[0]
    if n not in RANDOM_INDEX:
        raise ValueError(f"AHP matrices of {n} elements are not supported (random index known for 1..10)")
    if not np.all(a > 0):
        raise ValueError("pairwise comparisons must be positive")
    if not np.allclose(a * a.T, 1.0, rtol=0.01, atol=0.01):  # 0.333 stands for 1/3
        raise ValueError("a pairwise-comparison matrix must be reciprocal: a[j][i] = 1 / a[i][j]")
    return a


def ahp_weights(matrix) -> tuple[np.ndarray, float]:
    """(weights summing to 1, consistency ratio) of a positive reciprocal matrix."""
    a = _matrix(matrix)
    n = a.shape[0]
    if n <= 2:  # every 1x1 and 2x2 reciprocal matrix is consistent: w_i / w_j = a_ij
        w = a[:, -1]
        return w / w.sum(), 0.0
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    lam = float(values[k].real)
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1)
    return w, max(0.0, ci / RANDOM_INDEX[n])


def checked_weights(name: str, matrix, max_cr: float = MAX_CR) -> np.ndarray:
    """AHP weights of a named matrix; refuses it with its name and CR when CR >= max_cr."""
    try:
        w, cr = ahp_weights(matrix)
    except ValueError as e:
        raise ValueError(f"AHP matrix {name!r}: {e}") from None
    if cr >= max_cr:
        raise InconsistentJudgments(f"AHP matrix {name!r} is inconsistent: CR = {cr:.3f} (must be < {max_cr:.2f})")
    return w


# ---- shifted-beta-geometric ---------------------------------------------------------------------


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
