"""`groupscope evaluate` on hand-built results and truth: the measures issue 12's bars need."""

from __future__ import annotations

import duckdb
import pytest

from groupscope.config import config_from_dict
from pipelines.evaluate import evaluate, report
from pipelines.storage import derived_path

P = "2026-10"

# group G1: 5 lines (larger); G2: 2 lines (tiny); G3: 1 line (tiny)
MEMBERS = [
    # group, msisdn, is_fake, fake_kind, member_kind, group_lines, flagged
    ("G1", "13800000001", False, "", "office", 5, False),
    ("G1", "13800000002", False, "", "messaging", 5, True),
    ("G1", "13800000003", False, "", "data_card", 5, True),
    ("G1", "13800000004", True, "dormant", "fake", 5, True),
    ("G1", "13800000005", False, "", "iot", 5, False),
    ("G2", "13800000006", False, "", "field", 2, False),
    ("G2", "13800000007", True, "resold", "fake", 2, False),
    ("G3", "13800000008", False, "", "office", 1, True),
]


@pytest.fixture()
def setup(tmp_path):
    work, truth = tmp_path / "work", tmp_path / "truth" / f"month={P}"
    truth.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE m (group_id VARCHAR, msisdn VARCHAR, is_fake BOOLEAN, fake_kind VARCHAR, "
                "member_kind VARCHAR, group_lines INT, flagged BOOLEAN)")
    con.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?, ?, ?)", [list(r) for r in MEMBERS])
    out = derived_path(work, "member_scores", P)
    out.parent.mkdir(parents=True)
    con.execute(f"COPY (SELECT group_id, msisdn, CASE WHEN flagged THEN 0.9 ELSE 0.1 END AS fake_score, "
                f"flagged AS is_suspect FROM m) TO '{out}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT group_id, msisdn, is_fake, fake_kind, member_kind, group_lines, group_lines <= 3 AS tiny_group "
                f"FROM m) TO '{truth / 'members.csv'}' (HEADER)")
    for name, sql in (
        ("potential_members", "SELECT 'G1' AS group_id, '13900000001' AS msisdn, 0.2 AS member_share, 0.9 AS score, true AS likely_employee"),
        ("group_summary", "SELECT 'G1' AS group_id, 0.5 AS market_share, 0.75 AS purity"),
    ):
        p = derived_path(work, name, P)
        p.parent.mkdir(parents=True)
        con.execute(f"COPY ({sql}) TO '{p}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT 'G1' AS group_id, '13900000001' AS msisdn, true AS on_net, 3 AS members_contacted) "
                f"TO '{truth / 'unregistered_employees.csv'}' (HEADER)")
    con.execute(f"COPY (SELECT 'G1' AS group_id, 40 AS true_headcount, 0.6 AS market_share, 4 AS registered_real, "
                f"5 AS listed_members) TO '{truth / 'groups.csv'}' (HEADER)")
    return config_from_dict({"work_dir": str(work)}), tmp_path / "truth"


def test_kinds_and_tiny_groups_are_measured_separately(setup):
    cfg, truth = setup
    m = evaluate(cfg, truth, P)
    # fakes: 2, flagged: 4 (one of them a fake)
    assert (m["fake_precision"], m["fake_recall"]) == (0.25, 0.5)
    # data lines: the data card flagged, the IoT SIM not
    assert (m["data_lines_members"], m["data_lines_flagged"]) == (2, 0.5)
    assert (m["messaging_members"], m["messaging_flagged"]) == (1, 1.0)
    assert (m["field_members"], m["field_flagged"]) == (1, 0.0)
    # tiny groups G2 and G3: 3 members, 1 fake (not flagged), 1 flagged (a real one)
    assert (m["tiny_members"], m["tiny_fakes"], m["tiny_flagged"]) == (3, 1, 1)
    assert (m["fake_tiny_precision"], m["fake_tiny_recall"]) == (0.0, 0.0)
    # the larger group: 3 flagged, 1 of them the fake
    assert m["fake_larger_precision"] == pytest.approx(1 / 3) and m["fake_larger_recall"] == 1.0
    assert m["market_share_mae_pp"] == pytest.approx(10.0) and m["purity_mae_pp"] == pytest.approx(5.0)
    text = report(m)
    assert "data lines (2)" in text and "groups <= 3 lines (3 members, 1 fakes)" in text


def test_nothing_to_measure_is_not_a_number(setup):
    cfg, truth = setup
    con = duckdb.connect()
    path = truth / f"month={P}" / "members.csv"
    con.execute(f"COPY (SELECT * FROM read_csv('{path}') WHERE member_kind <> 'messaging') TO '{path}.x' (HEADER)")
    (truth / f"month={P}" / "members.csv.x").replace(path)
    m = evaluate(cfg, truth, P)
    assert m["messaging_members"] == 0 and m["messaging_flagged"] is None
    assert "n/a" in report(m)
