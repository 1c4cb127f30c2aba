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


def test_split_aggregation_equals_the_whole(monkeypatch, tmp_path):
    con = duckdb.connect()
    _events(con)
    eng = DuckDBEngine(con, tmp_path, partition_rows=500)
    eng.transform("whole", call_graph_sql("events"))
    real_run = DuckDBEngine._run

    def no_room_for_8_parts(self, step, sql):  # 8 partitions "do not fit": the engine tries 32
        if "% 8 =" in sql:
            raise OutOfMemory(step, "1MB", RuntimeError("could not allocate block"))
        return real_run(self, step, sql)

    monkeypatch.setattr(DuckDBEngine, "_run", no_room_for_8_parts)
    assert eng.partitions(3000) == 8
    eng.split("graph", lambda part: call_graph_sql(f"(SELECT * FROM events WHERE {part('least(a, b)')}) AS e"), 3000)
    assert eng.timings["graph partitions"] == 32 and len(list((eng.scratch / "graph").glob("*.parquet"))) == 32
    q = "SELECT * FROM {} ORDER BY u, v"
    assert con.execute(q.format("graph")).fetchall() == con.execute(q.format("whole")).fetchall()
    assert con.execute("SELECT count(*) FROM graph").fetchone()[0] > 100
    eng.drop("graph")
    assert not (eng.scratch / "graph").exists()


def test_a_split_step_run_again_keeps_its_new_partitions(tmp_path):
    """The second split of a name replaces the first: its partitions are written where the first's were, so
    the first is dropped before, not after (it used to delete the new files)."""
    con = duckdb.connect()
    _events(con)
    eng = DuckDBEngine(con, tmp_path, partition_rows=500)
    whole = f"({call_graph_sql('events')})"
    for _ in range(2):
        eng.split("graph", lambda part: call_graph_sql(f"(SELECT * FROM events WHERE {part('least(a, b)')}) AS e"), 3000)
        assert len(list((eng.scratch / "graph").glob("*.parquet"))) == 8
        q = "SELECT * FROM {} ORDER BY u, v"
        assert con.execute(q.format("graph")).fetchall() == con.execute(q.format(whole)).fetchall()


def test_shuffle_then_per_partition_equals_the_whole(tmp_path):
    con = duckdb.connect()
    _events(con)
    eng = DuckDBEngine(con, tmp_path)
    eng.shuffle("ev", "SELECT * FROM events", "least(a, b), greatest(a, b)", 4)
    assert eng.parts("ev") == 4
    files = eng.map_parts("graph", call_graph_sql, "ev", tmp_path / "derived" / "call_graph" / "period=2026-10")
    assert [f.name for f in files] == [f"call_graph-{p:04d}.parquet" for p in range(4)]
    q = "SELECT * FROM {} ORDER BY u, v"
    assert con.execute(q.format("graph")).fetchall() == con.execute(q.format(f"({call_graph_sql('events')})")).fetchall()


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


def test_out_of_memory_anywhere_in_a_run_is_one_line_and_exit_2(small_operator, tmp_path, capsys):
    from pipelines import cli

    landing, _ = small_operator
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(f"duckdb_memory_limit: 8MB\nwork_dir: {tmp_path / 'work'}\n")
    rc = cli.main(["run", "--landing", str(landing), "--period", "2026-10", "--config", str(cfg)])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "\n" not in err and "out of memory in step 'ingest and validation'" in err and "duckdb_memory_limit" in err
    assert "Traceback" not in err


def test_a_home_carrier_without_ranges_stops_the_calls_stage(tmp_path):
    from pipelines.calls import _check_home_carrier

    con = duckdb.connect()
    con.execute("CREATE TABLE number_ranges AS SELECT * FROM (VALUES ('138', 'CMCC'), ('186', 'CUCC')) AS t(prefix, carrier)")
    eng = DuckDBEngine(con, tmp_path)
    _check_home_carrier(eng, "CMCC")  # a carrier with ranges: no objection
    with pytest.raises(StopRun, match=r"home_carrier 'CMCX' owns no range in number_ranges \(its carriers: CMCC, CUCC\)"):
        _check_home_carrier(eng, "CMCX")
