"""A calendar month (YYYY-MM), the unit of every monthly run. Period arithmetic lives here only."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        if isinstance(text, Period):
            return text
        m = _RE.match(str(text))
        if not m:
            raise ValueError(f"period must be YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The last day of the month."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self) -> list[date]:
        return [date(self.year, self.month, d) for d in range(1, self.end.day + 1)]

    def shift(self, months: int) -> Period:
        k = self.year * 12 + (self.month - 1) + months
        return Period(k // 12, k % 12 + 1)

    @property
    def previous(self) -> Period:
        return self.shift(-1)

    def back(self, months: int) -> list[Period]:
        """This period and the months - 1 before it, newest first."""
        return [self.shift(-i) for i in range(months)]
