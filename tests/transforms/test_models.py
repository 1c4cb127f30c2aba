"""The group models on tiny hand-built inputs whose right answers are worked out here, in the comments:
contact coupling and calling fingerprint (transforms/membership.py over transforms/graph.py), reference
values borrowed by small groups, the fake-member score with its evidence states, the employee score and
market share both ways (transforms/market.py)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from groupscope.config import ModelConfig, config_from_dict
from transforms import graph, market, membership, scores

MC = ModelConfig()  # the defaults; a test that needs other values says so


def _con(**tables: dict) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, cols in tables.items():
        con.register(f"{name}_arrow", pa.table(cols))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    return con


def _rows(con, sql: str) -> dict:
    """Rows of `sql` keyed by their msisdn (or group_id) as dicts."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    out = {}
    for r in cur.fetchall():
        d = dict(zip(names, r))
        out[d.get("msisdn", d.get("group_id"))] = d
    return out


# ---------------------------------------------------------------- coupling and fingerprint

def _call(caller, callee, ts, caller_cell=None, callee_cell=None, callee_on_net=True):
    return dict(caller=caller, callee=callee, caller_type="mobile", callee_type="mobile", caller_on_net=True,
                callee_on_net=callee_on_net, start_time=datetime.fromisoformat(ts), duration_s=60, is_sms=False,
                caller_cell=caller_cell, callee_cell=callee_cell)


def _features(calls: list[dict], members: list[tuple], home_bins=(2, 3, 4)) -> dict:
    cols = {k: [c[k] for c in calls] for k in calls[0]}
    con = _con(
        calls=cols,
        members={"group_id": [m[0] for m in members], "msisdn": [m[1] for m in members],
                 "member_role": [m[2] for m in members], "since": [datetime(2025, 1, 1).date()] * len(members)},
        billing={"msisdn": ["A"], "voice_fee": [10.0], "data_fee": [20.0], "sms_fee": [0.0], "vas_fee": [0.0]},
    )
    from pipelines.calls import register_calendar

    # Monday-Friday 09-18 (no national holidays in the test's week either way)
    register_calendar(con, config_from_dict({"calendar": {"national": "none"}}), "calls", "cal")
    steps = [
        ("events", graph.events_sql("calls", "cal")),
        ("g", graph.call_graph_sql("events")),
        ("adj", graph.adjacency_sql("g")),
        ("presence", graph.presence_sql("events")),
        ("activity", graph.activity_sql("calls")),
        ("profile", membership.profile_sql("events")),
    ]
    for name, sql in steps:
        con.execute(f"CREATE TABLE {name} AS {sql}")
    return _rows(con, membership.member_features_sql(
        "members", "adj", "presence", "profile", "activity", "billing", 0.5, 2, "2026-10-31", home_bins))


def test_coupling_and_fingerprint_by_hand():
    # Group G of A (key person), B and C; X is an off-net outsider. 2026-10-14 is a Wednesday,
    # 2026-10-17 a Saturday.
    calls = [
        _call("A", "B", "2026-10-14 10:00:00", "office", "office"),
        _call("A", "B", "2026-10-14 11:00:00", "office", "office"),
        _call("B", "A", "2026-10-14 15:00:00", "office", "office"),
        _call("A", "X", "2026-10-14 16:00:00", "office", None, callee_on_net=False),
        _call("A", "X", "2026-10-14 17:00:00", "office", None, callee_on_net=False),
        _call("B", "C", "2026-10-17 20:00:00", "homeB", "homeC"),
    ]
    f = _features(calls, [("G", "A", "key_person"), ("G", "B", "member"), ("G", "C", "member")])
    a, b, c = f["A"], f["B"], f["C"]
    # members contacted: A-B, B-A and B-C, C-B
    assert (a["members_contacted"], b["members_contacted"], c["members_contacted"]) == (1, 2, 1)
    # A-B: 3 calls, all in working time -> work-like, weight min(1, 3 / 2) = 1. B is not the key
    # person, so for A it is one work tie; for B it is the tie with the key person.
    assert a["work_ties"] == 1 and a["key_person_tie"] == 0
    assert b["work_ties"] == 0 and b["key_person_tie"] == 1
    # B-C: one Saturday-evening call: not work-like
    assert c["work_ties"] == 0 and c["key_person_tie"] == 0
    # B's calls with members: 4, of them 3 in working time
    assert b["in_work_share"] == pytest.approx(0.75)
    # share of A's working-time events that are with work-tied members: 3 of its 5
    assert a["work_tie_events"] == 3 and a["graph_work_events"] == 5
    # profiles (bin 0 = weekday working time, 4 = rest-day evening): A (5, 0), B (3, 1), C (0, 1).
    # group total (8, 2); rest of the group for A: (3, 2): cos = 5*3 / (5 * sqrt(13)) = 0.83205
    assert a["time_similarity"] == pytest.approx(15 / (5 * 13 ** 0.5))
    # B: rest (5, 1): (3*5 + 1*1) / (sqrt(10) * sqrt(26)) = 16 / 16.1245 = 0.99228
    assert b["time_similarity"] == pytest.approx(16 / (10 ** 0.5 * 26 ** 0.5))
    assert (a["own_work_share"], b["own_work_share"], c["own_work_share"]) == (1.0, 0.75, 0.0)
    # co-location: working-time records in 'office': A 5, B 3 (8 in all). A: 5 * (8 - 5) / (5 * 3) = 1;
    # B: 3 * (8 - 3) / (3 * 5) = 1; C has no working-time record.
    assert (a["work_records"], b["work_records"], c["work_records"]) == (5, 3, 0)
    assert a["colocation"] == pytest.approx(1.0) and b["colocation"] == pytest.approx(1.0) and c["colocation"] == 0
    # billing reaches the features; members without a bill get zeros; nobody is alone in the group
    assert (a["voice_fee"], a["data_fee"], c["data_fee"], a["billed"], c["billed"]) == (10.0, 20.0, 0.0, True, False)
    assert a["other_active"] == 2 and a["is_key_person"] and a["days_observed"] == 31


