"""Heavy transforms are written once as SQL in DuckDB's dialect and run on DuckDB or, transpiled by
sqlglot, on Spark SQL. A transform is a pure function from input relation names to a SQL query.

Every dialect difference lives here: `OVERRIDES[engine]` maps a sqlglot expression type to a rewrite
applied before the query is written in the engine's dialect, where sqlglot's own translation is wrong
or means something else on that engine (the role of dbt's adapter dispatch). Each entry says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sqlglot
from sqlglot import exp

ENGINES = {"duckdb": "duckdb", "spark": "spark"}


def _double(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e.copy(), to=exp.DataType.build("DOUBLE"))


def _is_double_cast(e: exp.Expression | None) -> bool:
    return isinstance(e, exp.Cast) and e.to.this == exp.DataType.Type.DOUBLE


def _spark_percentile_cont(e: exp.PercentileCont) -> exp.Expression:
    # DuckDB's quantile_cont(x, q) is an aggregate of two arguments; sqlglot writes PERCENTILE_CONT(x, q),
    # which Spark rejects (its PERCENTILE_CONT is the WITHIN GROUP form). percentile(x, q) is the same
    # exact, linearly interpolated quantile.
    if e.expression is None:
        return e
    return exp.Anonymous(this="PERCENTILE", expressions=[_double(e.this), e.expression.copy()])


def _spark_median(e: exp.Median) -> exp.Expression:
    # DuckDB's median of a DECIMAL is a DECIMAL of the input's scale (the mean of the two middle values
    # rounded), Spark's median a DOUBLE: both engines compute the median of the value as a DOUBLE
    # (transforms cast to DOUBLE; here Spark's side is made explicit).
    return exp.Anonymous(this="PERCENTILE", expressions=[_double(e.this), exp.Literal.number("0.5")])


def _spark_isodow(e: exp.DayOfWeekIso) -> exp.Expression:
    # sqlglot writes isodow(t) as (DAYOFWEEK(t) % 7) + 1, which maps Sunday(1)..Saturday(7) to 2..7,1:
    # Thursday and Friday then count as 6 and 7 (weekend). Spark's weekday(t) is 0 for Monday.
    return exp.paren(exp.Add(this=exp.Anonymous(this="WEEKDAY", expressions=[e.this.copy()]), expression=exp.Literal.number(1)))


def _spark_datediff(e: exp.DateDiff) -> exp.Expression:
    # DuckDB's date_diff('month', a, b) counts month boundaries crossed (Jan 31 -> Feb 1 is 1);
    # Spark's DATEDIFF(MONTH, a, b) counts whole months (0). Boundaries: 12 x years + months.
    unit = (e.unit.name if isinstance(e.unit, exp.Expression) else str(e.unit or "")).upper().strip("'")
    if unit not in ("MONTH", "YEAR"):
        return e
    a, b = e.expression, e.this  # sqlglot: DateDiff(this=end, expression=start)
    years = exp.Sub(this=exp.Anonymous(this="YEAR", expressions=[b.copy()]), expression=exp.Anonymous(this="YEAR", expressions=[a.copy()]))
    if unit == "YEAR":
        return exp.paren(years)
    months = exp.Sub(this=exp.Anonymous(this="MONTH", expressions=[b.copy()]), expression=exp.Anonymous(this="MONTH", expressions=[a.copy()]))
    return exp.paren(exp.Add(this=exp.Mul(this=exp.paren(years), expression=exp.Literal.number(12)), expression=exp.paren(months)))


def _spark_decimal_literal(e: exp.Literal) -> exp.Expression:
    # 1.0 is a DECIMAL literal on both engines, but DuckDB turns decimal arithmetic that divides into
    # DOUBLE while Spark keeps DECIMAL and cuts the scale (to 6 digits in a division): a ratio would
    # differ in the 7th digit. The transforms mean floating point, so Spark gets DOUBLE literals.
    if e.is_string or not any(c in e.this for c in ".eE") or _is_double_cast(e.parent):
        return e
    return _double(e)


def _spark_div(e: exp.Div) -> exp.Expression:
    # DuckDB's `/` is floating-point division for integers and decimals alike; Spark divides decimals
    # as decimals (scale cut, see above). A DOUBLE dividend gives DuckDB's result.
    if _is_double_cast(e.this):
        return e
    return exp.Div(this=_double(e.this), expression=e.expression.copy())


OVERRIDES: dict[str, dict[type[exp.Expression], Callable[[exp.Expression], exp.Expression]]] = {
    "duckdb": {},
    "spark": {
        exp.PercentileCont: _spark_percentile_cont,
        exp.Median: _spark_median,
        exp.DayOfWeekIso: _spark_isodow,
        exp.DateDiff: _spark_datediff,
        exp.Literal: _spark_decimal_literal,
        exp.Div: _spark_div,
    },
}


def _apply(tree: exp.Expression, rules: dict) -> exp.Expression:
    """Every rule on every node of its type, innermost first (a rule sees its arguments rewritten)."""
    nodes = [n for n in tree.walk() if type(n) in rules]
    for node in reversed(nodes):
        new = rules[type(node)](node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def render(sql: str, engine: str = "duckdb") -> str:
    """The query in the dialect of `engine`, with the engine's overrides applied."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    if engine == "duckdb":
        return sql
    trees = sqlglot.parse(sql, read="duckdb")
    if len(trees) != 1 or trees[0] is None:
        raise ValueError("a transform must be a single query")
    tree = _apply(trees[0], OVERRIDES[engine])
    return tree.sql(dialect=ENGINES[engine], pretty=True)


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
