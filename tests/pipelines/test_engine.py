"""The DuckDB engine: named steps, split aggregation when a step does not fit, out of memory as one line."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from groupscope.errors import StopRun
from pipelines.engine import DuckDBEngine, OutOfMemory, engine_for
from transforms.graph import call_graph_sql


def _events(con):
    con.execute(
        "CREATE TABLE events AS SELECT 'n' || (i % 37) AS a, 'n' || ((i * 7) % 41) AS b, "
        "DATE '2026-10-01' + CAST(i % 5 AS INTEGER) AS day, i % 3 = 0 AS is_sms, CAST(i % 60 AS INTEGER) AS duration_s, "
        "i % 2 = 0 AS is_work FROM range(3000) AS r(i) WHERE 'n' || (i % 37) <> 'n' || ((i * 7) % 41)"
    )


def test_split_aggregation_equals_the_whole(monkeypatch):
    con = duckdb.connect()
    _events(con)
    eng = DuckDBEngine(con)
    eng.transform("whole", call_graph_sql("events"))
    real_run = DuckDBEngine._run

    def no_room_for_the_whole(self, step, sql):  # the unsplit query "does not fit"
        if "hash(" not in sql:
            raise OutOfMemory(step, "1MB", RuntimeError("could not allocate block"))
        return real_run(self, step, sql)

    monkeypatch.setattr(DuckDBEngine, "_run", no_room_for_the_whole)
    eng.transform_split("graph", call_graph_sql, "events", "least(a, b)", splits=(4,))
    assert eng.timings["graph partitions"] == 4
    q = "SELECT * FROM {} ORDER BY u, v"
    assert con.execute(q.format("graph")).fetchall() == con.execute(q.format("whole")).fetchall()
    assert con.execute("SELECT count(*) FROM graph").fetchone()[0] > 100


def test_out_of_memory_is_one_line_naming_the_step():
    con = duckdb.connect(config={"memory_limit": "20MB", "temp_directory": ""})
    eng = DuckDBEngine(con)
    with pytest.raises(StopRun) as e:
        eng.transform("huge", "SELECT list(i) AS l FROM range(60000000) AS r(i)")
    msg = str(e.value)
    assert "\n" not in msg and "out of memory in step 'huge'" in msg and "duckdb_memory_limit" in msg


def test_engine_for_and_arrow_roundtrip():
    con = duckdb.connect()
    eng = engine_for(None, con)
    assert isinstance(eng, DuckDBEngine) and engine_for(None, eng) is eng
    eng.register_arrow("t", pa.table({"x": [3, 1, 2]}))
    eng.transform("s", "SELECT x * 2 AS y FROM t")
    assert eng.rows("SELECT y FROM s ORDER BY y") == [(2,), (4,), (6,)]
    eng.empty("e", {"a": "VARCHAR", "b": "BIGINT"})
    assert eng.to_arrow("SELECT * FROM e").num_rows == 0
    eng.drop("s")
    eng.drop("t")
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM s")


def test_engine_is_chosen_by_configuration():
    from groupscope.config import ConfigError, config_from_dict

    assert config_from_dict({}).engine.kind == "duckdb"
    cfg = config_from_dict({"engine": {"kind": "spark", "spark_remote": "sc://spark.example:15002"}})
    assert cfg.engine.kind == "spark" and cfg.engine.spark_remote.startswith("sc://")
    with pytest.raises(ConfigError, match="engine.kind"):
        config_from_dict({"engine": {"kind": "oracle"}})