def test_colocation_at_a_members_own_home_is_not_at_work():
    # Group G: A (key person) and B work at 'office'; R is B's relative and lives with B at 'homeB'.
    # Wednesday 2026-10-14: A-B twice in the office; B came home for lunch and R called B there; R called
    # an outsider from home. Saturday 2026-10-17 20:00 (rest-day evening, time bin 4): R-B at home.
    calls = [
        _call("A", "B", "2026-10-14 10:00:00", "office", "office"),
        _call("B", "A", "2026-10-14 15:00:00", "office", "office"),
        _call("R", "B", "2026-10-14 12:00:00", "homeB", "homeB"),
        _call("R", "X", "2026-10-14 16:00:00", "homeB", None, callee_on_net=False),
        _call("R", "B", "2026-10-17 20:00:00", "homeB", "homeB"),
    ]
    members = [("G", "A", "key_person"), ("G", "B", "member"), ("G", "R", "member")]
    # working-time records: A office 2; B office 2, homeB 1 (3); R homeB 2; group total 7.
    # per cell: office 4 (A 2, B 2), homeB 3 (B 1, R 2).
    # every cell counted (home_bins empty): R 2 * (3 - 2) / (2 * (7 - 2)) = 0.2; B (2 * (4 - 2) + 1 * (3 - 1))
    # / (3 * (7 - 3)) = 0.5; A 2 * (4 - 2) / (2 * (7 - 2)) = 0.4
    f = _features(calls, members, home_bins=())
    assert (f["R"]["colocation"], f["B"]["colocation"], f["A"]["colocation"]) == pytest.approx((0.2, 0.5, 0.4))
    # homeB is R's and B's home (seen there on a rest-day evening): their records there count 0.
    # R: 0 / 10 = 0 (at home with its relative, never at the group's workplace); B: 4 / 12 = 1/3; A as before
    f = _features(calls, members)
    assert f["R"]["colocation"] == 0 and f["R"]["work_records"] == 2
    assert f["B"]["colocation"] == pytest.approx(1 / 3) and f["A"]["colocation"] == pytest.approx(0.4)


def test_shared_work_contacts_by_hand():
    # Group G of A, B and C; E is a likely employee (not registered); S and F are outside numbers.
    edges = [  # (member, contact, events, working-time events)
        ("A", "S", 3, 2),  # work-like (2 >= 0.5 x 3)
        ("B", "S", 2, 2),  # work-like
        ("C", "S", 4, 1),  # not work-like (1 < 0.5 x 4): does not make S shared for C, nor count for S
        ("A", "E", 2, 2), ("B", "E", 3, 3),  # work-like ties with the likely employee: colleague ties
        ("C", "F", 1, 1),  # work-like, but F works with no other member
    ]
    con = _con(
        adj={"x": [e[0] for e in edges], "y": [e[1] for e in edges], "events": [e[2] for e in edges],
             "work_events": [e[3] for e in edges]},
        members={"group_id": ["G"] * 3, "msisdn": ["A", "B", "C"]},
        employees={"group_id": ["G"], "msisdn": ["E"]},
    )
    c = _rows(con, membership.colleague_ties_sql("members", "adj", "employees", 0.5, 2))
    # A: E is a colleague (1 tie, min(1, 2 / 2)); S and E are shared work contacts (A and B work with both)
    assert (c["A"]["colleague_contacts"], c["A"]["colleague_ties"], c["A"]["colleague_work_events"], c["A"]["shared_contacts"]) == (1, 1.0, 2, 2)
    # their working-time events: S 2 + E 2
    assert c["A"]["shared_work_events"] == 4 and c["B"]["shared_work_events"] == 5
    # B: the same (E: 3 working-time events)
    assert (c["B"]["colleague_contacts"], c["B"]["colleague_work_events"], c["B"]["shared_contacts"]) == (1, 3, 2)
    # C: its one work-like contact F is its own
    assert (c["C"]["colleague_contacts"], c["C"]["shared_contacts"]) == (0, 0)


# ---------------------------------------------------------------- references of small groups

def test_small_groups_borrow_reference_values_from_their_peers():
    mc = ModelConfig(reference_prior_members=2, peer_min_members=3)
    members = [("G1", 0.2), ("G1", 0.4), ("G2", 0.6), ("G2", 0.8), ("G2", 1.0)]
    n = len(members)
    con = _con(
        features={
            "group_id": [m[0] for m in members], "msisdn": [f"m{i}" for i in range(n)],
            "listed": [2, 2, 3, 3, 3], "own_events": [5] * n, "colocation": [m[1] for m in members],
            "members_contacted": [1] * n, "in_work_share": [0.5] * n, "time_similarity": [0.5] * n,
            "own_work_share": [0.5] * n, "in_volume_share": [0.5] * n,
        },
        groups={"group_id": ["G1", "G2"], "industry": ["retail", "retail"]},
    )
    r = _rows(con, scores.group_reference_sql("features", "groups", mc))
    # both groups are in the band 1-3 of retail; that cell's 0.75 quantile of co-location over its 5
    # members [0.2, 0.4, 0.6, 0.8, 1.0] is at position 3 of 0..4: 0.8.
    # G1's own: 0.2 + 0.75 * (0.4 - 0.2) = 0.35; blended with k = 2: (2 * 0.35 + 2 * 0.8) / 4 = 0.575
    assert r["G1"]["ref_coloc"] == pytest.approx(0.575) and r["G1"]["size_band"] == "1-3"
    # G2's own: 0.6 + 1.5 * 0.2 = 0.9; (3 * 0.9 + 2 * 0.8) / 5 = 0.86
    assert r["G2"]["ref_coloc"] == pytest.approx(0.86) and r["G2"]["peer_scope"] == "industry and size"
    assert r["G2"]["own_weight"] == pytest.approx(3 / 5)


# ---------------------------------------------------------------- fake score

FEATURE_DEFAULTS = dict(
    group_id="G", listed=10, member_role="member", is_key_person=False, days_observed=31, days_in_period=31, own_events=40,
    service_events=0, members_contacted=0, work_contacts=0, work_ties=0.0, key_person_tie=0.0,
    work_tie_events=0, graph_work_events=8, colocation=0.0, work_records=0, time_similarity=0.0,
    own_work_share=0.5, voice_fee=20.0, data_fee=30.0, sms_fee=0.0, top_member_events=0,
    top_member_work_share=0.0, other_active=9, in_work_share=0.0,
)


def _fake(rows: dict[str, dict], mc: ModelConfig = MC, threshold: float = 0.5) -> dict:
    full = [{**FEATURE_DEFAULTS, "msisdn": k, **v} for k, v in rows.items()]
    cols = {k: [r[k] for r in full] for k in full[0]}
    con = _con(
        features=cols,
        refs={"group_id": ["G"], "ref_coloc": [0.4], "ref_time": [0.8], "ref_own_work": [0.6], "ref_members": [9]},
        colleagues={"group_id": ["G", "G"], "msisdn": ["office", "field"], "colleague_contacts": [1, 0],
                    "colleague_ties": [1.0, 0.0], "colleague_work_events": [0, 0], "shared_contacts": [0, 2],
                    "shared_work_events": [0, 4]},
    )
    return _rows(con, scores.fake_scores_sql("features", "refs", "colleagues", mc, threshold))


