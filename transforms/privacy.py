"""Pseudonyms and masked display forms of telephone numbers (personal data).

`number_key` is HMAC-SHA-256 of the number under a secret key, cut to 128 bits (32 hex digits): stable
for one key across months, so BI can join and count numbers over time without seeing them, and not
reversible without the key. `mask` keeps the first three and last four digits (138****1234).

`pseudonyms_sql` computes both in SQL (HMAC spelled out from SHA-256, RFC 2104), so millions of numbers
are pseudonymised inside the engine, in parallel, instead of one Python call per number; `number_key`
and `mask` are the reference definitions the SQL is tested against.
"""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa

from transforms.sql import lit

KEY_HEX_DIGITS = 32
_BLOCK = 64  # SHA-256 block size in bytes
MIN_KEY_BYTES = 16


def number_key(key: bytes, number: str) -> str:
    return hmac.new(key, number.encode("ascii", "replace"), hashlib.sha256).hexdigest()[:KEY_HEX_DIGITS]


def mask(number: str) -> str:
    n = len(number)
    if n >= 8:
        return number[:3] + "*" * (n - 7) + number[-4:]
    return "*" * max(n - 2, 0) + number[max(n - 2, 0):]


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes")


def _pads(key: bytes) -> tuple[str, str]:
    """The inner and outer HMAC pads of `key`, as hex."""
    k = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    k = k.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def number_key_sql(col: str, key: bytes) -> str:
    """SQL expression: number_key(key, col) for an ASCII number column."""
    _check_key(key)
    ipad, opad = _pads(key)
    inner = f"unhex(sha256(unhex({lit(ipad)}) || encode({col})))"
    return f"substr(sha256(unhex({lit(opad)}) || {inner}), 1, {KEY_HEX_DIGITS})"


def mask_sql(col: str) -> str:
    """SQL expression: mask(col)."""
    n = f"length({col})"
    return (
        f"(CASE WHEN {n} >= 8 THEN substr({col}, 1, 3) || repeat('*', {n} - 7) || substr({col}, {n} - 3) "
        f"ELSE repeat('*', greatest({n} - 2, 0)) || substr({col}, greatest({n} - 2, 0) + 1) END)"
    )


def pseudonyms_sql(numbers: str, key: bytes) -> str:
    """One row per distinct non-null number of relation `numbers` (column msisdn): msisdn, number_key,
    number_masked."""
    return f"""
SELECT msisdn, {number_key_sql("msisdn", key)} AS number_key, {mask_sql("msisdn")} AS number_masked
FROM (SELECT DISTINCT msisdn FROM {numbers} WHERE msisdn IS NOT NULL) AS d
ORDER BY msisdn
"""


def pseudonymise(numbers: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Table:
    """One row per distinct non-null number: msisdn, number_key, number_masked (pseudonyms_sql over an
    Arrow array, in an in-memory DuckDB)."""
    import duckdb

    _check_key(key)
    con = duckdb.connect()
    try:
        con.register("gs_in", pa.table({"msisdn": pa.chunked_array([numbers]) if isinstance(numbers, pa.Array) else numbers}))
        return con.sql(pseudonyms_sql("gs_in", key)).to_arrow_table()
    finally:
        con.close()
