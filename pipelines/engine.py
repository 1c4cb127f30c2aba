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

import math
import os
import re
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from groupscope.errors import StopRun, first_line
from transforms.sql import lit, render


class OutOfMemory(StopRun):
    """A step did not fit in the engine's memory: one line naming the step and the limit, never a traceback."""

    def __init__(self, step: str, limit: str, cause: BaseException):
        first = first_line(cause)
        super().__init__(
            f"out of memory in step {step!r} (DuckDB memory limit {limit}): raise duckdb_memory_limit in the "
            f"configuration (this machine has {_memory_gib():.0f} GiB), or set duckdb_partition_rows lower "
            f"(smaller partitions), or run on Spark (engine.kind: spark); {first}"
        )


def out_of_memory(e: BaseException, step: str, limit: str = "?") -> OutOfMemory | None:
    """The OutOfMemory of an exception raised anywhere (DuckDB's OutOfMemoryException, Python's
    MemoryError, Arrow's out-of-memory), else None."""
    import duckdb

    if isinstance(e, OutOfMemory):
        return e
    if isinstance(e, (duckdb.OutOfMemoryException, MemoryError, pa.ArrowMemoryError)):
        return OutOfMemory(step, limit, e)
    return None


@contextmanager
def memory_guard(step: str, limit: str) -> Iterator[None]:
    """Turn running out of memory anywhere inside (DuckDB outside an engine step, Python, Arrow) into
    OutOfMemory: one line naming the setting to raise, never a traceback."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - re-raised unless it is an out-of-memory
        oom = out_of_memory(e, step, limit)
        if oom is None or oom is e:
            raise
        raise oom from None


def parse_bytes(text: str) -> int:
    """Bytes of a DuckDB size setting such as '2GB', '512MiB', '1.5 GB' (0 when it cannot be read)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?)B?\s*", str(text), re.IGNORECASE)
    if not m:
        return 0
    unit = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}[m.group(2).upper()]
    return int(float(m.group(1)) * (1024 if m.group(3) else 1000) ** unit)


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError):
        return float("nan")


