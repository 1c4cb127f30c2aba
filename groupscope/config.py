"""Every tunable of groupscope, with its default and meaning, validated in one place.

The defaults live here and nowhere else. `groupscope config` prints them as a commented YAML file
(`docs/groupscope.example.yaml` is that output); a user's YAML only needs the keys it changes.
A wrong key or a wrong type is a `ConfigError` that names the key.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from groupscope.contract import INPUT_TABLES


class ConfigError(ValueError):
    """The configuration is not valid; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SqlSource(_Section):
    url: str = Field(description="SQLAlchemy URL of the source database (credentials from the environment)")
    table: str = Field(description="table (optionally schema.table) holding the contract table's rows")
    period_column: str | None = Field(
        default=None, description="column that holds the period (YYYY-MM); empty: the table holds one period"
    )


def _known_codec(v: str) -> str:
    """A text encoding Python can decode (codecs.lookup), e.g. utf-8, gbk, gb18030."""
    import codecs

    try:
        codecs.lookup(v)
    except LookupError:
        raise ValueError(f"unknown encoding {v!r} (e.g. utf-8, gbk, gb18030)") from None
    return v


Encoding = Annotated[str, AfterValidator(_known_codec)]


class SourcesConfig(_Section):
    default_encoding: Encoding = Field(default="utf-8", description="text encoding of CSV files")
    encodings: dict[str, Encoding] = Field(
        default_factory=dict, description="per contract table, e.g. {account_managers: gbk}"
    )
    sql: dict[str, SqlSource] = Field(
        default_factory=dict, description="monthly tables read from a SQL source instead of LANDING"
    )
    allow_links_outside_landing: bool = Field(
        default=False,
        description="read files whose symbolic links resolve outside the landing folder (off: such a file is "
        "refused and named in files_readable)",
    )
    link_roots: list[str] = Field(
        default_factory=list,
        description="folders outside the landing folder that symbolic links may resolve into, for deployments "
        "that mount sources by link",
    )

    @field_validator("encodings", "sql")
    @classmethod
    def _known_tables(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - set(INPUT_TABLES))
        if unknown:
            raise ValueError(f"unknown contract table(s): {', '.join(unknown)}")
        return v

    def encoding_of(self, table: str) -> str:
        return self.encodings.get(table, self.default_encoding)


