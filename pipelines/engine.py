"""The engine seam: every pipeline stage talks to one `Engine`, chosen by configuration (`engine.kind`).

An engine does four things: register inputs (Parquet files or an Arrow table from the driver) under a
relation name, run a transform (a named SQL step, written once in DuckDB's dialect in transforms/ and
rendered for the engine by transforms.sql.render, whose result becomes a relation of that name), bring a
small result to the driver as Arrow, and write a result as the Parquet file of a partition.

- `DuckDBEngine` (the default): embedded, in-process, within `duckdb_memory_limit`, spilling to
  work_dir/tmp.
- `SparkEngine`: Apache Spark through a SparkSession: local mode (`engine.spark_master`, default
  local[2]), a cluster master (spark-submit sets it), or Spark Connect (`engine.spark_remote`,
  sc://host:15002). Results are Spark DataFrames end to end; only the reduced work-tie graph of the
  Leiden step and a few scalars come to the driver, as Arrow (never pandas).

Nothing outside this module knows which engine runs: pipelines call `engine_for(cfg, con)`.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from groupscope.errors import StopRun
from transforms.sql import lit, render


class OutOfMemory(StopRun):
    """A step did not fit in the engine's memory: one line naming the step and the limit, never a traceback."""

    def __init__(self, step: str, limit: str, cause: Exception):
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        super().__init__(
            f"out of memory in step {step!r} (DuckDB memory limit {limit}): raise duckdb_memory_limit in the "
            f"configuration (this machine has {_memory_gib():.0f} GiB) or run on Spark (engine.kind: spark); {first}"
        )


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError):
        return float("nan")


