from __future__ import annotations

import re
from pathlib import Path

from groupscope.contract import INPUT_TABLES, OUTPUT_LISTS

SHARED = Path(__file__).resolve().parents[3] / "shared" / "CONTRACT.md"


def test_contract_accepts_and_rejects_text():
    sub = INPUT_TABLES["subscribers"]
    assert sub.column("msisdn").accepts_text("13800138000")
    assert not sub.column("msisdn").accepts_text("+8613800138000")
    assert not sub.column("status").accepts_text("deleted")
    assert sub.column("closed_at").accepts_text("")
    assert not sub.column("activated_at").accepts_text("")
    assert not INPUT_TABLES["cdr"].column("duration_s").accepts_text("-3")


def test_code_matches_shared_contract_document():
    """Every table and column of shared/CONTRACT.md is in the code, in the same order."""
    if not SHARED.exists():  # the reference sits beside the checkout in every workplace clone and in CI
        raise AssertionError(f"{SHARED} is missing")
    text = SHARED.read_text(encoding="utf-8")
    # tables documented with a column table: '### name' followed by '| column |' rows
    sections = re.split(r"\n### ", text)
    checked = 0
    for sec in sections[1:]:
        title = sec.split("\n", 1)[0]
        name = title.split()[0].split("/")[-1].rstrip(":")
        cells = re.findall(r"^\| ([a-z_, ]+) \|", sec, flags=re.M)
        cells = cells[1:] if cells[:1] == ["column"] else cells  # the header row
        cols = [c.strip() for cell in cells for c in cell.split(",")]
        if name in INPUT_TABLES and cols:
            assert INPUT_TABLES[name].column_names == cols, name
            checked += 1
        elif name in INPUT_TABLES:  # columns listed inline: `a` (type), `b` (type), ...
            first_par = sec.split("\n", 1)[1].strip().split("\n\n")[0]
            named = re.findall(r"`([a-z_]+)` \(|`([a-z_]+)`,", first_par)
            inline = [a or b for a, b in named]
            assert INPUT_TABLES[name].column_names == inline, name
            checked += 1
        elif name in OUTPUT_LISTS:
            assert OUTPUT_LISTS[name].column_names == cols, name
            checked += 1
    assert checked >= 10
