"""Parameters of the synthetic operator."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.subscribers < 200:
            raise ValueError("subscribers must be at least 200")
        if not self.months:
            raise ValueError("at least one month is needed")
        for lo_hi in (self.offnet_share, self.fake_share, self.registration_rate):
            lo, hi = lo_hi
            if not (0 <= lo <= hi < 1):
                raise ValueError(f"range {lo_hi} must satisfy 0 <= lo <= hi < 1")
        if self.activity <= 0:
            raise ValueError("activity must be positive")
        if self.cdr_format not in ("mixed", "csv", "csv.gz", "parquet"):
            raise ValueError("cdr_format must be mixed, csv, csv.gz or parquet")

    def as_dict(self) -> dict:
        return asdict(self)
