"""CDR records -> one row per call or SMS of the month (the MOC/MTC pair of an on-net call counted once)."""

from __future__ import annotations

from transforms.numbers import national_number_sql, port_periods_sql, range_joins_sql
from transforms.sql import lit

PAIR_TOLERANCE_S = 5
# record_key = a staged file's number x ROW_SPAN + the record's row in it: unique while no source file holds
# 2^40 (about 1.1e12) rows and a period fewer than 2^23 files
ROW_SPAN = 1 << 40


def record_keys_sql(staged: str, files: str) -> str:
    """The staged CDR records with `record_key`, a BIGINT unique per record of the period: the number of its
    source file (`files`: __file, file_no) x ROW_SPAN + its row (__row). The MOC/MTC pairing joins records
    by it: an 8-byte key in place of the record_id's text (19 characters in the generated operators), carried through the
    normalised records' shuffle and read four times by the collapse (docs/scale.md)."""
    return f"""
SELECT c.*, f.file_no * {ROW_SPAN} + c.__row AS record_key
FROM {staged} AS c JOIN {files} AS f ON f.__file = c.__file
"""


def normalised_cdr_sql(cdr: str, ranges: str, ported: str, home_carrier: str) -> str:
    """Every CDR record with the other party as a national number, its type, carrier and on-net flag;
    `cdr` holds `record_key`, unique per record (record_keys_sql).

    The carrier of a number is the one of its latest port on or before the record's day, otherwise
    the carrier of its longest matching prefix. Both are worked out per record against the small
    reference tables (ranges: a few dozen rows per prefix length; ports: one row per port), so no step
    builds anything the size of the month's distinct numbers (about 10M at 100M records, which a 2 GB
    memory limit cannot hold next to the records).
    """
    nat = national_number_sql("other_party")
    joins, number_type, range_carrier = range_joins_sql("r.number", ranges)
    carrier = f"coalesce(p.carrier, {range_carrier})"
    return f"""
WITH ports AS ({port_periods_sql(ported)})
SELECT r.record_key, r.served_msisdn, r.number AS other_number,
       {number_type} AS other_type,
       {carrier} AS other_carrier,
       coalesce({carrier} = {lit(home_carrier)}, false) AND {number_type} = 'mobile' AS other_on_net,
       r.start_time, r.duration_s, r.cell_id,
       r.record_type IN ('SMS_MO', 'SMS_MT') AS is_sms,
       r.record_type IN ('MOC', 'SMS_MO') AS is_mo
FROM (SELECT record_key, record_type, served_msisdn, {nat} AS number, start_time, duration_s, cell_id FROM {cdr}) AS r
{joins}
LEFT JOIN ports AS p ON p.msisdn = r.number
    AND CAST(r.start_time AS DATE) >= p.ported_at
    AND (p.ported_until IS NULL OR CAST(r.start_time AS DATE) < p.ported_until)
"""


def calls_sql(norm: str) -> str:
    """One row per call or SMS: caller, callee, their types, carriers, cells.

    An on-net call is seen twice (MO on the caller's side, MT on the callee's). The MO record is
    kept and the MT record that pairs with it (same two numbers, kind and duration, start within
    {PAIR_TOLERANCE_S} s) is dropped; an MT record whose MO twin is missing is kept.
    Service numbers stay in (their type says so); graph transforms leave them out. Records are paired by
    their `record_key`; a call carries no record id (no step reads one: every step over the calls goes by
    numbers, times and cells).
    The unpaired MT records are an anti-join written NOT EXISTS (a hash anti-join on DuckDB and
    Spark; Spark plans `NOT IN (subquery)` as a null-aware nested loop).
    """
    tol = PAIR_TOLERANCE_S
    # `norm` is read three times rather than through CTEs used twice (which DuckDB materialises whole)
    return f"""
WITH pair AS (
    SELECT mo.record_key AS mo_key, mt.record_key AS mt_key, mt.cell_id AS mt_cell
    FROM {norm} AS mo JOIN {norm} AS mt
      ON mt.served_msisdn = mo.other_number AND mt.other_number = mo.served_msisdn
     AND mt.is_sms = mo.is_sms AND mt.duration_s = mo.duration_s
     AND mt.start_time BETWEEN mo.start_time - INTERVAL {tol} SECOND AND mo.start_time + INTERVAL {tol} SECOND
    WHERE mo.is_mo AND mo.other_on_net AND NOT mt.is_mo
),
mo_cell AS (SELECT mo_key, min(mt_cell) AS callee_cell FROM pair GROUP BY mo_key)
SELECT mo.served_msisdn AS caller, 'mobile' AS caller_type, true AS caller_on_net,
       mo.other_number AS callee, mo.other_type AS callee_type, mo.other_on_net AS callee_on_net,
       mo.other_carrier AS other_carrier,
       mo.start_time, mo.duration_s, mo.is_sms, mo.cell_id AS caller_cell, c.callee_cell
FROM {norm} AS mo LEFT JOIN mo_cell AS c ON c.mo_key = mo.record_key
WHERE mo.is_mo
UNION ALL
SELECT mt.other_number AS caller, mt.other_type AS caller_type, mt.other_on_net AS caller_on_net,
       mt.served_msisdn AS callee, 'mobile' AS callee_type, true AS callee_on_net,
       mt.other_carrier AS other_carrier,
       mt.start_time, mt.duration_s, mt.is_sms, NULL AS caller_cell, mt.cell_id AS callee_cell
FROM {norm} AS mt
WHERE NOT mt.is_mo AND NOT EXISTS (SELECT 1 FROM pair WHERE pair.mt_key = mt.record_key)
"""
