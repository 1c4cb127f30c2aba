from __future__ import annotations

import re
from pathlib import Path

from groupscope.contract import INPUT_TABLES, OUTPUT_LISTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract.md"  # the project's copy, shipped with the code


def test_contract_accepts_and_rejects_text():
    sub = INPUT_TABLES["subscribers"]
    assert sub.column("msisdn").accepts_text("13800138000")
    assert not sub.column("msisdn").accepts_text("+8613800138000")
    assert not sub.column("status").accepts_text("deleted")
    assert sub.column("closed_at").accepts_text("")
    assert not sub.column("activated_at").accepts_text("")
    assert not INPUT_TABLES["cdr"].column("duration_s").accepts_text("-3")


def _doc_tables(text: str) -> dict[str, list[list[str]]]:
    """'### name' sections of the document with the rows of their column table (header row dropped)."""
    out = {}
    for sec in re.split(r"\n### ", text)[1:]:
        title = sec.split("\n", 1)[0]
        rows = [[c.strip() for c in line.strip().strip("|").split("|")]
                for line in sec.splitlines() if line.startswith("|") and not line.startswith("|---")]
        out[title.split()[0]] = rows[1:]  # without the header row
    return out


def test_code_matches_the_project_contract_document():
    """Every table and list of docs/contract.md is in the code with the same columns in the same order, the
    same types, required flags and allowed values; and the code has nothing the document lacks."""
    tables = _doc_tables(DOC.read_text(encoding="utf-8"))
    assert set(tables) == set(INPUT_TABLES) | set(OUTPUT_LISTS)
    for name, t in INPUT_TABLES.items():
        rows = tables[name]
        assert [r[0] for r in rows] == t.column_names, name
        for r, c in zip(rows, t.columns):
            assert r[1] == c.type and r[2] == ("yes" if c.required else "no"), (name, c.name)
            assert (r[3].split(" / ") if c.allowed else []) == list(c.allowed or []), (name, c.name)
    for name, o in OUTPUT_LISTS.items():
        assert [r[0] for r in tables[name]] == o.column_names, name


def test_document_has_the_layout_the_commands_the_rules_and_the_extras_apart():
    text = DOC.read_text(encoding="utf-8")
    assert text.index("## Landing directory (input)") < text.index("## Input tables") < text.index("## Command line")
    for t in INPUT_TABLES.values():
        assert f"  {t.name}/" in text or f"  reference/{t.name}.csv" in text, t.name
    assert "groupscope export quarantine --period YYYY-MM --out FILE.csv [--db URL]" in text
    assert OUTPUT_LISTS["potential-members"].notes in text and "`analytics.potential_member_share`" in text
    assert "| market_share | (real_members + est_onnet_unregistered) / (real_members" in text
    assert OUTPUT_LISTS["group-summary"].description and "### prospect-groups" in text
    for name in ("fake-members", "group-summary"):
        sec = text.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        contract, beyond = sec.split("Beyond the contract", 1)  # the extras after the contract's table
        assert all(f"- `{c.name}`:" in beyond and f"| {c.name} |" not in contract for c in OUTPUT_LISTS[name].extra)


def test_exports_carry_the_documented_columns_in_order():
    from pipelines.export import _query

    for name, o in OUTPUT_LISTS.items():
        cols = [c.name for c in _query(name, "2026-10").selected_columns]
        assert cols == o.column_names + [c.name for c in o.extra], name
