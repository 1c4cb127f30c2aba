"""Heavy transforms are written once as SQL in DuckDB's dialect and run on DuckDB or, transpiled by
sqlglot, on Spark SQL. A transform is a pure function from input relation names to a SQL query.
"""

from __future__ import annotations

import math

import sqlglot

ENGINES = {"duckdb": "duckdb", "spark": "spark"}


def render(sql: str, engine: str = "duckdb") -> str:
    """The query in the dialect of `engine`."""
    if engine == "duckdb":
        return sql
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    out = sqlglot.transpile(sql, read="duckdb", write=ENGINES[engine], pretty=True)
    if len(out) != 1:
        raise ValueError("a transform must be a single query")
    return out[0]


def lit(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def num(x: float | None) -> str:
    """A SQL floating-point literal. A bare `0.5000000000000001` is a DECIMAL in DuckDB and Spark, and a
    product of such literals can overflow DECIMAL(38); a DOUBLE cannot. None is SQL NULL; NaN and
    infinity have no SQL literal and are refused (a model that produces them must say what it means)."""
    if x is None:
        return "CAST(NULL AS DOUBLE)"
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{v!r} has no SQL literal: pass None for a missing value")
    return f"CAST({v!r} AS DOUBLE)"
