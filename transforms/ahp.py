"""Value model, part one: AHP indicator weights (the retention model is transforms/retention.py).

Pure functions, no I/O.

AHP (Saaty): weights are the principal eigenvector of a positive reciprocal pairwise-comparison matrix
on the 1-9 scale; CI = (lambda_max - n) / (n - 1), CR = CI / RI(n), accepted when CR < 0.10.
"""

from __future__ import annotations

import numpy as np

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