def test_fake_score_by_hand():
    s = _fake({
        # work ties 1 (members) + 1 (a likely employee, from `colleagues`), focus (3 + 0) / 8 = 0.375 >= 0.25:
        # 2 whole ties, + the key-person tie x 2 = 4 ties -> e_ties = 1 - 0.65^4 = 0.82149375
        # co-location 0.2 / ref 0.4 = 0.5, 10 records (full reliability) -> e = 0.9 * 0.5 = 0.45
        # profile 0.6 / ref 0.8 = 0.75 -> e = 0.3 * 0.75 = 0.225
        # fake = 0.17850625 * 0.55 * 0.775 = 0.07608828...
        "office": dict(members_contacted=2, work_contacts=1, work_ties=1.0, key_person_tie=1.0, work_tie_events=3,
                       colocation=0.2, work_records=10, time_similarity=0.6),
        # nothing but a profile 0.4 / 0.8 = 0.5 -> e = 0.15 -> fake 0.85, flagged
        "resold": dict(time_similarity=0.4, work_records=3),
        # no calls, bill 20 voice + 30 data: data share 0.6 < 0.9 -> dormant, 1.0
        "dormant": dict(own_events=0, graph_work_events=0),
        # no calls, data only: a data card in use -> 1 - 0.9 = 0.1
        "datacard": dict(own_events=0, graph_work_events=0, voice_fee=0.0, data_fee=35.5),
        # the key person with nothing else: 1 - 0.7 = 0.3
        "key": dict(is_key_person=True, member_role="key_person"),
    })
    assert s["office"]["fake_score"] == pytest.approx(0.65**4 * 0.55 * 0.775)
    assert s["office"]["e_ties"] == pytest.approx(1 - 0.65**4) and not s["office"]["is_suspect"]
    assert "working-time contact with 3 colleagues including the key person (1 not registered)" in s["office"]["reasons"]
    assert "at work in the group's cells" not in s["office"]["reasons"]  # 0.5 of typical is not named as evidence
    assert s["resold"]["fake_score"] == pytest.approx(0.85) and s["resold"]["is_suspect"]
    assert s["resold"]["reasons"].startswith("no calls with other members")
    # confidence = 0.5 + 0.5 x volume x margin; volume = min(1, 40 / 30) = 1; margin (0.85 - 0.5) / 0.5 = 0.7
    assert s["resold"]["confidence"] == pytest.approx(0.85)
    assert s["dormant"]["fake_score"] == 1.0 and s["dormant"]["is_suspect"] and s["dormant"]["dormant"]
    assert s["dormant"]["reasons"] == "dormant: no calls or SMS in the month; bill is not data-only"
    assert s["datacard"]["fake_score"] == pytest.approx(0.1) and not s["datacard"]["is_suspect"]
    assert s["datacard"]["reasons"].startswith("data-only line (data card or IoT SIM)") and "35.50 yuan" in s["datacard"]["reasons"]
    assert s["key"]["fake_score"] == pytest.approx(0.3) and s["key"]["reasons"].startswith("the group's key person")
    assert all(r["evidence"] == "sufficient" for r in s.values())


def test_too_little_evidence_is_never_flagged():
    s = _fake({
        "quiet": dict(own_events=2),  # fewer than min_events (4)
        "new": dict(days_observed=5),  # joined 5 days before month end (< 10)
        "alone": dict(listed=1, other_active=0),  # the only member of its group
        "nobody": dict(listed=3, other_active=0),  # the others never call
        # 40 calls, none with the group and none in working time (no working-time record): nothing to set
        # against the colleagues' co-location, ties or hours
        "unseen": dict(work_records=0, graph_work_events=0, own_work_share=0.0),
    })
    for k, r in s.items():
        # no evidence at all: fake_score 1.0, but not flagged and no confidence
        assert r["fake_score"] == pytest.approx(1.0), k
        assert r["evidence"] == "insufficient" and not r["is_suspect"] and r["confidence"] == 0.0, k
    assert "only 2 calls or SMS in the month: too few to judge" in s["quiet"]["reasons"]
    assert "joined or activated 5 days before month end: too recent to judge" in s["new"]["reasons"]
    assert s["alone"]["reasons"].endswith("the only member of the group: no colleague to compare with")
    assert "no other member of the group is active" in s["nobody"]["reasons"]
    assert s["unseen"]["reasons"].endswith("no calls with the group and none in working hours: too little to judge")
    # the same line calling one member, evenings only (family-like), is judged: its fake score stands
    rel = _fake({"rel": dict(work_records=0, graph_work_events=0, own_work_share=0.0, members_contacted=1,
                             top_member_events=12, top_member_work_share=0.0)})["rel"]
    assert rel["evidence"] == "sufficient" and rel["is_suspect"] and "family-like" in rel["reasons"]
    # a group of one never reads "contacts 0 of 0 other members"
    assert "0 of 0" not in s["alone"]["reasons"] and "no calls with other members" not in s["alone"]["reasons"]


def test_chance_ties_of_an_outsider_count_little():
    # one work tie carrying 1 of 20 working-time events: focus 0.05 / 0.25 = 0.2 of a tie:
    # fake = 0.65^0.2 = 0.917451, flagged; the same tie carrying 10 of 20 counts fully: 0.65
    s = _fake({
        "outsider": dict(members_contacted=1, work_contacts=1, work_ties=1.0, work_tie_events=1, graph_work_events=20),
        "colleague": dict(members_contacted=1, work_contacts=1, work_ties=1.0, work_tie_events=10, graph_work_events=20),
    })
    assert s["outsider"]["fake_score"] == pytest.approx(0.65**0.2) and s["outsider"]["is_suspect"]
    assert s["colleague"]["fake_score"] == pytest.approx(0.65)
    # a suspect's tie is named with why it does not clear it; a cleared member's is not
    assert ("working-time contact with 1 colleague, too little of its working time to vouch for it"
            in s["outsider"]["reasons"])
    s = _fake({"cleared": dict(members_contacted=3, work_contacts=3, work_ties=3.0, work_tie_events=10, graph_work_events=20)})
    assert s["cleared"]["reasons"].startswith("working-time contact with 3 colleagues;") and not s["cleared"]["is_suspect"]