class Engine(ABC):
    """The interface every engine implements. `timings` holds the seconds of every named step run
    (transforms and writes), for the benchmark."""

    name = "engine"
    timings: dict[str, float]

    @abstractmethod
    def register_parquet(self, name: str, files: list[str | Path]) -> None:
        """Make the Parquet `files` readable as the relation `name`."""

    @abstractmethod
    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table readable as the relation `name`."""

    @abstractmethod
    def transform(self, name: str, sql: str) -> None:
        """Run a named step: `sql` (DuckDB dialect) becomes the relation `name`, materialised."""

    @abstractmethod
    def view(self, name: str, sql: str) -> None:
        """Like transform, but not materialised (a cheap projection read once)."""

    # --- aggregations larger than memory: partitions by a hash of a key, processed in turn ---------------
    # Engines that shuffle (Spark) run each of these at once (their own shuffle partitions apply); the
    # DuckDB engine splits them into `partitions(rows)` parts of bounded size, each part's result a
    # compressed Parquet file, so memory does not grow with the input.

    def partitions(self, rows: int) -> int:
        """How many hash partitions a step over `rows` input rows is split into (1: at once)."""
        return 1

    def shuffle(self, name: str, sql: str, key: str, parts: int) -> None:
        """Materialise `sql` as relation `name`, stored in `parts` partitions by a hash of the expression
        `key` of its rows (rows of one key are in one partition)."""
        self.transform(name, sql)

    def parts(self, name: str) -> int:
        """The partitions of a relation made by shuffle or map_parts (1 for any other)."""
        return 1

    def part(self, name: str, p: int) -> str:
        """A relation (SQL) of partition `p` of `name`."""
        return name

    def map_parts(self, name: str, make_sql, source: str, out: Path | None = None, compression: str | None = None) -> list[Path]:
        """A step `make_sql(relation)` whose groups lie within one partition of `source` (keyed as the
        shuffle of `source`): run partition by partition; `name` is the union of the results, partitioned
        as `source`. With `out` (a derived table's folder) the result is also written there, one Parquet
        file per partition; returns those files. `compression`: of the files written (default zstd for a
        derived table, lz4_raw for an intermediate)."""
        self.transform(name, make_sql(source))
        if out is None:
            return []
        clear_parts(Path(out))
        return [self.write(f"SELECT * FROM {name}", Path(out) / f"{Path(out).parent.name}.parquet", compression or "zstd")]

    def split(self, name: str, make_sql, rows: int) -> None:
        """A step `make_sql(part_filter)` over about `rows` input rows whose groups are keyed by a number:
        `part_filter(expr)` is the SQL condition that keeps one partition of a hash of `expr` (TRUE when
        run at once). Run partition by partition; `name` is the union of the results."""
        self.transform(name, make_sql(lambda expr: "true"))

    @abstractmethod
    def to_arrow(self, sql: str) -> pa.Table:
        """The result of `sql` as an Arrow table (small results only: it comes to the driver)."""

    def rows(self, sql: str) -> list[tuple]:
        t = self.to_arrow(sql)
        cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
        return list(zip(*cols)) if cols else []

    @abstractmethod
    def write(self, sql: str, out: Path, compression: str = "zstd") -> Path:
        """Write the result of `sql` as the Parquet file `out`, atomically (a partition of a derived table).
        `compression`: zstd (small, for results) or lz4_raw (twice as fast to write, for the large
        intermediate calls table that the next stages read once)."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Forget the relation `name` and free what it holds."""

    def empty(self, name: str, columns: dict[str, str]) -> None:
        """Register an empty relation with the given columns and SQL types."""
        cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
        self.view(name, f"SELECT {cols} WHERE false")


def clear_parts(folder: Path) -> None:
    """Remove the Parquet files of a derived table's folder before it is written again (a run with
    another partition count, or another engine, leaves none behind)."""
    if folder.is_dir():
        for f in folder.glob("*.parquet"):
            f.unlink()


def part_files(folder: Path) -> list[Path]:
    """The Parquet files of a derived table's folder: one file, or one per partition."""
    return sorted(Path(folder).glob("*.parquet"))


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, con, scratch: Path | None = None, partition_rows: int = 0):
        """`scratch`: folder of the partitioned intermediates (default: a folder beside DuckDB's spill
        files); `partition_rows`: input rows per partition (0: from the memory limit)."""
        self.con = con
        self.timings = {}
        if scratch is None:
            spill = self.con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] or ".tmp"
            scratch = Path(spill) / "steps"
        self.scratch = Path(scratch) / uuid.uuid4().hex[:8]
        self.partition_rows = partition_rows or self._rows_per_partition()
        self._parts: dict[str, list[str]] = {}  # relation -> its partitions' file lists (SQL literals)

    SHUFFLE_FLUSH_ROWS = 100_000  # rows a thread buffers in a partitioned write before it flushes them
    ROW_BUDGET_BYTES = 200  # memory a step may use per input row of a partition (measured: docs/scale.md)

    def _rows_per_partition(self) -> int:
        limit = parse_bytes(self._limit()) or 2 * 10**9
        return max(100_000, limit // self.ROW_BUDGET_BYTES)

    def partitions(self, rows: int) -> int:
        n = max(1, math.ceil(rows / self.partition_rows))
        return 1 << (n - 1).bit_length()  # a power of two

    def _files_view(self, name: str, files: list[str]) -> None:
        lst = "[" + ", ".join(files) + "]"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet({lst}, hive_partitioning=false)")

    def shuffle(self, name: str, sql: str, key: str, parts: int) -> None:
        if parts <= 1:
            self.transform(name, sql)
            return
        t0 = time.perf_counter()
        folder = self.scratch / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        # A partitioned write that keeps the input's order, and buffers its default 524,288 rows per thread
        # before a flush, ran out of memory at 100M records under 2 GB; the order of an intermediate's rows
        # means nothing (every step over it is a set operation), so neither is kept here.
        flush = self.con.execute("SELECT current_setting('partitioned_write_flush_threshold')").fetchall()[0][0]
        self.con.execute(f"SET partitioned_write_flush_threshold = {self.SHUFFLE_FLUSH_ROWS}")
        try:
            with self._unordered():
                self._run(
                    name,
                    f"COPY (SELECT *, CAST(hash({key}) % {parts} AS INTEGER) AS __part FROM ({sql}) AS s) TO {lit(str(folder))} "
                    "(FORMAT parquet, PARTITION_BY (__part), COMPRESSION lz4_raw, OVERWRITE_OR_IGNORE)",
                )
        finally:
            self.con.execute(f"SET partitioned_write_flush_threshold = {flush}")
        self._parts[name] = [
            [lit(str(f)) for f in sorted((folder / f"__part={p}").glob("*.parquet"))] for p in range(parts)
        ]
        self._files_view(name, [f for fs in self._parts[name] for f in fs])
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        self.timings[f"{name} partitions"] = parts

    @contextmanager
    def _unordered(self) -> Iterator[None]:
        """Writes whose row order means nothing (a partition's rows: every step over them is a set
        operation): without insertion order DuckDB writes a Parquet file from all threads at once."""
        order = self.con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        self.con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self.con.execute(f"SET preserve_insertion_order = {order}")

    def parts(self, name: str) -> int:
        return len(self._parts.get(name, [None]))

    def part(self, name: str, p: int) -> str:
        files = self._parts.get(name)
        if files is None:
            return name
        if not files[p]:  # an empty partition: no rows, the relation's columns
            return f"(SELECT * FROM {name} WHERE false)"
        return "read_parquet([" + ", ".join(files[p]) + "], hive_partitioning=false)"

    def register_parts(self, name: str, files: list[str | Path]) -> None:
        """Register derived Parquet files, one per partition (as map_parts wrote them), as `name`."""
        self._parts[name] = [[lit(str(f))] for f in files]
        self._files_view(name, [lit(str(f)) for f in files])

    def map_parts(self, name: str, make_sql, source: str, out: Path | None = None, compression: str | None = None) -> list[Path]:
        n = self.parts(source)
        if n <= 1 and out is None:
            self.transform(name, make_sql(source))
            return []
        t0 = time.perf_counter()
        folder = Path(out) if out is not None else self.scratch / name
        if out is not None:
            clear_parts(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder.parent.name if out is not None else name
        # an intermediate is read once or twice by later steps: LZ4 writes faster than zstd
        compression = compression or ("zstd" if out is not None else "lz4_raw")
        files = []
        with self._unordered():
            for p in range(n):
                f = folder / (f"{stem}.parquet" if n == 1 else f"{stem}-{p:04d}.parquet")
                tmp = f.with_name(f".{f.name}.tmp")
                self._run(name, f"COPY ({make_sql(self.part(source, p))}) TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION {compression})")
                os.replace(tmp, f)
                files.append(f)
        self.register_parts(name, files)
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        return files

    def split(self, name: str, make_sql, rows: int) -> None:
        n = self.partitions(rows)
        t0 = time.perf_counter()
        self.drop(name)  # an earlier result of the name (its partition files are where the new ones go)
        while True:
            try:
                if n <= 1:
                    self._run(name, f"CREATE OR REPLACE TEMP TABLE {name} AS {make_sql(lambda expr: 'true')}")
                else:
                    folder = self.scratch / name
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir(parents=True)
                    files = []
                    for p in range(n):
                        f = folder / f"part-{p:04d}.parquet"
                        sql = make_sql(lambda expr, p=p, n=n: f"hash({expr}) % {n} = {p}")
                        self._run(name, f"COPY ({sql}) TO {lit(str(f))} (FORMAT parquet, COMPRESSION lz4_raw)")
                        files.append(f)
                    self.register_parts(name, files)
                break
            except OutOfMemory:
                if n >= 4096:
                    raise
                n *= 4  # more, smaller partitions
        self.timings[f"{name} partitions"] = n
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def _run(self, step: str, sql: str) -> None:
        import duckdb

        try:
            self.con.execute(sql)
        except duckdb.OutOfMemoryException as e:
            raise OutOfMemory(step, self._limit(), e) from None

    def _limit(self) -> str:
        try:
            return self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        except Exception:  # noqa: BLE001 - only for the message
            return "?"

    def register_parquet(self, name: str, files: list[str | Path]) -> None:
        if not files:
            raise FileNotFoundError(f"no Parquet files for {name}")
        rel = "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "], union_by_name=true)"
        self._parts.pop(name, None)
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
        if self._parts.pop(name, None) is not None:
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        self._run(name, f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
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
        if self._parts.pop(name, None) is not None:
            shutil.rmtree(self.scratch / name, ignore_errors=True)  # its partitions (none for derived files)
            try:
                self.scratch.rmdir()  # the engine's folder, once nothing of it is left
            except OSError:
                pass

    def close(self) -> None:
        """Remove this engine's partitioned intermediates."""
        shutil.rmtree(self.scratch, ignore_errors=True)


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
        b = b.config("spark.local.dir", str(cfg.temp_path / "spark"))
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
    if cfg is not None and cfg.engine.kind == "spark" and con is None:
        return SparkEngine.from_config(cfg)
    con = con if con is not None else cfg.duckdb_connect()
    if cfg is None:
        return DuckDBEngine(con)
    return DuckDBEngine(con, cfg.temp_path / "steps", cfg.duckdb_partition_rows)
