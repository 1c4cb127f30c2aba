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


def number_lookup_sql(numbers: str, ranges: str) -> str:
    """Per distinct national number (column `number` of relation or subquery `numbers`): its range by
    longest prefix.

    Output columns: number, number_type, range_carrier. Numbers that match no range are `unknown`.
    """
    lens = ", ".join(f"({k})" for k in range(2, MAX_PREFIX_LEN + 1))
    return f"""
WITH cand AS (
    SELECT n.number, substr(n.number, 1, k.len) AS prefix, k.len
    FROM (SELECT DISTINCT number FROM {numbers}) AS n
    CROSS JOIN (VALUES {lens}) AS k(len)
    WHERE length(n.number) >= k.len
),
hit AS (
    SELECT c.number, r.number_type, r.carrier,
           row_number() OVER (PARTITION BY c.number ORDER BY c.len DESC) AS rk
    FROM cand AS c JOIN {ranges} AS r ON r.prefix = c.prefix
)
SELECT n.number,
       CASE WHEN h.number_type = 'mobile' AND NOT (n.number LIKE '1%' AND length(n.number) = 11) THEN 'unknown'
            ELSE coalesce(h.number_type, 'unknown') END AS number_type,
       h.carrier AS range_carrier
FROM (SELECT DISTINCT number FROM {numbers}) AS n
LEFT JOIN (SELECT * FROM hit WHERE rk = 1) AS h ON h.number = n.number
"""


def port_periods_sql(ported: str) -> str:
    """Each port of a number with the day it stops applying (the next port of that number)."""
    return f"""
SELECT msisdn, carrier, ported_at,
       lead(ported_at) OVER (PARTITION BY msisdn ORDER BY ported_at) AS ported_until
FROM {ported}
"""