def test_shared_work_contacts_clear_a_quiet_member():
    # "field": no tie with a member, never at the group's cells, profile 0.8 / 0.8 -> e_profile 0.3; two
    # shared work contacts (from `colleagues`) carrying 4 of its 8 working-time events: focus 0.5 >= 0.25,
    # whole -> e_shared = 1 - 0.65^2 = 0.5775; fake = 0.7 * 0.4225 = 0.29575, not flagged.
    # Without them: 0.7, flagged
    s = _fake({"field": dict(time_similarity=0.8, work_records=4), "alone": dict(time_similarity=0.8, work_records=4)})
    assert s["field"]["e_shared"] == pytest.approx(1 - 0.65**2) and s["field"]["shared_contacts"] == 2
    assert s["field"]["fake_score"] == pytest.approx(0.7 * 0.65**2) and not s["field"]["is_suspect"]
    assert "working-time calls with 2 numbers that other members also call for work" in s["field"]["reasons"]
    assert s["alone"]["fake_score"] == pytest.approx(0.7) and s["alone"]["is_suspect"] and s["alone"]["e_shared"] == 0
    assert "other members also call for work" not in s["alone"]["reasons"]
    # a busy line whose 2 shared contacts carry 4 of its 80 working-time events (focus 0.05): a chance
    # overlap with a large group's circle, 2 x 0.05 / 0.25 = 0.4 of a contact -> 0.7 * 0.65^0.4 = 0.59, flagged
    busy = _fake({"field": dict(time_similarity=0.8, work_records=40, graph_work_events=80)})["field"]
    assert busy["fake_score"] == pytest.approx(0.7 * 0.65**0.4) and busy["is_suspect"]
    assert "call for work (clients, suppliers, switchboard, colleagues), too little of its working time to vouch for it" in busy["reasons"]
    assert "vouch" not in s["field"]["reasons"]


# ---------------------------------------------------------------- employee score

def test_employee_score_by_hand():
    cand = {
        "group_id": ["G", "G"], "msisdn": ["off", "on"], "listed": [10, 50], "members_contacted": [3, 10],
        "work_share": [0.6, 0.8], "focus": [0.3, 0.6], "colocation": [None, 0.2], "work_records": [0, 5],
        "closure": [1.0, 0.15],
    }
    con = _con(candidates=cand, refs={"group_id": ["G"], "ref_work": [0.8], "ref_k": [4.0], "ref_focus": [0.6],
                                      "ref_coloc": [0.4]})
    s = _rows(con, scores.employee_scores_sql("candidates", "refs", MC))
    # off-net, not seen at work: work 0.6/0.8 = 0.75; coupling (3-1)/min(9, 4) = 0.5; focus 0.3/0.6 = 0.5
    # (0.35*0.75 + 0.25*0.5 + 0.15*0.5) / 0.75 = 0.4625 / 0.75; 3 members: no scatter cut
    assert s["off"]["score"] == pytest.approx(0.4625 / 0.75)
    # on-net, seen at work (5 records): work 1, coupling 9/4 -> 1, focus 1, co-location 0.2/0.4 = 0.5
    # base = 0.35 + 0.25 + 0.15 + 0.25*0.5 = 0.875; 10 members whose contacts hardly know each other:
    # closure 0.15 / 0.3 = 0.5, ramp min(1, (10-4)/4) = 1 -> cut 0.4 * 0.5 = 0.2 -> 0.875 * 0.8 = 0.7
    assert s["on"]["base_score"] == pytest.approx(0.875) and s["on"]["score"] == pytest.approx(0.7)


def test_one_member_contact_is_not_yet_a_likely_employee():
    # three off-net numbers, not seen at work, each with working time and focus at the group's reference:
    # r_work = r_focus = 1. "shop": in a 1-line group, calls its one member (member_share 1.0);
    # "client": calls 1 member of a 20-line group; "colleague": calls 2 members of the same group.
    cand = {
        "group_id": ["S", "G", "G"], "msisdn": ["shop", "client", "colleague"], "listed": [1, 20, 20],
        "members_contacted": [1, 1, 2], "work_share": [0.8, 0.8, 0.8], "focus": [0.5, 0.5, 0.5],
        "colocation": [None, None, None], "work_records": [0, 0, 0], "closure": [None, None, 1.0],
    }
    refs = {"group_id": ["S", "G"], "ref_work": [0.8, 0.8], "ref_k": [1.0, 3.0], "ref_focus": [0.5, 0.5],
            "ref_coloc": [0.4, 0.4]}
    s = _rows(_con(candidates=cand, refs=refs), scores.employee_scores_sql("candidates", "refs", MC))
    # one member: coupling (1-1)/.. = 0, contact score (0.35 + 0.15) / 0.75 = 2/3 (>= 0.65 before the floor);
    # the floor of 2 members halves it, whatever the group's size: 1/3, not a likely employee
    for one in ("shop", "client"):
        assert s[one]["contact_score"] == pytest.approx(0.5 / 0.75)
        assert s[one]["support"] == pytest.approx(0.5) and s[one]["score"] == pytest.approx(0.5 / 0.75 / 2)
    # two members: coupling (2-1)/min(19, 3) = 1/3 -> (0.35 + 0.25/3 + 0.15) / 0.75, support 1, unchanged
    assert s["colleague"]["support"] == 1.0
    assert s["colleague"]["score"] == pytest.approx((0.35 + 0.25 / 3 + 0.15) / 0.75)
    # the floor is configurable: at 1 it is off, at 3 two members give 2/3 of the score
    s1 = _rows(_con(candidates=cand, refs=refs),
               scores.employee_scores_sql("candidates", "refs", ModelConfig(employee_min_members=1)))
    assert s1["shop"]["score"] == pytest.approx(0.5 / 0.75)
    s3 = _rows(_con(candidates=cand, refs=refs),
               scores.employee_scores_sql("candidates", "refs", ModelConfig(employee_min_members=3)))
    assert s3["colleague"]["score"] == pytest.approx((0.35 + 0.25 / 3 + 0.15) / 0.75 * 2 / 3)


def test_contact_mostly_outside_working_time_is_not_a_likely_employee():
    # a group whose members call each other half in the evenings has a low reference working-time
    # share (0.4). "friend" calls 2 members, 30 % of it in working time; "colleague" 60 %.
    cand = {
        "group_id": ["G", "G"], "msisdn": ["friend", "colleague"], "listed": [10, 10], "members_contacted": [2, 2],
        "work_share": [0.3, 0.6], "focus": [0.5, 0.5], "colocation": [None, None], "work_records": [0, 0],
        "closure": [1.0, 1.0],
    }
    refs = {"group_id": ["G"], "ref_work": [0.4], "ref_k": [1.0], "ref_focus": [0.5], "ref_coloc": [0.4]}
    s = _rows(_con(candidates=cand, refs=refs), scores.employee_scores_sql("candidates", "refs", MC))
    # friend: work 0.3 / 0.4 = 0.75, coupling (2-1)/min(9, 1) = 1, focus 1:
    # (0.35 * 0.75 + 0.25 + 0.15) / 0.75 = 0.883333 (contact_score); work gate 0.3 / 0.5 = 0.6 -> 0.53
    assert s["friend"]["contact_score"] == pytest.approx(0.6625 / 0.75)
    assert s["friend"]["work_gate"] == pytest.approx(0.6) and s["friend"]["score"] == pytest.approx(0.6625 / 0.75 * 0.6)
    # colleague: every signal at or above the reference, gate min(1, 0.6 / 0.5) = 1 -> 1.0
    assert s["colleague"]["work_gate"] == 1.0 and s["colleague"]["score"] == pytest.approx(1.0)


