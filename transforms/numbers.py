"""Numbers as signalled -> national numbers, their type and carrier (longest prefix, then portability)."""

from __future__ import annotations

from transforms.sql import lit

IP_ACCESS_PREFIXES = ("17951", "12593", "17911", "10193")
MAX_PREFIX_LEN = 8


def national_number_sql(col: str) -> str:
    """SQL expression: the national number behind a signalled number (country code, IP prefix removed).

    `+8613800138000`, `008613800138000`, `8613800138000`, `1795113800138000` -> `13800138000`;
    `+861058581234` -> `01058581234` (the trunk 0 dropped with the country code is restored).
    """
    ip = ", ".join(lit(p) for p in IP_ACCESS_PREFIXES)
    s1 = f"(CASE WHEN length({col}) > 11 AND substr({col}, 1, 5) IN ({ip}) THEN substr({col}, 6) ELSE {col} END)"
    s2 = (
        f"(CASE WHEN {s1} LIKE '+86%' THEN substr({s1}, 4) WHEN {s1} LIKE '0086%' THEN substr({s1}, 5) "
        f"WHEN {s1} LIKE '86%' AND length({s1}) >= 12 THEN substr({s1}, 3) ELSE NULL END)"
    )
    return (
        f"(CASE WHEN {s2} IS NULL THEN {s1} "
        f"WHEN {s2} LIKE '1%' AND length({s2}) = 11 THEN {s2} ELSE '0' || {s2} END)"
    )


def range_joins_sql(number: str, ranges: str) -> tuple[str, str, str]:
    """The range of a national number by longest prefix, for each row of a query: one LEFT JOIN per
    prefix length (2 .. MAX_PREFIX_LEN) against the ranges of that length, each a table of a few dozen
    rows (a probe of a tiny hash table per row, nothing the size of the records is built), the longest hit
    winning. `number`: the SQL expression of the row's national number.

    Returns (joins, number_type, range_carrier): the JOIN clauses to put after the row's FROM, and the
    SQL expressions of the number's type (`unknown` when no range matches, or a `mobile` range matched by
    a number that is not 11 digits starting with 1; NULL for a NULL number) and its carrier by range (NULL when none matches).
    A prefix is the table's key; should it come twice, each length's ranges are reduced to one row per
    prefix (the smallest type and carrier), so a record never matches twice.
    """
    lens = range(MAX_PREFIX_LEN, 1, -1)  # longest first
    joins = "\n".join(
        f"LEFT JOIN (SELECT prefix, min(number_type) AS number_type, min(carrier) AS carrier FROM {ranges} "
        f"WHERE length(prefix) = {k} GROUP BY prefix) AS rg{k} ON rg{k}.prefix = substr({number}, 1, {k})"
        for k in lens
    )
    typ = "CASE " + " ".join(f"WHEN rg{k}.prefix IS NOT NULL THEN rg{k}.number_type" for k in lens) + " END"
    carrier = "CASE " + " ".join(f"WHEN rg{k}.prefix IS NOT NULL THEN rg{k}.carrier" for k in lens) + " END"
    number_type = (
        f"CASE WHEN {number} IS NULL THEN NULL "
        f"WHEN {typ} = 'mobile' AND NOT ({number} LIKE '1%' AND length({number}) = 11) THEN 'unknown' "
        f"ELSE coalesce({typ}, 'unknown') END"
    )
    return joins, number_type, carrier


def port_periods_sql(ported: str) -> str:
    """Each port of a number with the day it stops applying (the next port of that number)."""
    return f"""
SELECT msisdn, carrier, ported_at,
       lead(ported_at) OVER (PARTITION BY msisdn ORDER BY ported_at) AS ported_until
FROM {ported}
"""
