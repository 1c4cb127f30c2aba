"""Plausibility rules: values that are well-formed but cannot be true, quarantined like any failing row.

The suites in expectations/suites.py say what a value must look like (an integer, a datetime, an
allowed code). The rules here say what it may be, with bounds from `validation.plausibility`
(groupscope/config.py):

- text columns (those the suite does not already hold to a value set or pattern): at most
  `max_text_length` characters and, with `reject_control_characters`, no
  control characters (NUL, ESC, BEL, DEL, ...; tab and line breaks are left to CSV quoting); an
  identifier (a column named *_id) without leading or trailing spaces;
- CDR voice records (MOC/MTC): duration_s at most `max_call_duration_s`;
- CDR SMS records: duration_s at most `max_sms_duration_s` (0: switches write no duration for SMS);
- CDR start_time within the day of its dt= partition, widened by `record_day_tolerance_s` on both
  sides for calls that cross midnight;
- a bill's bill_month the month of its month= partition (the analytics and the value stage read a
  month's bills from that partition: a bill of another month there would be read by one and not the
  other);
- a survey's surveyed_at not after the end of its month= partition's month (a survey cannot come from
  the future; an earlier one is a late delivery, which the calibration's `survey_months` window takes);
- a membership does not end before it starts (left_at before joined_at);
- a subscriber is not activated, and a group not registered, after the end of its partition's month
  (the snapshot of a month cannot hold the future), and an active subscriber has no closed_at.

They are evaluated after the suite's row rules (the first failing rule gives the reason), over the
same text columns, so they see only values that already have the right shape; each has a typed form
(RowRule.typed_sql) for a Parquet file whose physical types are the contract's, which fails the same rows.
"""

from __future__ import annotations

import datetime as dt

from expectations.suites import RowRule, _lit, _q, suite_for
from groupscope.config import PlausibilityConfig
from groupscope.contract import INPUT_TABLES
from groupscope.period import Period

VOICE_TYPES = ("MOC", "MTC")
SMS_TYPES = ("SMS_MO", "SMS_MT")
# C0 control characters and DEL, as an RE2 class (DuckDB's regexp_matches); tab and line breaks are
# left to the CSV quoting (a company name may hold them and exports quote them)
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _present(v: str) -> str:
    return f"({v} IS NOT NULL AND {v} <> '')"


def _in(v: str, values: tuple[str, ...]) -> str:
    return f"{v} IN ({', '.join(_lit(x) for x in values)})"


def partition_day(partition: str) -> dt.date | None:
    """The day of a `dt=YYYY-MM-DD` partition key, else None."""
    if not partition.startswith("dt="):
        return None
    try:
        return dt.date.fromisoformat(partition[3:])
    except ValueError:
        return None


def partition_month(partition: str) -> Period | None:
    """The month of a `month=YYYY-MM` partition key, else None."""
    if not partition.startswith("month="):
        return None
    try:
        return Period.parse(partition[6:])
    except ValueError:
        return None


def _shaped_columns(table: str) -> set[str]:
    """Text columns whose suite already fixes their shape (a value set, or a regular expression over
    printable characters): the text checks would repeat it, at the price of a regex per row."""
    kinds = ("expect_column_values_to_match_regex", "expect_column_values_to_be_in_set")
    return {e.column for e in suite_for(table).expectations if e.expectation_type in kinds}


def plausibility_rules(table: str, p: PlausibilityConfig, partition: str = "") -> list[RowRule]:
    """The table's plausibility rules for one partition, as SQL over its text columns."""
    t = INPUT_TABLES[table]
    rules: list[RowRule] = []
    for c in t.columns:
        if c.type != "text" or c.name in _shaped_columns(table):
            continue
        v = _q(c.name)
        if p.reject_control_characters:
            sql = f"{_present(v)} AND regexp_matches({v}, {_lit(CONTROL_CHARACTERS)})"
            rules.append(RowRule(c.name, f"{c.name} contains control characters", sql, sql))
        sql = f"{_present(v)} AND length({v}) > {int(p.max_text_length)}"
        rules.append(RowRule(c.name, f"{c.name} longer than {p.max_text_length} characters", sql, sql))
        if c.name.endswith("_id"):  # an identifier joins by equality: 'R1 ' would be another key than 'R1'
            # trim(), not prefix/suffix ' ': DuckDB's trim also takes off Unicode space separators (U+3000 from a
            # Chinese input method, U+00A0 from a spreadsheet), which make another key just as well
            sql = f"{_present(v)} AND {v} <> trim({v})"
            rules.append(RowRule(c.name, f"{c.name} has leading or trailing spaces", sql, sql))
    if table == "cdr":
        dur, rtype = "TRY_CAST(duration_s AS BIGINT)", "record_type"
        # typed: duration_s is a BIGINT already
        for types, limit, what in ((VOICE_TYPES, p.max_call_duration_s, "a call"), (SMS_TYPES, p.max_sms_duration_s, "an SMS")):
            rules.append(
                RowRule("duration_s", f"duration_s above {limit} s for {what}",
                        f"{_in(rtype, types)} AND {dur} > {int(limit)}", f"{_in(rtype, types)} AND duration_s > {int(limit)}")
            )
        day = partition_day(partition)
        if day is not None:
            tol = dt.timedelta(seconds=p.record_day_tolerance_s)
            lo = dt.datetime.combine(day, dt.time()) - tol
            hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) + tol
            # the suite's rules before this one hold start_time to 'YYYY-MM-DD HH:MM:SS', in which text order
            # is time order: compared as text, without a cast per row
            # typed: a TIMESTAMP of whole seconds (as its text), compared as a time
            rules.append(
                RowRule("start_time", f"start_time outside its partition's day (± {p.record_day_tolerance_s} s)",
                        f"start_time < '{lo:%Y-%m-%d %H:%M:%S}' OR start_time >= '{hi:%Y-%m-%d %H:%M:%S}'",
                        f"start_time < TIMESTAMP '{lo:%Y-%m-%d %H:%M:%S}' OR start_time >= TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}'")
            )
    month = partition_month(partition)
    if month is not None and table == "billing":
        # text and typed alike: bill_month is a 'YYYY-MM' string once the suite's pattern rule has passed
        sql = f"bill_month <> {_lit(str(month))}"
        rules.append(RowRule("bill_month", f"bill_month not its partition's month ({month})", sql, sql))
    if table == "memberships":
        rules.append(RowRule("left_at", "left_at before joined_at",
                             f"{_present('left_at')} AND left_at < joined_at", "left_at < joined_at"))
    if table == "subscribers":
        rules.append(RowRule("closed_at", "closed_at set for an active subscriber",
                             f"status = 'active' AND {_present('closed_at')}", "status = 'active' AND closed_at IS NOT NULL"))
    # a month's snapshot cannot hold the future (text: 'YYYY-MM-DD' once the suite's format rule has passed)
    future = {"subscribers": "activated_at", "groups": "registered_at", "surveys": "surveyed_at"}
    if month is not None and table in future:
        col, last = future[table], month.end.isoformat()
        rules.append(RowRule(col, f"{col} after its partition's month ({month})",
                             f"{col} > {_lit(last)}", f"{col} > DATE {_lit(last)}"))
    return rules