class Engine:
    """The interface every engine implements. `timings` holds the seconds of every named step run
    (transforms and writes), for the benchmark."""

    name = "engine"
    timings: dict[str, float]

    def register_parquet(self, name: str, files: list[str | Path]) -> None:
        raise NotImplementedError

    def register_arrow(self, name: str, table: pa.Table) -> None:
        raise NotImplementedError

    def transform(self, name: str, sql: str) -> None:
        """Run a named step: `sql` (DuckDB dialect) becomes the relation `name`, materialised."""
        raise NotImplementedError

    def transform_split(self, name: str, make_sql, source: str, key: str) -> None:
        """A named aggregation step `make_sql(relation)` over `source` whose groups are determined by the
        expression `key` of a source row. Engines that shuffle (Spark) run it at once; the DuckDB engine
        runs it at once and, when it does not fit in memory, again split by a hash of `key` into
        partitions processed in turn (as Spark's shuffle partitions do)."""
        self.transform(name, make_sql(source))

    def view(self, name: str, sql: str) -> None:
        """Like transform, but not materialised (a cheap projection read once)."""
        raise NotImplementedError

    def to_arrow(self, sql: str) -> pa.Table:
        raise NotImplementedError

    def rows(self, sql: str) -> list[tuple]:
        t = self.to_arrow(sql)
        cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
        return list(zip(*cols)) if cols else []

    def write(self, sql: str, out: Path, compression: str = "zstd") -> Path:
        """Write the result of `sql` as the Parquet file `out`, atomically (a partition of a derived table).
        `compression`: zstd (small, for results) or lz4_raw (twice as fast to write, for the large
        intermediate calls table that the next stages read once)."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        raise NotImplementedError

    def empty(self, name: str, columns: dict[str, str]) -> None:
        """Register an empty relation with the given columns and SQL types."""
        cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
        self.view(name, f"SELECT {cols} WHERE false")


class DuckDBEngine(Engine):
    name = "duckdb"
    SPLITS = (8, 32, 128)  # partitions tried in turn when a split step does not fit

    def __init__(self, con):
        self.con = con
        self.timings = {}

    def _run(self, step: str, sql: str) -> None:
        import duckdb

        try:
            self.con.execute(sql)
        except duckdb.OutOfMemoryException as e:
            raise OutOfMemory(step, self._limit(), e) from None

    def _limit(self) -> str:
        try:
            return self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        except Exception:  # noqa: BLE001 - only for the message
            return "?"

    def register_parquet(self, name: str, files: list[str | Path]) -> None:
        if not files:
            raise FileNotFoundError(f"no Parquet files for {name}")
        rel = "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "], union_by_name=true)"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {rel}")

    def register_arrow(self, name: str, table: pa.Table) -> None:
        arrow_name = f"{name}__arrow"
        self.con.register(arrow_name, table)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {arrow_name}")
        finally:
            self.con.unregister(arrow_name)

    def transform(self, name: str, sql: str) -> None:
        t0 = time.perf_counter()
        self._run(name, f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def transform_split(self, name: str, make_sql, source: str, key: str, splits: tuple[int, ...] | None = None) -> None:
        t0 = time.perf_counter()
        tries = (1, *(splits or self.SPLITS))
        for i, parts in enumerate(tries):
            try:
                if parts == 1:
                    self._run(name, f"CREATE OR REPLACE TEMP TABLE {name} AS {make_sql(source)}")
                else:
                    for part in range(parts):
                        rel = f"(SELECT * FROM {source} WHERE hash({key}) % {parts} = {part})"
                        verb = f"CREATE OR REPLACE TEMP TABLE {name} AS" if part == 0 else f"INSERT INTO {name}"
                        self._run(name, f"{verb} {make_sql(rel)}")
                self.timings[f"{name} partitions"] = parts
                break
            except OutOfMemory:
                self.drop(name)
                if i == len(tries) - 1:
                    raise
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def to_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def write(self, sql: str, out: Path, compression: str = "zstd") -> Path:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        t0 = time.perf_counter()
        self._run(f"write {out.stem}", f"COPY ({sql}) TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION {compression})")
        os.replace(tmp, out)
        self.timings[f"write {out.stem}"] = time.perf_counter() - t0
        return out

    def drop(self, name: str) -> None:
        kind = self.con.execute(
            "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $1 AND temporary "
            "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $1 AND temporary",
            [name],
        ).fetchall()
        for (k,) in kind:
            self.con.execute(f"DROP {k} IF EXISTS {name}")


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, spark):
        self.spark = spark
        self._cached: dict[str, Any] = {}
        self.timings = {}

    @classmethod
    def from_config(cls, cfg) -> SparkEngine:
        return cls(spark_session(cfg))

    def _sql(self, sql: str):
        return self.spark.sql(render(sql, "spark"))

    def register_parquet(self, name: str, files: list[str | Path]) -> None:
        if not files:
            raise FileNotFoundError(f"no Parquet files for {name}")
        df = self.spark.read.parquet(*[_uri(f) for f in files])  # staged files share the contract schema
        df.createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        df = self.spark.createDataFrame(table)
        self._keep(name, df)

    def _keep(self, name: str, df) -> None:
        """Materialise a step once (later steps read it, not its lineage): a checkpoint on the executors,
        eager, so the step's time is its own."""
        old = self._cached.pop(name, None)
        df = df.localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._cached[name] = df
        if old is not None:
            old.unpersist()

    def transform(self, name: str, sql: str) -> None:
        t0 = time.perf_counter()
        self._keep(name, self._sql(sql))
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def view(self, name: str, sql: str) -> None:
        self._sql(sql).createOrReplaceTempView(name)

    def to_arrow(self, sql: str) -> pa.Table:
        return self._sql(sql).toArrow()

    def write(self, sql: str, out: Path, compression: str = "zstd") -> Path:
        """One Parquet file per partition, as the DuckDB engine writes: Spark writes a folder of part
        files (one here, the result being coalesced), which then replaces `out`. work_dir must be a path
        every executor and the driver see (a shared file system) when Spark runs on a cluster."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.spark")
        t0 = time.perf_counter()
        df = self._sql(sql).coalesce(1)
        df.write.mode("overwrite").option("compression", compression).parquet(_uri(tmp_dir))
        parts = sorted(tmp_dir.glob("part-*.parquet"))
        if len(parts) == 1:
            os.replace(parts[0], out)
        else:  # an empty result: Spark wrote no part file (or, defensively, several)
            import pyarrow.parquet as pq

            tables = [pq.read_table(p) for p in parts]
            schema = _arrow_schema(df.schema)
            pq.write_table(pa.concat_tables(tables) if tables else schema.empty_table(), out, compression="zstd")
        shutil.rmtree(tmp_dir, ignore_errors=True)
        self.timings[f"write {out.stem}"] = time.perf_counter() - t0
        return out

    def drop(self, name: str) -> None:
        old = self._cached.pop(name, None)
        if old is not None:
            old.unpersist()
        self.spark.catalog.dropTempView(name)


def _uri(p: str | Path) -> str:
    s = str(p)
    # file:// and the plain path (Hadoop paths are not percent-decoded: dt=... must stay as it is)
    return s if "://" in s else "file://" + str(Path(s).resolve())


def _arrow_schema(schema) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)


def spark_session(cfg):
    """The SparkSession the configuration asks for (one per process; getOrCreate reuses it)."""
    from pyspark.sql import SparkSession

    e = cfg.engine
    b = SparkSession.builder.appName(e.spark_app_name)
    if e.spark_remote:
        b = b.remote(e.spark_remote)
    else:
        if e.spark_master:  # empty under spark-submit, whose --master then applies
            b = b.master(e.spark_master)
        b = b.config("spark.sql.shuffle.partitions", str(e.spark_shuffle_partitions))
        b = b.config("spark.driver.memory", e.spark_driver_memory)
        b = b.config("spark.local.dir", str(cfg.work_path / "tmp" / "spark"))
        b = b.config("spark.ui.enabled", "false")
    b = b.config("spark.sql.session.timeZone", "UTC")
    for k, v in e.spark_conf.items():
        b = b.config(k, v)
    return b.getOrCreate()


def engine_for(cfg, con=None) -> Engine:
    """The engine of a stage: `con` when it is already an Engine, DuckDB on `con` (a DuckDB connection)
    or on a new connection when engine.kind is duckdb, else a SparkEngine."""
    if isinstance(con, Engine):
        return con
    if con is not None:
        return DuckDBEngine(con)
    if cfg.engine.kind == "spark":
        return SparkEngine.from_config(cfg)
    return DuckDBEngine(cfg.duckdb_connect())
