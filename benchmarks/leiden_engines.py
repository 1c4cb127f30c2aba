"""Leiden under the Constant Potts Model: igraph's own implementation (what transforms/communities.py
runs) against the leidenalg package (what it ran before), on one planted-team graph, same resolution and
two iterations each. Prints each one's time, number of communities and CPM quality (the higher, the
better the partition under the model); both qualities are computed by igraph's formula.

    python benchmarks/leiden_engines.py --nodes 300000

leidenalg is not a dependency of the project: `pip install leidenalg==0.12.0` first, or the comparison
prints igraph's figures alone.
"""

from __future__ import annotations

import argparse
import random
import time

import igraph as ig
import numpy as np


def planted(n: int, team: int, inside: int, noise: int, seed: int) -> ig.Graph:
    """n nodes in teams of `team`, `inside` random ties within teams and `noise` random ties across."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, inside)
    b = (a // team) * team + rng.integers(0, team, inside)
    c, d = rng.integers(0, n, noise), rng.integers(0, n, noise)
    e = np.vstack([np.column_stack([a, b]), np.column_stack([c, d])])
    e = np.unique(np.sort(e[e[:, 0] != e[:, 1]], axis=1), axis=0)
    return ig.Graph(n=n, edges=e)


def cpm_quality(g: ig.Graph, membership: list[int], resolution: float) -> float:
    """CPM quality: sum over communities of (internal ties - resolution x size x (size - 1) / 2)."""
    m = np.asarray(membership)
    e = np.asarray(g.get_edgelist())
    internal = np.bincount(m[e[:, 0]][m[e[:, 0]] == m[e[:, 1]]], minlength=m.max() + 1)
    size = np.bincount(m)
    return float((internal - resolution * size * (size - 1) / 2).sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=300_000)
    ap.add_argument("--resolution", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    g = planted(a.nodes, 10, 5 * a.nodes, a.nodes, a.seed)
    print(f"graph: {g.vcount():,} nodes, {g.ecount():,} ties")
    ig.set_random_number_generator(random.Random(7))
    t0 = time.perf_counter()
    part = g.community_leiden(objective_function="CPM", resolution=a.resolution, n_iterations=2)
    t = time.perf_counter() - t0
    print(f"igraph community_leiden: {t:.1f} s, {len(part):,} communities, CPM quality {cpm_quality(g, part.membership, a.resolution):,.1f}")
    try:
        import leidenalg
    except ImportError:
        print("leidenalg not installed: no comparison")
        return
    t0 = time.perf_counter()
    p = leidenalg.find_partition(g, leidenalg.CPMVertexPartition, resolution_parameter=a.resolution, seed=7)
    t = time.perf_counter() - t0
    print(f"leidenalg find_partition: {t:.1f} s, {len(p):,} communities, CPM quality {cpm_quality(g, p.membership, a.resolution):,.1f}")


if __name__ == "__main__":
    main()
