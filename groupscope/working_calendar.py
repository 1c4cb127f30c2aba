"""The working calendar: which local days are working days, and which local hours are working time.

Working days in China follow the State Council's yearly notice, not Monday-Friday: public holidays
(e.g. National Day, 1-7 October) are rest days even on a weekday, and make-up working days (调休,
e.g. Saturday 10 October 2026) are working days even on a weekend. The national days come from the
`chinese-calendar` package (pinned in pyproject.toml), which carries every notice from 2004 on
(version 1.11.0: 2004-2026, including the 2026 notice). A year the package does not know falls back
to Monday-Friday with a warning; the configuration can add holidays and make-up days for any year,
and wins over the package where the two disagree.

Pure functions and values, no I/O: the generator and the pipeline both ask this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

NATIONAL_SOURCES = ("chinese-calendar", "none")


@cache
def national_days(year: int, source: str = "chinese-calendar") -> tuple[frozenset[date], frozenset[date]] | None:
    """(holidays, make-up working days) of one year by the national calendar, or None if `source` does not
    know the year. Holidays include those that fall on a weekend."""
    if source == "none":
        return frozenset(), frozenset()
    if source != "chinese-calendar":
        raise ValueError(f"unknown national calendar {source!r} (known: {', '.join(NATIONAL_SOURCES)})")
    import chinese_calendar as cc

    years = {d.year for d in cc.holidays}
    if year not in years:
        return None
    return (
        frozenset(d for d in cc.holidays if d.year == year),
        frozenset(d for d in cc.workdays if d.year == year),
    )


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours in the operator's local time.

    `timezone` is the operator's local zone: days and working hours are read on its clock. `cdr_timezone`
    is the zone of the wall-clock times the switches write in CDR start_time (the contract: local time,
    Asia/Shanghai); when the two differ, every start_time is converted to local time first.
    """

    working_hours: tuple[int, int] = (9, 18)  # local [start, end) on a working day
    national: str = "chinese-calendar"
    holidays: frozenset[date] = field(default_factory=frozenset)  # extra rest days (config)
    workdays: frozenset[date] = field(default_factory=frozenset)  # extra make-up working days (config)
    timezone: str = "Asia/Shanghai"
    cdr_timezone: str = "Asia/Shanghai"
    evening_end: int = 23  # a working day's evening is [working_hours end, evening_end), its night the rest
    rest_day_hours: tuple[int, int] = (8, 18)  # daytime of a rest day

    def days_of(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        nat = national_days(year, self.national)
        if nat is None:
            _warn_unknown_year(year, self.national)
            nat = (frozenset(), frozenset())
        hol, wd = nat
        # configured days win over the national ones
        hol = (hol - self.workdays) | {d for d in self.holidays if d.year == year}
        wd = (wd - self.holidays) | {d for d in self.workdays if d.year == year}
        return hol, wd

    def is_workday(self, d: date) -> bool:
        hol, wd = self.days_of(d.year)
        if d in wd:
            return True
        return d.weekday() < 5 and d not in hol

    def kind_of_day(self, d: date) -> str:
        """'workday', 'makeup' (a weekend working day), 'holiday' (a rest day on a weekday) or 'weekend'."""
        if self.is_workday(d):
            return "workday" if d.weekday() < 5 else "makeup"
        return "weekend" if d.weekday() >= 5 else "holiday"

    def is_work_time(self, t: datetime) -> bool:
        return self.is_workday(t.date()) and self.working_hours[0] <= t.hour < self.working_hours[1]

    def time_bin(self, t: datetime) -> int:
        """Coarse time-of-week bin of a local time: 0 working time, 1 a working day's evening, 2 a working
        day's night (and early morning), 3 a rest day's daytime, 4 a rest day's evening and night."""
        h = t.hour
        if self.is_workday(t.date()):
            if self.working_hours[0] <= h < self.working_hours[1]:
                return 0
            return 1 if self.working_hours[1] <= h < self.evening_end else 2
        return 3 if self.rest_day_hours[0] <= h < self.rest_day_hours[1] else 4

    def hour_slots(self, first: datetime, last: datetime) -> list[tuple[datetime, date, int, bool, bool, int]]:
        """One row per hour of the CDR clock from first's hour to last's hour: (slot start on the CDR clock,
        local day, local hour, working day?, working time?, time bin). A wall-clock hour that a daylight-
        saving change makes occur twice is listed once (its first occurrence)."""
        src, dst = ZoneInfo(self.cdr_timezone), ZoneInfo(self.timezone)
        same = self.cdr_timezone == self.timezone
        t = first.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        end = last.replace(tzinfo=None)
        rows = []
        while t <= end:
            local = t if same else t.replace(tzinfo=src).astimezone(dst).replace(tzinfo=None)
            if local.minute or local.second:
                raise ValueError(
                    f"calendar: time zones {self.cdr_timezone} and {self.timezone} differ by a fraction of an hour "
                    f"at {t} (not supported: working time is taken by whole hours)"
                )
            wd = self.is_workday(local.date())
            rows.append((t, local.date(), local.hour, wd, self.is_work_time(local), self.time_bin(local)))
            t += timedelta(hours=1)
        return rows


@cache
def _warn_unknown_year(year: int, source: str) -> None:
    log.warning(
        "calendar: %s knows no holidays for %d; working days of %d are Monday-Friday plus calendar.workdays "
        "minus calendar.holidays (add that year's holidays and make-up days to the config)",
        source, year, year,
    )


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
