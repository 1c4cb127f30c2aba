"""The calls stage: staged CDRs of a period -> derived calls Parquet (numbers normalised, on-net MOC/MTC
pairs collapsed), through the SQL in transforms/ on the configured engine (pipelines/engine.py); and the
working calendar's hour table that later stages join."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from groupscope.config import Config
from groupscope.errors import StopRun
from pipelines.storage import derived_path, staged_files
from transforms.calls import calls_sql, normalised_cdr_sql, record_keys_sql


def build_calls(cfg: Config, period: str, con=None) -> Path:
    """Normalise the period's CDRs and collapse on-net MOC/MTC pairs; returns the folder of the calls
    Parquet files (derived_files).
    `con`: an Engine, a DuckDB connection, or None for the configured engine."""
    from pipelines.engine import engine_for

    work = cfg.work_path
    eng = engine_for(cfg, con)
    for t in ("number_ranges", "ported_numbers"):
        eng.register_parquet(t, staged_files(work, t, period))
    eng.register_parquet("cdr_staged", staged_files(work, "cdr", period))
    # each record's key: its source file's number (a table of the period's few hundred files) and its row;
    # the same pass counts the records
    per_file = eng.rows("SELECT __file, count(*) FROM cdr_staged GROUP BY __file ORDER BY __file")
    names = [f for f, _ in per_file]
    eng.register_arrow("cdr_files", pa.table({"__file": pa.array(names, pa.string()), "file_no": pa.array(range(len(names)), pa.int64())}))
    eng.view("cdr", record_keys_sql("cdr_staged", "cdr_files"))
    _check_home_carrier(eng, cfg.home_carrier)
    # The normalised records are an intermediate (not a result), partitioned by a hash of the record's
    # unordered number pair: an MO record and its MT twin are in one partition, and so is every call of a
    # pair, so the MOC/MTC collapse here and the call graph later run partition by partition.
    rows = sum(n for _, n in per_file)
    pair = "least(served_msisdn, other_number), greatest(served_msisdn, other_number)"
    norm = normalised_cdr_sql("cdr", "number_ranges", "ported_numbers", cfg.home_carrier)
    eng.shuffle("cdr_normalised", norm, pair, eng.partitions(rows))
    out = derived_path(work, "calls", period).parent
    eng.map_parts("calls", calls_sql, "cdr_normalised", out, compression="lz4_raw")
    eng.drop("cdr_normalised")
    return out


def _check_home_carrier(eng, home: str) -> None:
    """Stop when the configured home carrier owns no number range: every number would be off-net and every
    group model would run on nothing (a misspelled `home_carrier`)."""
    carriers = [c for (c,) in eng.rows("SELECT DISTINCT carrier FROM number_ranges WHERE carrier IS NOT NULL ORDER BY 1")]
    if carriers and home not in carriers:
        shown = ", ".join(carriers[:12]) + (", ..." if len(carriers) > 12 else "")
        raise StopRun(f"home_carrier {home!r} owns no range in number_ranges (its carriers: {shown}): "
                      "set home_carrier in the configuration")


def register_calendar(con, cfg: Config, calls: str, name: str) -> None:
    """The working calendar's hour table (transforms.graph.calendar_slots) over the hours that the calls in
    `calls` span, as relation `name` (what events_sql joins for working time). `con`: an Engine or a
    DuckDB connection."""
    from pipelines.engine import engine_for
    from transforms.graph import calendar_slots

    eng = engine_for(cfg, con)
    ((first, last),) = eng.rows(f"SELECT min(start_time), max(start_time) FROM {calls}")
    eng.register_arrow(name, calendar_slots(cfg.calendar.work_calendar(), first, last))
