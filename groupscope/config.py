"""Every tunable of groupscope, with its default and meaning, validated in one place.

The defaults live here and nowhere else. `groupscope config` prints them as a commented YAML file
(`docs/groupscope.example.yaml` is that output); a user's YAML only needs the keys it changes.
A wrong key or a wrong type is a `ConfigError` that names the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class SourcesConfig(_Section):
    default_encoding: str = Field(default="utf-8", description="text encoding of CSV files")
    encodings: dict[str, str] = Field(
        default_factory=dict, description="per contract table, e.g. {account_managers: gbk}"
    )
    sql: dict[str, SqlSource] = Field(
        default_factory=dict, description="monthly tables read from a SQL source instead of LANDING"
    )

    @field_validator("encodings", "sql")
    @classmethod
    def _known_tables(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - set(INPUT_TABLES))
        if unknown:
            raise ValueError(f"unknown contract table(s): {', '.join(unknown)}")
        return v

    @field_validator("default_encoding")
    @classmethod
    def _codec(cls, v: str) -> str:
        import codecs

        codecs.lookup(v)
        return v

    def encoding_of(self, table: str) -> str:
        return self.encodings.get(table, self.default_encoding)


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
        default=8, ge=1, description="surveys an industry needs for its own correction coefficient (else global)"
    )
    survey_months: int = Field(default=12, ge=1, description="months of surveys used to calibrate the correction")
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
    working_hours: tuple[int, int] = Field(
        default=(9, 18), description="local hours [start, end) counted as working time on weekdays"
    )

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not (0 <= v[0] < v[1] <= 24):
            raise ValueError("must be [start, end) with 0 <= start < end <= 24")
        return v


Severity = Literal["blocking", "warning"]


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
    timezone: str = Field(default="Asia/Shanghai", description="time zone of CDR start_time values")
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
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    value: ValueConfig = Field(default_factory=ValueConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @property
    def work_path(self) -> Path:
        return Path(self.work_dir).resolve()

    def duckdb_connect(self):
        """An in-memory DuckDB connection within the configured memory, spilling to work_dir/tmp."""
        import duckdb

        spill = self.work_path / "tmp"
        spill.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(config={"memory_limit": self.duckdb_memory_limit, "temp_directory": str(spill)})
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
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {e}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of keys")
        data = loaded or {}
        source = str(p)
    for k, v in overrides.items():
        if v is not None:
            data[k] = v
    return config_from_dict(data, source)


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