# ---------------------------------------------------------------- market share both ways

COUNTS = {
    "group_id": ["G1", "G2", "G3"], "industry": ["retail"] * 3, "size_band": ["10-29"] * 3, "listed_members": [10, 9, 5], "real_members": [9, 9, 5],
    "onnet_registered_staff": [8, 9, 5], "onnet_detected": [2, 1, 0],
    "offnet_detected": [4, 6, 2], "offnet_key_competitor": [2, 5, 1],
    # expected employees: here every candidate's score is at 0 or 1 of the ramp, the hard counts
    "onnet_expected": [2.0, 1.0, 0.0], "offnet_expected": [4.0, 6.0, 2.0],
}
PREVIOUS = {
    "group_id": ["G3"], "real_members": [5], "onnet_registered_staff": [5], "onnet_detected": [0], "offnet_detected": [3],
    "offnet_key_competitor": [1], "correction_coefficient": [2.0], "rule_correction_coefficient": [None],
    "onnet_expected": [0.0], "offnet_expected": [3.0],
}


def _empty_previous() -> dict:
    """PREVIOUS's columns with no row: no month before this one."""
    def kind(k: str):
        if k == "group_id":
            return pa.string()
        return pa.float64() if ("coefficient" in k or "expected" in k) else pa.int64()
    return {k: pa.array([], type=kind(k)) for k in PREVIOUS}


def test_group_counts_by_hand():
    # G1: 4 members, one suspect, one a data line: 3 real, 2 of them staff. Candidates scored 0.30, 0.55,
    # 0.70 (on-net) and 0.80, 0.65, 0.40 (off-net): likely employees (>= 0.65) 1 on-net, 2 off-net; key
    # competitor users (off-net, member_share > 0.1): 0.5 and 0.25 -> 2
    con = _con(
        groups={"group_id": ["G1"], "industry": ["retail"], "region": ["R"], "account_manager_id": ["A"], "status": ["active"]},
        fake={"group_id": ["G1"] * 4, "is_suspect": [True, False, False, False], "evidence": ["sufficient"] * 4,
              "data_line": [False, True, False, False]},
        employee={"group_id": ["G1"] * 6, "on_net": [True, True, True, False, False, False],
                  "score": [0.30, 0.55, 0.70, 0.80, 0.65, 0.40], "member_share": [0.0, 0.0, 0.0, 0.5, 0.25, 0.0]},
    )
    g = _rows(con, market.group_counts_sql("groups", "fake", "employee", 0.5, 0.65, 0.1, [3, 9]))["G1"]
    assert (g["real_members"], g["data_lines"], g["onnet_registered_staff"], g["purity"]) == (3, 1, 2, 0.75)
    assert (g["onnet_detected"], g["offnet_detected"], g["offnet_key_competitor"], g["size_band"]) == (1, 2, 2, "4-9")
    # without a ramp the expected employees are the hard counts at the threshold
    assert (g["onnet_expected"], g["offnet_expected"]) == (1.0, 2.0)
    # ramp [0.5, 0.7]: on-net 0.30 -> 0, 0.55 -> 0.25, 0.70 -> 1 (1.25); off-net 0.80 -> 1, 0.65 -> 0.75, 0.40 -> 0 (1.75)
    g = _rows(con, market.group_counts_sql("groups", "fake", "employee", 0.5, 0.65, 0.1, [3, 9], [0.5, 0.7]))["G1"]
    assert g["onnet_expected"] == pytest.approx(1.25) and g["offnet_expected"] == pytest.approx(1.75)
    assert (g["onnet_detected"], g["offnet_detected"]) == (1, 2)  # the likely employees stay as they were