class ModelConfig(_Section):
    """Tunables of the member and potential-member models (transforms/scores.py, membership.py, graph.py)."""

    reference_quantile: float = Field(
        default=0.75, gt=0, lt=1,
        description="a group's typical real member is this quantile of each signal over its active members (fakes are a minority)",
    )
    reference_prior_members: float = Field(
        default=5.0, ge=0,
        description="small groups borrow: reference = (n x own + k x peers) / (n + k), n = active members, k = this; peers = same industry and size band",
    )
    peer_min_members: int = Field(
        default=20, ge=1,
        description="a peer cell (industry x size band) lends reference values with at least this many active members; else the industry, else all groups",
    )
    size_bands: list[int] = Field(
        default_factory=lambda: [3, 9, 29, 99],
        description="upper bounds of the group size bands (registered members) whose groups lend each other reference values",
    )
    tie_work_share: float = Field(
        default=0.5, ge=0, le=1, description="a tie is work-like when at least this share of its calls and SMS is in working time"
    )
    tie_min_work_events: int = Field(
        default=2, ge=1,
        description="a work-like tie counts fully with this many working-time calls or SMS in the month, in proportion below",
    )
    tie_evidence: float = Field(
        default=0.35, ge=0, lt=1,
        description="evidence of a real member given by one work-like tie with a colleague (member or likely employee); n ties give 1 - (1 - e)^n",
    )
    tie_focus_full: float = Field(
        default=0.25, gt=0, le=1,
        description="colleague ties count fully when they carry at least this share of the member's working-time calls and SMS (an outsider's chance tie carries little)",
    )
    key_person_ties: float = Field(
        default=2.0, ge=0, description="a work-like tie with the group's key person counts as this many ties"
    )
    key_person_evidence: float = Field(
        default=0.7, ge=0, lt=1,
        description="evidence that the registered key person (the account manager's named contact) is a real member",
    )
    colocation_evidence: float = Field(
        default=0.9, ge=0, lt=1, description="evidence of being seen at work in the group's cells as much as its typical member"
    )
    colocation_min_records: int = Field(
        default=2, ge=1,
        description="working-time records with a cell at which co-location counts fully (fewer: proportionally); "
        "a cell holding the typical member's share of the group's working time is rarely hit by chance",
    )
    colocation_floor: float = Field(
        default=0.05, gt=0, le=1, description="smallest reference co-location (a group without a shared workplace)"
    )
    home_time_bins: list[int] = Field(
        default_factory=lambda: [2, 3, 4],
        description="time bins (2 working-day night, 3 rest-day daytime, 4 rest-day evening and night) whose cells are a "
        "line's home: its working-time records made there add nothing to its co-location (a relative at home with "
        "the member it lives with is family, not a colleague at work); empty: every cell counts",
    )
    shared_contact_evidence: float = Field(
        default=0.35, ge=0, lt=1,
        description="evidence of a real member given by one shared work contact: a number not registered in the group "
        "with which the member and another member both have work-like ties (the company's client, supplier, "
        "switchboard or unregistered staff); n of them give 1 - (1 - e)^(n x min(1, their share of the member's "
        "working-time calls / tie_focus_full)), like ties",
    )
    profile_evidence: float = Field(
        default=0.3, ge=0, lt=1,
        description="evidence of a calling-time profile like the group's (weak: anyone who works has a working-time profile)",
    )
    profile_floor: float = Field(default=0.05, gt=0, le=1, description="smallest reference profile similarity")
    data_line_share: float = Field(
        default=0.9, gt=0, le=1,
        description="a line without calls or SMS whose bill is at least this share data charges is a data card or IoT SIM in use, not dormant",
    )
    data_line_evidence: float = Field(
        default=0.9, ge=0, lt=1, description="evidence of a real line given by data-only billing"
    )
    min_events: int = Field(
        default=4, ge=0,
        description="a member with fewer calls and SMS than this (but some) is not flagged: evidence = insufficient",
    )
    min_days_observed: int = Field(
        default=10, ge=0,
        description="a member who joined or activated fewer days than this before period end is not flagged: evidence = insufficient",
    )
    confident_events: int = Field(
        default=30, ge=1, description="calls and SMS at which a verdict's confidence no longer grows with volume"
    )
    reason_strong: float = Field(
        default=0.7, ge=0, le=1, description="co-location at or above this share of the typical value is named as evidence in the reasons"
    )
    reason_family_events: int = Field(
        default=5, ge=1, description="a member without colleague ties that calls one member at least this often is described as family-like"
    )
    reason_family_work_share: float = Field(
        default=0.3, ge=0, le=1, description="... when less than this share of those calls is in working time"
    )
    reason_weak: float = Field(
        default=0.5, ge=0, le=1, description="a signal below this share of the group's typical value is named as weak in the reasons"
    )
    employee_weights: dict[str, float] = Field(
        default_factory=lambda: {"work": 0.35, "coupling": 0.25, "focus": 0.15, "colocation": 0.25},
        description="weights of the potential-member (employee) score: working-time share, members beyond the first, focus, co-location",
    )
    employee_min_work_records: int = Field(
        default=3, ge=1, description="an on-net candidate's co-location counts with at least this many working-time records"
    )
    closure_full: float = Field(
        default=0.3, gt=0, le=1,
        description="a candidate's member contacts count as a team (no scatter penalty) when this share of them call another of them",
    )
    scatter_penalty: float = Field(
        default=0.4, ge=0, le=1,
        description="largest cut of the employee score for contacts scattered over the group (a client, supplier or courier of many)",
    )
    scatter_from: int = Field(default=4, ge=1, description="the scatter cut starts above this many members contacted")
    scatter_full: int = Field(default=8, ge=2, description="... and is whole from this many members contacted on")
    employee_min_members: int = Field(
        default=2, ge=1,
        description="a candidate in contact with fewer registered members than this has its employee score scaled by "
        "members_contacted / this, whatever the group's size: contact with one member is a relation with that person "
        "(a client, supplier, friend), not yet evidence of working for the group; it bears on likely_employee, "
        "never on the list (the contract's 10 % rule)",
    )
    employee_min_work_share: float = Field(
        default=0.5, gt=0, le=1,
        description="a candidate whose calls and SMS with the group's members have a working-time share below this has "
        "its employee score scaled by share / this (a colleague's contact is mostly in working time, a friend's or "
        "relative's in the evenings and on rest days: the tie_work_share of a work-like tie); like "
        "employee_min_members it bears on likely_employee, never on the list, the market counts or the colleague ties",
    )
    employee_floors: dict[str, float] = Field(
        default_factory=lambda: {"work": 0.05, "focus": 0.05, "colocation": 0.01},
        description="smallest reference values of the employee-score signals",
    )

    @field_validator("size_bands")
    @classmethod
    def _bands(cls, v: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(v, v[1:])) or any(x < 1 for x in v):
            raise ValueError("size bands must be increasing positive integers")
        return v

    @field_validator("home_time_bins")
    @classmethod
    def _home_bins(cls, v: list[int]) -> list[int]:
        if any(b not in (1, 2, 3, 4) for b in v):
            raise ValueError("home time bins are among 1 (working-day evening), 2, 3 and 4 (0 is working time)")
        return v

    @field_validator("employee_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        need = {"work", "coupling", "focus", "colocation"}
        if set(v) != need or any(x < 0 for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError(f"needs non-negative weights for exactly {sorted(need)}")
        return v

    @field_validator("employee_floors")
    @classmethod
    def _floors(cls, v: dict[str, float]) -> dict[str, float]:
        need = {"work", "focus", "colocation"}
        if set(v) != need or any(x <= 0 for x in v.values()):
            raise ValueError(f"needs positive floors for exactly {sorted(need)}")
        return v


class AnalyticsConfig(_Section):
    fake_threshold: float = Field(
        default=0.5, ge=0, le=1, description="fake_score at or above which a member is flagged (is_suspect)"
    )
    potential_member_share: float = Field(
        default=0.10,
        gt=0,
        le=1,
        description="a non-member in contact with more than this share of a group's members is listed",
    )
    employee_score_threshold: float = Field(
        default=0.65, ge=0, le=1, description="potential-member score at or above which likely_employee is true"
    )
    min_surveys_per_industry: int = Field(
        default=8, ge=1,
        description="surveys a group size band needs for its own correction coefficient (fewer: it pools its "
        "neighbouring bands; fewer in all: global); the name is kept from when coefficients were per industry"
    )
    survey_months: int = Field(default=12, ge=1, description="months of surveys used to calibrate the correction")
    employee_count_ramp: list[float] = Field(
        default_factory=lambda: [0.5, 0.7],
        description="score-based market share: an unregistered contact counts in the group's expected employees "
        "with weight 0 at an employee score up to the first value, 1 from the second, linear between (about the "
        "share of employees among the contacts at that score); equal values: a hard count at that score",
    )
    coefficient_max_ratio: float = Field(
        default=3.0, ge=1,
        description="a size band's score-based correction coefficient is held within [global / this, global x "
        "this]; a band clipped to it is warned about in the run's log and printed summary",
    )
    rule_coefficient_max_ratio: float = Field(
        default=10.0, ge=1,
        description="the same bound for the 10 % rule's coefficient, wider: its bands differ by design (10 % of "
        "the members is one member in a small group, ten in a large one, so the key competitor users found per "
        "employee fall with the group's size)",
    )
    survey_max_ratio: float = Field(
        default=4.0, gt=1,
        description="a survey is left out of the calibration (counted in surveys_excluded, named in the run's log; "
        "the group's latest plausible survey stands in) when its headcount is over this many times the headcount "
        "the group's calls predict (on-net staff + the median survey's ratio x expected unregistered employees) "
        "plus survey_slack, or under (its on-net staff - survey_slack) / this: a typing error such as an extra zero, "
        "or another company's figure, which would otherwise move every group's coefficient",
    )
    survey_slack: float = Field(
        default=5.0, ge=0,
        description="employees added to (taken from) the predicted headcount before survey_max_ratio applies: a "
        "small company whose few employees hardly call its registered lines is not implausible",
    )
    coefficient_warn_loo_pp: float = Field(
        default=25.0, gt=0,
        description="the run warns when a coefficient's leave-one-out market-share error (percentage points) is above this",
    )

    @field_validator("employee_count_ramp")
    @classmethod
    def _ramp(cls, v: list[float]) -> list[float]:
        if len(v) != 2 or not (0 <= v[0] <= v[1] <= 1):
            raise ValueError("employee_count_ramp is [low, high] with 0 <= low <= high <= 1")
        return v
    prospect_min_size: int = Field(default=5, ge=3, description="smallest prospect group listed (numbers)")
    prospect_min_work_share: float = Field(
        default=0.5, ge=0, le=1, description="a tie counts for prospects when this share of its calls is in working hours"
    )
    prospect_min_events: int = Field(default=1, ge=1, description="a tie counts for prospects with at least this many calls/SMS")
    prospect_team_density: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description="Leiden (Constant Potts Model) resolution: a team is a set of numbers of which more than this share of pairs call each other; independent of the operator's size",
    )
    prospect_min_ties: int = Field(
        default=2, ge=1, description="a number stays in its team with ties to at least this many other numbers of the team"
    )
    prospect_max_group_attachment: float = Field(
        default=0.5,
        ge=0,
        description="teams whose working-time calls with one registered group's members exceed this share of their own working-time calls are that group's staff, not prospects",
    )
    prospect_link_ties: int = Field(
        default=3, ge=1, description="two teams with at least this many work-like ties between them are departments of one prospect"
    )
    prospect_link_numbers: int = Field(
        default=2,
        ge=1,
        description="those ties must involve at least this many distinct numbers of each team (so one outside contact never joins two teams)",
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="tunables of the member and employee models")


def _zone(v: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}") from None
    return v


def _hour_range(v: tuple[int, int]) -> tuple[int, int]:
    if not (0 <= v[0] < v[1] <= 24):
        raise ValueError("must be [start, end) with 0 <= start < end <= 24")
    return v


class CalendarConfig(_Section):
    """The working calendar (groupscope.working_calendar): every place that asks "is this working time?"
    (call graph, presence, calling profiles, prospects) reads it from here."""

    timezone: str = Field(
        default="Asia/Shanghai",
        description="the operator's local time zone: calendar days and working hours are read on its clock",
    )
    cdr_timezone: str | None = Field(
        default=None,
        description="time zone of the wall-clock times in CDR start_time; empty: the same as timezone (the "
        "contract's local time); when it differs, start_time is converted to timezone before days and hours are taken",
    )
    working_hours: tuple[int, int] = Field(
        default=(9, 18), description="local hours [start, end) counted as working time on working days"
    )
    evening_end: int = Field(
        default=23, ge=1, le=24,
        description="time bins: a working day's evening runs from the end of working hours to this hour, its night after",
    )
    rest_day_hours: tuple[int, int] = Field(
        default=(8, 18), description="time bins: local hours [start, end) of a rest day's daytime"
    )
    national: Literal["chinese-calendar", "none"] = Field(
        default="chinese-calendar",
        description="national holidays and make-up working days: chinese-calendar (the State Council's notices, "
        "package chinese-calendar 1.11.0: 2004-2026) or none (Monday-Friday); a year it does not know is "
        "Monday-Friday with a warning",
    )
    holidays: list[date] = Field(
        default_factory=list, description="extra rest days (YYYY-MM-DD), e.g. a year the package does not know yet"
    )
    workdays: list[date] = Field(
        default_factory=list, description="extra make-up working days (YYYY-MM-DD); these and holidays win over the package"
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _zone(v)

    @field_validator("cdr_timezone")
    @classmethod
    def _cdr_tz(cls, v: str | None) -> str | None:
        return None if v in (None, "") else _zone(v)

    @field_validator("working_hours", "rest_day_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        return _hour_range(v)

    @model_validator(mode="after")
    def _consistent(self) -> CalendarConfig:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"days both holidays and workdays: {', '.join(d.isoformat() for d in both)}")
        if self.evening_end < self.working_hours[1]:
            raise ValueError("evening_end must not be before the end of working_hours")
        return self

    def work_calendar(self):
        from groupscope.working_calendar import WorkCalendar

        return WorkCalendar(
            working_hours=tuple(self.working_hours),
            national=self.national,
            holidays=frozenset(self.holidays),
            workdays=frozenset(self.workdays),
            timezone=self.timezone,
            cdr_timezone=self.cdr_timezone or self.timezone,
            evening_end=self.evening_end,
            rest_day_hours=tuple(self.rest_day_hours),
        )


Severity = Literal["blocking", "warning"]


class PlausibilityConfig(_Section):
    """Bounds on values that are well-formed but cannot be true (expectations/plausibility.py applies them)."""

    max_call_duration_s: int = Field(
        default=21_600,
        ge=1,
        description="longest voice record (MOC/MTC) accepted, in seconds; switches cut longer calls into "
        "partial records, so a longer one is a corrupt duration",
    )
    max_sms_duration_s: int = Field(
        default=0, ge=0, description="largest duration_s of an SMS record (SMS_MO/SMS_MT); switches write 0"
    )
    record_day_tolerance_s: int = Field(
        default=10_800,
        ge=0,
        description="a CDR's start_time may lie this many seconds before or after its dt= partition's day "
        "(calls crossing midnight, records filed by end time); outside it the row is quarantined",
    )
    max_text_length: int = Field(
        default=256, ge=1, description="longest value of a free-text column (names, cell_id, ...), in characters"
    )
    reject_control_characters: bool = Field(
        default=True,
        description="quarantine rows whose text columns hold control characters (NUL, ESC, BEL, DEL, ...; "
        "tab and line breaks inside quoted values are kept)",
    )


class ValidationConfig(_Section):
    severity: dict[str, Severity] = Field(
        default_factory=lambda: {
            "files_readable": "blocking",
            "days_complete": "blocking",
            "quarantine_share": "blocking",
            "row_count_band": "warning",
            "referential_integrity": "warning",
            "extra_columns": "warning",
            "duplicate_delivery": "warning",
            "great_expectations": "blocking",
            "unexpected_files": "blocking",
            "rows_accounted": "blocking",
            "rows_present": "blocking",
            "empty_files": "warning",
        },
        description="table-level expectations: blocking stops the run, warning is reported",
    )
    max_quarantine_share: float = Field(
        default=0.05, ge=0, le=1, description="a table with a larger share of its rows quarantined fails quarantine_share"
    )
    row_count_band: float = Field(
        default=0.5, ge=0, description="accepted rows may differ by this fraction from the mean of earlier periods"
    )
    row_count_history: int = Field(default=3, ge=1, description="earlier periods compared in row_count_band")
    gx_sample_rows: int = Field(
        default=50_000, ge=1000, description="rows of a large table that Great Expectations validates (a fixed sample)"
    )
    plausibility: PlausibilityConfig = Field(
        default_factory=PlausibilityConfig,
        description="bounds on values that are well-formed but implausible; failing rows are quarantined",
    )

    @field_validator("severity")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        known = set(ValidationConfig.model_fields["severity"].default_factory())
        unknown = sorted(set(v) - known)
        if unknown:
            raise ValueError(f"unknown expectation(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return {**ValidationConfig.model_fields["severity"].default_factory(), **v}


class AhpLevel(_Section):
    names: list[str] = Field(description="the elements compared, in matrix order")
    matrix: list[list[float]] = Field(description="pairwise comparisons on Saaty's 1-9 scale, a[i][j] = importance of i over j")

    @field_validator("matrix", mode="before")
    @classmethod
    def _fractions(cls, v):
        """Entries may be written as fractions, e.g. 1/3."""
        from fractions import Fraction

        if isinstance(v, list):
            return [[float(Fraction(x)) if isinstance(x, str) else x for x in row] if isinstance(row, list) else row for row in v]
        return v


class ValueModel(_Section):
    criteria: AhpLevel = Field(description="criteria (current, potential) compared pairwise")
    indicators: dict[str, AhpLevel] = Field(description="per criterion, its indicators compared pairwise")


def _default_subscriber_model() -> ValueModel:
    return ValueModel(
        criteria=AhpLevel(names=["current", "potential"], matrix=[[1, 2], [0.5, 1]]),
        indicators={
            "current": AhpLevel(
                names=["revenue", "minutes", "active_days", "paid_ratio"],
                matrix=[[1, 3, 3, 2], [1 / 3, 1, 1, 1 / 2], [1 / 3, 1, 1, 1 / 2], [1 / 2, 2, 2, 1]],
            ),
            "potential": AhpLevel(
                names=["tenure", "social_reach", "onnet_share", "group_centrality"],
                matrix=[[1, 1 / 2, 1, 1 / 2], [2, 1, 2, 1], [1, 1 / 2, 1, 1 / 2], [2, 1, 2, 1]],
            ),
        },
    )


def _default_group_model() -> ValueModel:
    return ValueModel(
        criteria=AhpLevel(names=["current", "potential"], matrix=[[1, 1], [1, 1]]),
        indicators={
            "current": AhpLevel(
                names=["real_revenue", "real_members", "purity", "spread"],
                matrix=[[1, 2, 3, 3], [1 / 2, 1, 2, 2], [1 / 3, 1 / 2, 1, 1], [1 / 3, 1 / 2, 1, 1]],
            ),
            "potential": AhpLevel(
                names=["headroom", "growth", "share_gap"],
                matrix=[[1, 2, 2], [1 / 2, 1, 1], [1 / 2, 1, 1]],
            ),
        },
    )


class ValueConfig(_Section):
    subscriber: ValueModel = Field(default_factory=_default_subscriber_model, description="subscriber value hierarchy")
    group: ValueModel = Field(default_factory=_default_group_model, description="group value hierarchy")
    max_consistency_ratio: float = Field(default=0.10, gt=0, description="AHP matrices with a CR at or above this are refused")
    pyramid: list[float] = Field(
        default_factory=lambda: [0.01, 0.04, 0.15, 0.40, 0.40], description="value pyramid shares, top tier first"
    )
    pyramid_labels: list[str] = Field(
        default_factory=lambda: ["T1 top 1%", "T2 next 4%", "T3 next 15%", "T4 next 40%", "T5 last 40%"],
        description="labels of the pyramid tiers",
    )
    grid_quantile: float = Field(
        default=0.5, gt=0, lt=1, description="current / potential scores at or above this quantile count as high in the 2x2 grid"
    )
    margin: float = Field(default=0.35, gt=0, le=1, description="contribution margin on revenue for lifetime value")
    monthly_discount_rate: float = Field(default=0.008, ge=0, description="discount rate per month for lifetime value")

    @field_validator("pyramid")
    @classmethod
    def _shares(cls, v: list[float]) -> list[float]:
        if abs(sum(v) - 1.0) > 1e-9 or any(x <= 0 for x in v):
            raise ValueError("pyramid shares must be positive and sum to 1")
        return v


_IDENT = r"^[a-z_][a-z0-9_]{0,40}$"


class ReportingConfig(_Section):
    schema_name: str = Field(
        default="groupscope", pattern=_IDENT, description="schema of the star schema and views BI reads"
    )
    restricted_schema: str = Field(
        default="groupscope_restricted", pattern=_IDENT, description="schema of clear numbers and quarantined rows"
    )
    bi_role: str = Field(
        default="groupscope_bi", pattern=_IDENT, description="PostgreSQL role that reads every reporting row"
    )
    am_role: str = Field(
        default="groupscope_am", pattern=_IDENT,
        description="PostgreSQL role of account managers: reads only the rows of the groups they own",
    )
    pseudonym_key_env: str = Field(
        default="GROUPSCOPE_PSEUDONYM_KEY",
        description="environment variable holding the secret key of number pseudonyms (an embedded database "
        "without it gets a key file in work_dir/secrets)",
    )


class EngineConfig(_Section):
    kind: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="engine of the transforms (calls, group analytics, value): duckdb (embedded) or spark",
    )
    spark_master: str | None = Field(
        default="local[2]",
        description="Spark master URL (local[N], spark://host:7077, yarn); empty under spark-submit (its --master applies)",
    )
    spark_remote: str | None = Field(
        default=None, description="Spark Connect URL (sc://host:15002); when set, spark_master is not used"
    )
    spark_app_name: str = Field(default="groupscope", description="Spark application name")
    spark_shuffle_partitions: int = Field(
        default=8, ge=1, description="spark.sql.shuffle.partitions (raise it on a cluster: ~2-4 per executor core)"
    )
    spark_driver_memory: str = Field(default="2g", description="spark.driver.memory in local mode")
    spark_conf: dict[str, str] = Field(default_factory=dict, description="further Spark settings, e.g. {spark.executor.memory: 8g}")


class Config(_Section):
    home_carrier: str = Field(default="CMCC", description="carrier code of the operator running groupscope")
    work_dir: str = Field(
        default="groupscope_work",
        description="staged Parquet, manifests, Data Docs; relative paths are under the working directory",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the reporting database; empty: embedded DuckDB file work_dir/reporting.duckdb",
    )
    duckdb_memory_limit: str = Field(
        default="2GB", description="memory DuckDB may use before it spills to disk under work_dir (e.g. 512MB, 4GB)"
    )
    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_limit_duckdb_reads(cls, v: str) -> str:
        """A size DuckDB itself accepts (e.g. 2GB, 512MiB, 50%), checked by DuckDB, so that a typo is a config
        error and not a failed run."""
        import duckdb

        try:
            duckdb.connect(config={"memory_limit": str(v)}).close()
        except duckdb.Error as e:
            raise ValueError(f"not a DuckDB memory size (e.g. 2GB, 512MiB, 50%): {str(e).splitlines()[0]}") from None
        return str(v)

    duckdb_threads: int = Field(default=0, ge=0, description="DuckDB worker threads; 0: one per core")
    duckdb_temp_directory: str | None = Field(
        default=None,
        description="folder of DuckDB's spill files and of the partitioned intermediates; empty: work_dir/tmp "
        "(a fast local disk with free space of a few times the month's CDR files)",
    )
    duckdb_partition_rows: int = Field(
        default=0, ge=0,
        description="input rows per hash partition of the steps too large for memory (the calls, the call graph, "
        "the candidates); 0: from duckdb_memory_limit (one input row per 200 bytes of it)",
    )
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    value: ValueConfig = Field(default_factory=ValueConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        """Keys that moved to the calendar section: refused with their new place, never ignored."""
        if isinstance(data, dict):
            if "timezone" in data:
                raise ValueError("timezone moved to calendar.timezone (and calendar.cdr_timezone)")
            if isinstance(data.get("analytics"), dict) and "working_hours" in data["analytics"]:
                raise ValueError("analytics.working_hours moved to calendar.working_hours")
        return data

    @property
    def work_path(self) -> Path:
        return Path(self.work_dir).resolve()

    @property
    def temp_path(self) -> Path:
        """DuckDB's spill folder and the partitioned intermediates' (duckdb_temp_directory, else work_dir/tmp)."""
        return Path(self.duckdb_temp_directory).resolve() if self.duckdb_temp_directory else self.work_path / "tmp"

    def duckdb_connect(self):
        """An in-memory DuckDB connection within the configured memory, spilling to work_dir/tmp."""
        import duckdb

        spill = self.temp_path
        spill.mkdir(parents=True, exist_ok=True)
        settings = {"memory_limit": self.duckdb_memory_limit, "temp_directory": str(spill)}
        if self.duckdb_threads:
            settings["threads"] = self.duckdb_threads
        con = duckdb.connect(config=settings)
        con.execute("SET enable_progress_bar = false")  # batch job: no progress bars on stderr
        return con

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"duckdb:///{self.work_path / 'reporting.duckdb'}"


def _format_error(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(root)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        parts.append(f"{key}: {msg}")
    return "; ".join(parts)


def config_from_dict(data: dict[str, Any] | None, source: str = "config") -> Config:
    try:
        return Config.model_validate(data or {})
    except ValidationError as e:
        raise ConfigError(f"{source}: {_format_error(e)}") from None


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
    """Load the configuration.

    Looks at `path`, else $GROUPSCOPE_CONFIG, else ./groupscope.yaml when present, else the defaults.
    Keyword overrides (e.g. database_url=...) are applied last, validated like the file.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    candidate = path or os.environ.get("GROUPSCOPE_CONFIG")
    if candidate is None and Path("groupscope.yaml").exists():
        candidate = "groupscope.yaml"
    if candidate is not None:
        p = Path(candidate)
        if not p.exists():
            raise ConfigError(f"config file {p} does not exist")
        try:
            text = p.read_text(encoding="utf-8")
        except IsADirectoryError:
            raise ConfigError(f"config file {p} is a directory, not a YAML file") from None
        except UnicodeDecodeError as e:
            line = p.read_bytes()[: e.start].count(b"\n") + 1
            raise ConfigError(f"config file {p} is not UTF-8 text (line {line}): save it as UTF-8") from None
        except OSError as e:
            raise ConfigError(f"config file {p} cannot be read: {e.strerror or e}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {yaml_error_line(e)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of keys")
        data = loaded or {}
        source = str(p)
    for k, v in overrides.items():
        if v is not None:
            data[k] = v
    return config_from_dict(data, source)


def yaml_error_line(e: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: where (line, column, 1-based) and what, e.g.
    `line 3, column 11: expected ',' or ']', but got ':'` (PyYAML's own text takes five lines)."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    what = " ".join(str(getattr(e, "problem", None) or e).split())
    context = getattr(e, "context", None)
    if context and getattr(e, "problem", None):
        what = f"{what} ({' '.join(context.split())})"
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}" if mark else what


def _yaml_value(v: Any) -> str:
    if isinstance(v, tuple):
        v = list(v)
    return yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=10**6).strip().removesuffix("...").strip()


def _describe(obj: BaseModel, indent: int) -> list[str]:
    """Every field of a (default) config object: its description as a comment, then its value."""
    lines: list[str] = []
    pad = "  " * indent
    for name, f in type(obj).model_fields.items():
        value = getattr(obj, name)
        lines.append(f"{pad}# {f.description}" if f.description else f"{pad}# section {name}")
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            lines += _describe(value, indent + 1)
        elif isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
            lines.append(f"{pad}{name}:")
            for k, v in value.items():
                lines.append(f"{pad}  {k}:")
                lines += _describe(v, indent + 2)
        elif isinstance(value, dict) and value:
            lines.append(f"{pad}{name}:")
            lines += [f"{pad}  {k}: {_yaml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{pad}{name}: {_yaml_value(value)}")
    return lines


def defaults_yaml() -> str:
    """Every key with its default value and description, as a YAML document."""
    head = [
        "# groupscope configuration: every key, its default and its meaning.",
        "# Generated by `groupscope config`; a real config file only needs the keys it changes.",
        "",
    ]
    return "\n".join(head + _describe(Config(), 0)) + "\n"
