"""Parameters of the synthetic operator."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class SynthParams:
    months: tuple[str, ...]
    subscribers: int = 20_000
    seed: int = 1
    home_carrier: str = "CMCC"
    # share of a company's employees on competitor carriers, drawn per company from this range
    offnet_share: tuple[float, float] = (0.30, 0.60)
    # share of a group's registered members that are fake, drawn per group from this range
    fake_share: tuple[float, float] = (0.05, 0.15)
    # multiplies every calling rate: 0.5 is a quiet population, 2.0 a chatty one
    activity: float = 1.0
    # share of a registered group's on-net employees that are registered members, per group
    registration_rate: tuple[float, float] = (0.70, 0.95)
    # share of home subscribers who work in a modelled company
    employed_share: float = 0.45
    faults: bool = False
    fault_kinds: tuple[str, ...] | None = None  # None: every kind
    gbk_sources: tuple[str, ...] = ()  # tables written in GBK instead of UTF-8
    cdr_format: str = "mixed"  # mixed | csv | csv.gz | parquet
    # ---- a real operator's variety (issue 12); TIDY below switches all of it off ----------------------
    # field staff (drivers, site, sales, field service): share of each industry's employees (FIELD_SHARE in
    # world.py) times this factor; 0: everyone sits in an office
    field_staff: float = 1.0
    # company data cards and IoT SIMs: per registered group, their share of its lines is drawn from this
    # range (and is 0 in DATA_LINE_FREE_GROUPS of groups); no calls or SMS, billed for data every month
    data_lines: tuple[float, float] = (0.02, 0.20)
    # share of employees who talk to colleagues through messaging apps: at most about one phone call with
    # a colleague a month, their working-time records still from the office cells
    messaging_share: float = 0.25
    # probability that a small business (at most 8 staff, at least one on-net) is a registered group of
    # 1-3 lines, some with a fake; 0: groups need >= 3 on-net employees and have >= 3 real members
    tiny_groups: float = 0.45
    # working days by the national calendar (holidays and make-up working days); False: Monday-Friday
    holidays: bool = True
    # monthly share of home lines closed (churn and port-out); members who close leave their groups
    churn: float = 0.006
    # monthly share of home lines newly activated (some of them new staff who join their group)
    activations: float = 0.006
    # probability that a month's extract carries no closures at all
    churn_free_months: float = 0.15
    # relative error (standard deviation) of account managers' on-site headcounts
    survey_error: float = 0.15
    # share of active groups surveyed each month (0: no surveys)
    survey_share: float = 0.12
    # multiplies port rates (historical and in-period); 0: no number was ever ported
    ports: float = 1.0
    # off-net people outside the modelled companies per home subscriber (0 with offnet_share (0, 0) and
    # ports 0: no off-net number at all)
    offnet_people: float = 0.7
    # at most this many registered groups (None: every company that registers)
    max_groups: int | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.subscribers < 200:
            raise ValueError("subscribers must be at least 200")
        if not self.months:
            raise ValueError("at least one month is needed")
        for lo_hi in (self.offnet_share, self.fake_share, self.registration_rate, self.data_lines):
            lo, hi = lo_hi
            if not (0 <= lo <= hi < 1):
                raise ValueError(f"range {lo_hi} must satisfy 0 <= lo <= hi < 1")
        if self.activity <= 0:
            raise ValueError("activity must be positive")
        for name in ("messaging_share", "tiny_groups", "churn", "activations", "churn_free_months", "survey_share"):
            if not (0 <= getattr(self, name) <= 1):
                raise ValueError(f"{name} must be in [0, 1]")
        for name in ("field_staff", "survey_error", "ports", "offnet_people"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.survey_error >= 1:
            raise ValueError("survey_error must be below 1")
        if self.max_groups is not None and self.max_groups < 1:
            raise ValueError("max_groups must be at least 1")
        if self.fault_kinds and not self.faults:
            raise ValueError("fault kinds are named but faults are off (add --faults)")
        from groupscope.contract import INPUT_TABLES

        unknown = sorted(set(self.gbk_sources) - set(INPUT_TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) to write in GBK: {', '.join(unknown)} (tables: {', '.join(INPUT_TABLES)})")
        if self.cdr_format not in ("mixed", "csv", "csv.gz", "parquet"):
            raise ValueError("cdr_format must be mixed, csv, csv.gz or parquet")

    def as_dict(self) -> dict:
        return asdict(self)


# Every setting of a real operator's variety switched off: the tidy operator the first models were built on
# (every employee in an office and on the phone with colleagues, every group >= 3 real members, no data
# lines, Monday-Friday, closures every month, surveys within about 3 %).
TIDY = dict(
    field_staff=0.0,
    data_lines=(0.0, 0.0),
    messaging_share=0.0,
    tiny_groups=0.0,
    holidays=False,
    churn_free_months=0.0,
    survey_error=0.03,
)


def drawn_settings(n: int, seed: int = 4242) -> list[dict]:
    """n operators' generator settings drawn at random over wide ranges, each with its own seed (3001...,
    seeds no fixed row of the quality sweep uses): for measuring the models on operators nobody chose.
    Activity 0.4-1.6, off-net share from a range starting in 0.05-0.65, fakes from 0-20 % up to 5-15 %
    more, field staff 0-2.5x, messaging-app staff 0-50 %, tiny groups 0-0.8, registration rate from
    0.4-0.8 up to 0.95, survey error 3-30 %, survey share 5-25 %, 5,000-12,000 subscribers; the other
    settings at their defaults (data lines, holidays, churn)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(1, n + 1):
        lo, width, flo = float(rng.uniform(0.05, 0.65)), float(rng.uniform(0.1, 0.3)), float(rng.uniform(0.0, 0.2))
        kw = dict(activity=float(rng.uniform(0.4, 1.6)), offnet_share=(lo, min(0.95, lo + width)),
                  fake_share=(flo, flo + float(rng.uniform(0.05, 0.15))), field_staff=float(rng.uniform(0, 2.5)),
                  messaging_share=float(rng.uniform(0, 0.5)), tiny_groups=float(rng.uniform(0, 0.8)),
                  survey_error=float(rng.uniform(0.03, 0.3)), survey_share=float(rng.uniform(0.05, 0.25)),
                  registration_rate=(float(rng.uniform(0.4, 0.8)), 0.95))
        out.append(dict(kw, subscribers=int(rng.integers(5000, 12000)), seed=3000 + i))
    return out