def test_an_active_group_without_current_members_has_a_row_without_purity_or_share():
    # the contract's group summary has one row per active group: G0's members all left (or none registered
    # yet); it is counted with 0 members, no purity and no market share (empty, never 0/0), and a survey of
    # it calibrates nothing
    con = _con(
        groups={"group_id": ["G0", "G1"], "industry": ["retail"] * 2, "region": ["R"] * 2,
                "account_manager_id": ["A"] * 2, "status": ["active"] * 2},
        fake={"group_id": ["G1"] * 2, "is_suspect": [False, False], "evidence": ["sufficient"] * 2,
              "data_line": [False, False]},
        employee={"group_id": ["G1"], "on_net": [False], "score": [0.9], "member_share": [0.5]},
    )
    con.execute("CREATE TABLE counts AS " + market.group_counts_sql("groups", "fake", "employee", 0.5, 0.65, 0.1, [3, 9]))
    g = _rows(con, "SELECT * FROM counts")
    assert set(g) == {"G0", "G1"}
    assert (g["G0"]["listed_members"], g["G0"]["real_members"], g["G0"]["onnet_registered_staff"], g["G0"]["purity"]) == (0, 0, 0, None)
    d = datetime(2026, 10, 15).date()
    con.register("surveys_df", pa.table({"group_id": ["G0", "G1"], "surveyed_headcount": [500, 4], "surveyed_at": [d, d]}))
    con.execute("CREATE TABLE surveys AS SELECT * FROM surveys_df")
    con.execute("CREATE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 8, [3, 9]))
    cal = _rows(con, "SELECT scope AS group_id, * FROM calibration")["global"]
    assert cal["surveys"] == 1 and cal["coefficient"] == pytest.approx(2.0)  # G1 alone: (4 - 2) / 1
    con.register("prev_df", pa.table(_empty_previous()))
    con.execute("CREATE TABLE previous AS SELECT * FROM prev_df")
    ms = _rows(con, market.market_share_sql("counts", "calibration", "previous"))
    assert ms["G0"]["market_share"] is None and ms["G0"]["market_share_staff"] is None
    assert ms["G1"]["market_share"] == pytest.approx(2 / 4)


def _market(surveys: dict, previous: dict | None) -> tuple[dict, dict]:
    prev = previous if previous is not None else _empty_previous()
    con = _con(counts=COUNTS, surveys=surveys, previous=prev)
    con.execute("CREATE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 8, [3, 9, 29, 99]))
    cal = _rows(con, "SELECT scope AS group_id, * FROM calibration")
    return cal, _rows(con, market.market_share_sql("counts", "calibration", "previous"))


def test_an_implausible_survey_is_left_out_of_the_calibration_and_counted():
    """G1 and G2 as in the hand-worked case below (score coefficient 27/13); per latest survey, (headcount -
    on-net staff) / expected employees: G1 12/6 = 2, G2 15/7, G3 (X - 5)/2; the median m = 15/7 while X is
    large. G3's calls predict 5 + 2m = 9.2857 employees: a headcount over 4 x (9.2857 + 5) = 57.14 cannot
    be its company's and is left out (the ratio estimator would follow it: (27 + 99995) / 15); 57 itself is
    used; so is every survey without the rule. A headcount under (on-net staff - 5) / 4 is left out too, and
    a group's earlier plausible survey stands in for a left-out latest one."""
    d, earlier = datetime(2026, 10, 15).date(), datetime(2026, 9, 15).date()

    def fit(heads: list[int], ratio: float | None, counts: dict = COUNTS, extra: tuple | None = None) -> dict:
        surveys = {"group_id": ["G1", "G2", "G3"], "surveyed_headcount": heads, "surveyed_at": [d] * 3}
        if extra:
            for k, v in zip(surveys, extra):
                surveys[k] = [*surveys[k], v]
        con = _con(counts=counts, surveys=surveys, previous=_empty_previous())
        con.execute("CREATE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 8, [3, 9, 29, 99], survey_max_ratio=ratio))
        bad = con.execute(f"SELECT group_id, implausible FROM ({market.surveyed_groups_sql('counts', 'surveys', ratio)}) "
                          "WHERE left_out").fetchall()
        return {**_rows(con, "SELECT scope AS group_id, * FROM calibration")["global"], "bad": bad}

    g = fit([20, 24, 100000], 4.0)
    assert (g["surveys"], g["surveys_excluded"]) == (2, 1) and g["coefficient"] == pytest.approx(27 / 13)
    assert g["bad"] == [("G3", "headcount 100000 over 4x the 9.3 employees its calls predict")]
    g = fit([20, 24, 57], 4.0)
    assert (g["surveys"], g["surveys_excluded"]) == (3, 0) and g["coefficient"] == pytest.approx((27 + 52) / 15)
    assert fit([20, 24, 58], 4.0)["surveys_excluded"] == 1
    g = fit([20, 24, 100000], None)
    assert (g["surveys"], g["surveys_excluded"]) == (3, 0) and g["coefficient"] == pytest.approx((27 + 99995) / 15)
    # G3 with 30 on-net staff and a headcount of 2: 2 x 4 = 8 < 30 - 5; 7 x 4 = 28 is not (7 is kept, though
    # under the 34 employees the calls predict with m = 2: the calls can over-count a small company)
    low = {**COUNTS, "onnet_registered_staff": [8, 9, 30]}
    g = fit([20, 24, 2], 4.0, low)
    assert (g["surveys"], g["surveys_excluded"]) == (2, 1) and g["bad"] == [("G3", "headcount 2 under 1/4 of its 30 on-net staff")]
    assert fit([20, 24, 7], 4.0, low)["surveys_excluded"] == 0
    # G3 surveyed earlier at 9 (plausible): that survey is used, (27 + 4) / (13 + 2)
    g = fit([20, 24, 100000], 4.0, extra=("G3", 9, earlier))
    assert (g["surveys"], g["surveys_excluded"]) == (3, 1) and g["coefficient"] == pytest.approx(31 / 15)


def test_market_share_both_ways_by_hand():
    d = datetime(2026, 10, 15).date()
    cal, ms = _market({"group_id": ["G1", "G2"], "surveyed_headcount": [20, 24], "surveyed_at": [d, d]}, PREVIOUS)
    g = cal["global"]
    # score: implied unregistered staff G1 20 - 8 = 12 over 2 + 4 = 6 likely employees, G2 24 - 9 = 15
    # over 1 + 6 = 7: coefficient 27 / 13 = 2.076923; in-sample |6c - 12| = |7c - 15| = 0.461538
    assert g["surveys"] == 2 and g["status"] == "calibrated"
    assert g["coefficient"] == pytest.approx(27 / 13) and g["mae_employees"] == pytest.approx(6 / 13, abs=1e-6)
    # leave one out: G1 by G2 alone, 15/7: on-net 8 + round(2 * 15/7) = 12, off-net 4 * 15/7 = 8.5714:
    # 12 / 20.5714 = 0.583333 vs the survey's 12 / 20 = 0.6; G2 by G1 alone, 12/6 = 2: on-net 9 + 2 = 11,
    # off-net 12: 11 / 23 = 0.478261 vs 11 / 24 = 0.458333 -> mean 1.8297 pp
    loo = (abs(12 / (12 + 4 * 15 / 7) - 0.6) + abs(11 / 23 - 11 / 24)) / 2 * 100
    assert g["loo_mae_pp"] == pytest.approx(loo, abs=1e-5)
    # rule: on-net side 8 + 2 = 10 and 9 + 1 = 10, implied 10 and 14 over 2 and 5 key competitor users:
    # 24 / 7 = 3.428571; LOO G1 by 14/5: 10 / (10 + 5.6) vs 0.5; G2 by 10/2: 10 / 35 vs 10 / 24
    assert g["rule_coefficient"] == pytest.approx(24 / 7)
    rloo = (abs(10 / 15.6 - 0.5) + abs(10 / 35 - 10 / 24)) / 2 * 100
    assert g["rule_loo_mae_pp"] == pytest.approx(rloo, abs=1e-5)
    # on-net likely employees are corrected like the off-net ones: G1 round(2 * 27/13) = 4
    assert ms["G1"]["est_onnet_unregistered"] == 4
    # G1 has 9 real members, one a data line: the contract's share counts the 9, (9 + 4) / (13 + 4 x 27/13)
    # = 169 / 277; the staff share counts the 8 employees, 12 / (12 + 108/13) = 156 / 264
    assert ms["G1"]["est_offnet_employees"] == pytest.approx(108 / 13)
    assert ms["G1"]["market_share"] == pytest.approx(169 / 277)
    assert ms["G1"]["market_share_staff"] == pytest.approx(156 / 264)
    g3 = ms["G3"]
    # G3: 5 on-net staff, no on-net likely employee, 2 off-net ones, 1 key competitor user
    assert g3["market_share"] == pytest.approx(5 / (5 + 2 * 27 / 13)) and g3["coefficient_scope"] == "global"
    assert g3["rule_market_share"] == pytest.approx(5 / (5 + 24 / 7))
    # change since last month (5 on-net, 3 detected under 2.0: 5/11): this month's counts under last
    # month's coefficient 5/9 -> movement 5/9 - 5/11; recalibration 5/(5 + 54/13) - 5/9
    now = 5 / (5 + 54 / 13)
    assert g3["previous_month"] == "present" and g3["previous_market_share"] == pytest.approx(5 / 11)
    assert g3["share_change_movement"] == pytest.approx(5 / 9 - 5 / 11)
    assert g3["share_change_recalibration"] == pytest.approx(now - 5 / 9)
    assert g3["share_change"] == pytest.approx(now - 5 / 11)
    assert ms["G1"]["previous_month"] == "new group" and ms["G1"]["share_change"] is None
    # a new group has no part of a change either (neither movement nor recalibration)
    assert ms["G1"]["share_change_movement"] is None and ms["G1"]["share_change_recalibration"] is None
    assert ms["G1"]["rule_share_change_recalibration"] is None


def test_market_share_without_surveys_is_uncalibrated_and_a_missing_month_is_missing():
    empty = {"group_id": pa.array([], pa.string()), "surveyed_headcount": pa.array([], pa.int64()),
             "surveyed_at": pa.array([], pa.date32())}
    cal, ms = _market(empty, None)
    assert cal["global"]["status"] == "uncalibrated" and cal["global"]["surveys"] == 0
    assert cal["global"]["coefficient"] is None and cal["global"]["rule_coefficient"] is None
    g3 = ms["G3"]
    # no coefficient: the uncorrected counts (a lower bound on off-net staff), said so, never a silent 1.0
    assert g3["correction_coefficient"] is None and g3["coefficient_scope"] == "uncalibrated"
    assert g3["market_share"] == pytest.approx(5 / 7) and g3["est_offnet_employees"] == 2
    assert g3["previous_month"] == "missing" and g3["previous_market_share"] is None and g3["share_change"] is None
    for k in ("share_change_movement", "share_change_recalibration", "rule_share_change", "rule_share_change_recalibration"):
        assert all(g[k] is None for g in ms.values()), k  # a missing month: every change empty


def test_model_tunables_are_config_keys_with_their_meaning():
    a = config_from_dict({"analytics": {"model": {"tie_evidence": 0.5, "size_bands": [2, 10]}}}).analytics
    assert a.model.tie_evidence == 0.5 and a.model.size_bands == [2, 10]
    for name, f in ModelConfig.model_fields.items():
        assert f.description, name
    from groupscope.config import ConfigError

    with pytest.raises(ConfigError, match="analytics.model.size_bands"):
        config_from_dict({"analytics": {"model": {"size_bands": [10, 2]}}})
    # the band labels follow the configured bounds
    con = duckdb.connect()
    labels = [con.execute(f"SELECT {scores.size_band_sql(str(n), [3, 9])}").fetchall()[0][0] for n in (1, 3, 4, 9, 10)]
    assert labels == ["1-3", "1-3", "4-9", "4-9", "10+"]


def test_an_uncalibrated_month_is_said_in_the_report_and_the_log(tmp_path, caplog):
    from pipelines.run import calibration_text

    path = tmp_path / "cal.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'global' AS scope, 0::BIGINT AS surveys, 'uncalibrated' AS status, NULL::DOUBLE AS coefficient, "
        f"NULL::DOUBLE AS loo_mae_pp, NULL::DOUBLE AS rule_coefficient, NULL::DOUBLE AS rule_loo_mae_pp) TO '{path}' (FORMAT parquet)"
    )
    with caplog.at_level("WARNING", logger="groupscope"):
        text, warning = calibration_text(con, path)
    assert text == "global (n=0): score uncalibrated, 10 % rule uncalibrated"
    assert warning.startswith("WARNING: market share uncalibrated (0 surveys)")
    assert "market share uncalibrated" in caplog.text


def test_coefficient_by_size_band_pools_neighbouring_bands():
    # bands [3, 9]: 1-3, 4-9, 10+; at least 2 surveys per scope. G1, G2 (1-3) and G3 (10+) are surveyed.
    counts = {
        "group_id": ["G1", "G2", "G3", "G4"], "industry": ["retail"] * 4, "size_band": ["1-3", "1-3", "10+", "10+"],
        "listed_members": [4, 2, 20, 10], "real_members": [4, 2, 20, 10], "onnet_registered_staff": [4, 2, 20, 10], "onnet_detected": [1, 0, 2, 0],
        "offnet_detected": [1, 2, 8, 5], "offnet_key_competitor": [1, 1, 1, 1],
        "onnet_expected": [1.0, 0.0, 2.0, 0.0], "offnet_expected": [1.0, 2.0, 8.0, 5.0],
    }
    d = datetime(2026, 10, 15).date()
    con = _con(counts=counts, surveys={"group_id": ["G1", "G2", "G3"], "surveyed_headcount": [8, 6, 35], "surveyed_at": [d] * 3},
               previous=_empty_previous())
    con.execute("CREATE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 2, [3, 9]))
    cal = _rows(con, "SELECT scope AS group_id, * FROM calibration")
    # implied unregistered staff / likely employees: G1 (8-4)/(1+1), G2 (6-2)/(0+2), G3 (35-20)/(2+8)
    # 1-3 has its own 2 surveys: 8 / 4 = 2.0; 4-9 has none and pools 1-3..10+ (3 surveys); 10+ has 1
    # and pools 4-9..10+ (still 1), then all three: 23 / 14
    assert {k: v["surveys"] for k, v in cal.items()} == {"global": 3, "size 1-3": 2, "size 4-9": 3, "size 10+": 3}
    assert cal["size 1-3"]["coefficient"] == pytest.approx(2.0)
    assert cal["size 10+"]["coefficient"] == pytest.approx(23 / 14) == cal["global"]["coefficient"]
    ms = _rows(con, market.market_share_sql("counts", "calibration", "previous"))
    assert ms["G1"]["coefficient_scope"] == "size 1-3" and ms["G1"]["correction_coefficient"] == pytest.approx(2.0)
    # G4: 10 on-net staff, 5 off-net likely employees x 23/14
    assert ms["G4"]["coefficient_scope"] == "size 10+" and ms["G4"]["market_share"] == pytest.approx(10 / (10 + 5 * 23 / 14))


def test_a_band_coefficient_far_from_the_global_one_is_clipped_and_warned(tmp_path, caplog):
    from pipelines.run import calibration_text

    # bands [3, 9]: 1-3, 4-9, 10+; 2 surveys per scope. Implied unregistered staff / expected employees:
    # G1 (12-2)/1, G2 (10-2)/1 (band 1-3: 18/2 = 9), G3 (30-20)/10, G4 (20-10)/10 (band 10+: 20/20 = 1);
    # global 38/22. Held within [global / 3, global x 3] = [0.5758, 114/22 = 5.1818]: 1-3 is clipped to 114/22
    counts = {
        "group_id": ["G1", "G2", "G3", "G4"], "industry": ["retail"] * 4, "size_band": ["1-3", "1-3", "10+", "10+"],
        "listed_members": [2, 2, 20, 10], "real_members": [2, 2, 20, 10], "onnet_registered_staff": [2, 2, 20, 10], "onnet_detected": [0, 0, 0, 0],
        "offnet_detected": [1, 1, 10, 10], "offnet_key_competitor": [1, 1, 1, 1],
        "onnet_expected": [0.0, 0.0, 0.0, 0.0], "offnet_expected": [1.0, 1.0, 10.0, 10.0],
    }
    d = datetime(2026, 10, 15).date()
    con = _con(counts=counts, surveys={"group_id": ["G1", "G2", "G3", "G4"], "surveyed_headcount": [12, 10, 30, 20],
                                       "surveyed_at": [d] * 4},
               previous=_empty_previous())
    con.execute("CREATE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 2, [3, 9], 3.0))
    cal = _rows(con, "SELECT scope AS group_id, * FROM calibration")
    assert cal["global"]["coefficient"] == pytest.approx(38 / 22)
    assert cal["size 1-3"]["raw_coefficient"] == pytest.approx(9.0)
    assert cal["size 1-3"]["coefficient"] == pytest.approx(114 / 22)
    assert cal["size 10+"]["coefficient"] == pytest.approx(1.0) == cal["size 10+"]["raw_coefficient"]
    # leave one out, clipped the same way by the other surveys' global coefficient: G1 by G2's 8, held
    # within 3 x 28/21 = 4: 2 / (2 + 4) vs 2 / 12; G2 by G1's 10, held within 3 x 30/21: 2 / (2 + 90/21) vs 2 / 10
    loo = (abs(2 / 6 - 2 / 12) + abs(2 / (2 + 90 / 21) - 0.2)) / 2 * 100
    assert cal["size 1-3"]["loo_mae_pp"] == pytest.approx(loo, abs=1e-5)
    ms = _rows(con, market.market_share_sql("counts", "calibration", "previous"))
    assert ms["G1"]["correction_coefficient"] == pytest.approx(114 / 22)
    assert ms["G1"]["market_share"] == pytest.approx(2 / (2 + 114 / 22))
    # without the bound the band keeps its own ratio
    con.execute("CREATE OR REPLACE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 2, [3, 9]))
    assert _rows(con, "SELECT scope AS group_id, * FROM calibration")["size 1-3"]["coefficient"] == pytest.approx(9.0)
    # the run says so, and warns about a leave-one-out error above the configured level
    con.execute("CREATE OR REPLACE TABLE calibration AS " + market.calibration_sql("counts", "surveys", 2, [3, 9], 3.0))
    path = tmp_path / "cal.parquet"
    con.execute(f"COPY calibration TO '{path}' (FORMAT parquet)")
    with caplog.at_level("WARNING", logger="groupscope"):
        _text, warning = calibration_text(con, path, warn_loo_pp=10.0)
    assert ("WARNING: market share size 1-3 (n=2): score coefficient 9.00 is implausibly far from the global one, "
            "clipped to 5.18") in warning
    assert f"size 1-3 (n=2): score leave-one-out error {loo:.1f} pp is above 10 pp" in warning
    assert "clipped to 5.18" in caplog.text
    assert "10+ (n=2): score coefficient" not in warning and "global (n=4): score coefficient" not in warning


def test_distinct_days_from_the_day_mask_equal_a_distinct_count():
    # 2,000 numbers with 1 to 40 records each on random days of two months (61 days): the day mask's count
    # equals count(DISTINCT day) for every number, and ignores NULL days as the distinct count does
    import random

    rnd = random.Random(7)
    nums, days = [], []
    for n in range(2000):
        for _ in range(rnd.randint(1, 40)):
            nums.append(f"n{n}")
            days.append(None if rnd.random() < 0.02 else datetime(2026, 9, 1 + rnd.randrange(30)) if rnd.random() < 0.5
                        else datetime(2026, 10, 1 + rnd.randrange(31)))
    con = _con(t={"number": nums, "start_time": days})
    got = con.execute(
        f"SELECT number, coalesce({graph.distinct_days_sql('CAST(start_time AS DATE)')}, 0) AS mask, "
        "count(DISTINCT CAST(start_time AS DATE)) AS exact FROM t GROUP BY number"
    ).fetchall()
    assert len(got) == 2000
    assert [r for r in got if r[1] != r[2]] == []
    assert max(r[2] for r in got) > 25  # numbers active on many days of both months are in the sample


def test_bands_pooled_to_the_same_surveys_warn_once(tmp_path):
    from pipelines.run import calibration_text

    con = duckdb.connect()
    path = tmp_path / "cal.parquet"
    con.execute(
        f"COPY (SELECT * FROM (VALUES ('global', 16, 'calibrated', 1.5, 30.0, 2.0, 5.0), "
        "('size 4-9', 16, 'calibrated', 1.5, 30.0, 2.0, 5.0), ('size 10-29', 16, 'calibrated', 1.5, 30.0, 2.0, 5.0), "
        "('size 1-3', 9, 'calibrated', 1.2, 40.0, 2.0, 5.0)) "
        f"AS t(scope, surveys, status, coefficient, loo_mae_pp, rule_coefficient, rule_loo_mae_pp)) TO '{path}' (FORMAT parquet)"
    )
    text, warning = calibration_text(con, path, warn_loo_pp=25.0)
    assert warning.splitlines() == [
        "WARNING: market share global, size 4-9, size 10-29 (n=16): score leave-one-out error 30.0 pp is above 25 pp "
        "(analytics.coefficient_warn_loo_pp): its shares are unreliable",
        "WARNING: market share size 1-3 (n=9): score leave-one-out error 40.0 pp is above 25 pp "
        "(analytics.coefficient_warn_loo_pp): its shares are unreliable",
    ]
    # the coefficient line: every scope, in band order, the scopes with the same fit once
    assert text == (
        "global, size 4-9, size 10-29 (n=16): score 1.50 (leave-one-out error 30.0 pp), 10 % rule 2.00 (leave-one-out "
        "error 5.0 pp); size 1-3 (n=9): score 1.20 (leave-one-out error 40.0 pp), 10 % rule 2.00 (leave-one-out error 5.0 pp)"
    )


def test_left_out_surveys_are_warned_about_in_the_report_without_a_second_log_line(tmp_path, caplog):
    from pipelines.run import calibration_text

    con = duckdb.connect()
    path = tmp_path / "cal.parquet"
    con.execute(
        "COPY (SELECT 'global' AS scope, 2 AS surveys, 'calibrated' AS status, 1.5 AS coefficient, 3.0 AS loo_mae_pp, "
        f"2.0 AS rule_coefficient, 4.0 AS rule_loo_mae_pp, 1 AS surveys_excluded) TO '{path}' (FORMAT parquet)"
    )
    with caplog.at_level("WARNING", logger="groupscope"):
        _text, warning = calibration_text(con, path)
    assert warning == ("WARNING: market share: 1 survey(s) left out of the calibration as implausible "
                       "(analytics.survey_max_ratio; the run's log names them): have them corrected\n")
    assert "left out" not in caplog.text  # the analytics stage's line names them
