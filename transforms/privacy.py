"""Pseudonyms and masked display forms of telephone numbers (personal data).

`number_key` is HMAC-SHA-256 of the number under a secret key, cut to 128 bits (32 hex digits): stable
for one key across months, so BI can join and count numbers over time without seeing them, and not
reversible without the key. `mask` keeps the first three and last four digits (138****1234).
"""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa

KEY_HEX_DIGITS = 32


def number_key(key: bytes, number: str) -> str:
    return hmac.new(key, number.encode("ascii", "replace"), hashlib.sha256).hexdigest()[:KEY_HEX_DIGITS]


def mask(number: str) -> str:
    n = len(number)
    if n >= 8:
        return number[:3] + "*" * (n - 7) + number[-4:]
    return "*" * max(n - 2, 0) + number[max(n - 2, 0):]


def pseudonymise(numbers: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Table:
    """One row per distinct non-null number: msisdn, number_key, number_masked."""
    if len(key) < 16:
        raise ValueError("the pseudonym key must be at least 16 bytes")
    distinct = sorted({x for x in numbers.to_pylist() if x is not None})
    return pa.table(
        {
            "msisdn": pa.array(distinct, pa.string()),
            "number_key": pa.array([number_key(key, x) for x in distinct], pa.string()),
            "number_masked": pa.array([mask(x) for x in distinct], pa.string()),
        }
    )
