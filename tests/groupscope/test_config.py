from __future__ import annotations

from pathlib import Path

import pytest

from groupscope.config import ConfigError, config_from_dict, defaults_yaml, load_config
from groupscope.docs import GENERATED
from pipelines.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_load_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROUPSCOPE_CONFIG", raising=False)
    cfg = load_config()
    assert cfg.home_carrier == "CMCC"
    assert cfg.analytics.potential_member_share == 0.10
    assert cfg.resolved_database_url().startswith("duckdb:///")


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"analytics\.fake_treshold: unknown key"):
        config_from_dict({"analytics": {"fake_treshold": 0.4}})


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"analytics\.fake_threshold"):
        config_from_dict({"analytics": {"fake_threshold": "high"}})
    with pytest.raises(ConfigError, match=r"analytics\.potential_member_share"):
        config_from_dict({"analytics": {"potential_member_share": 1.5}})
    with pytest.raises(ConfigError, match=r"sources\.encodings.*unknown contract table"):
        config_from_dict({"sources": {"encodings": {"bills": "gbk"}}})
    with pytest.raises(ConfigError, match=r"calendar\.timezone: .*unknown time zone"):
        config_from_dict({"calendar": {"timezone": "Mars/Olympus"}})
    with pytest.raises(ConfigError, match=r"calendar\.cdr_timezone: .*unknown time zone"):
        config_from_dict({"calendar": {"cdr_timezone": "UTC+8"}})
    # a memory size DuckDB would refuse at the first step of a run is refused with the config
    for bad in ("lots", "100", "1.2.3GB"):
        with pytest.raises(ConfigError, match=r"duckdb_memory_limit: not a DuckDB memory size"):
            config_from_dict({"duckdb_memory_limit": bad})
    for good in ("512MiB", "2 GB", "50%"):
        assert config_from_dict({"duckdb_memory_limit": good}).duckdb_memory_limit == good


def test_moved_calendar_keys_are_refused_with_their_new_place():
    with pytest.raises(ConfigError, match=r"timezone moved to calendar\.timezone"):
        config_from_dict({"timezone": "Asia/Shanghai"})
    with pytest.raises(ConfigError, match=r"analytics\.working_hours moved to calendar\.working_hours"):
        config_from_dict({"analytics": {"working_hours": [8, 17]}})
    with pytest.raises(ConfigError, match=r"both holidays and workdays: 2026-10-10"):
        config_from_dict({"calendar": {"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}})


def test_file_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("home_carrier: CUCC\nsources:\n  encodings:\n    account_managers: gbk\n", encoding="utf-8")
    cfg = load_config(p, database_url="postgresql://x/y")
    assert cfg.home_carrier == "CUCC"
    assert cfg.sources.encoding_of("account_managers") == "gbk"
    assert cfg.sources.encoding_of("cdr") == "utf-8"
    assert cfg.resolved_database_url() == "postgresql://x/y"
    p.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=f"{tmp_path} is a directory"):
        load_config(tmp_path)
    p.write_bytes("# 配置\nhome_carrier: 移动\n".encode("gbk"))
    with pytest.raises(ConfigError, match=r"c.yaml is not UTF-8 text \(line 1\): save it as UTF-8"):
        load_config(p)


def test_every_default_is_documented_and_the_example_reloads(tmp_path):
    text = defaults_yaml()
    p = tmp_path / "all.yaml"
    p.write_text(text, encoding="utf-8")
    assert load_config(p) == config_from_dict({})
    lines = text.splitlines()

    def indent(x: str) -> int:
        return len(x) - len(x.lstrip())

    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if lines[i - 1].lstrip().startswith("#"):
            continue  # documented key
        parent = next(p for p in reversed(lines[:i]) if p.strip() and indent(p) < indent(line))
        assert parent.rstrip().endswith(":"), f"undocumented key: {line}"  # an entry of a default mapping


@pytest.mark.parametrize("rel", sorted(GENERATED))
def test_generated_docs_are_in_sync(rel):
    assert (ROOT / rel).read_text(encoding="utf-8") == GENERATED[rel](), f"run `python -m groupscope.docs` ({rel})"


def test_cli_config_check(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("analytics:\n  nope: 1\n", encoding="utf-8")
    assert main(["config", "--check", str(bad)]) == 2
    assert "analytics.nope: unknown key" in capsys.readouterr().err


@pytest.mark.parametrize("yaml_text, key", [
    ("sources: {encodings: {groups: gbkk}}\n", "sources.encodings.groups"),
    ("sources: {default_encoding: utf-9}\n", "sources.default_encoding"),
])
def test_a_misspelled_encoding_is_refused_by_the_check(tmp_path, capsys, yaml_text, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml_text, encoding="utf-8")
    assert main(["config", "--check", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{key}: unknown encoding" in err and "Value error" not in err
    assert config_from_dict({"sources": {"encodings": {"groups": "GBK"}}}).sources.encoding_of("groups") == "GBK"
