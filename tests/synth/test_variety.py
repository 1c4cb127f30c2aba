"""A real operator's variety in the generator: field staff, data lines, messaging-app users, tiny groups,
the national calendar, churn and activations, noisy surveys; and the edge settings (no churn, no ports,
no off-net people, one group)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from groupscope.synth.generate import generate
from groupscope.synth.params import TIDY, SynthParams
from groupscope.working_calendar import WorkCalendar


def _con(landing, truth, month="2026-10") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    txt = "types={'served_msisdn': 'VARCHAR', 'other_party': 'VARCHAR', 'cell_id': 'VARCHAR'}"
    parts = [f"SELECT * FROM read_parquet('{landing}/cdr/dt=*/*.parquet')"] if list(landing.glob("cdr/dt=*/*.parquet")) else []
    parts += [f"SELECT * FROM read_csv('{f}', header=true, {txt})" for f in sorted(landing.glob("cdr/dt=*/*.csv*"))]
    con.execute("CREATE VIEW cdr AS " + " UNION ALL BY NAME ".join(parts))
    m = f"month={month}"
    con.execute(f"CREATE VIEW members AS SELECT * FROM read_csv('{truth}/{m}/members.csv', types={{'msisdn': 'VARCHAR'}})")
    con.execute(f"CREATE VIEW employees AS SELECT * FROM read_csv('{truth}/{m}/employees.csv', types={{'msisdn': 'VARCHAR'}})")
    con.execute(f"CREATE VIEW groups_t AS SELECT * FROM read_csv('{truth}/{m}/groups.csv')")
    for t in ("subscribers", "memberships", "billing", "surveys"):
        files = sorted(landing.glob(f"{t}/month=*/*.csv"))
        types = ", types={'msisdn': 'VARCHAR'}" if t != "surveys" else ""
        if files:
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_csv({[str(f) for f in files]!r}, header=true, union_by_name=true{types})")
    return con


@pytest.fixture(scope="module")
def real(small_operator):
    landing, truth = small_operator
    return _con(landing, truth)


def test_every_kind_of_member_is_in_the_truth(real):
    kinds = dict(real.execute("SELECT member_kind, count(*) FROM members GROUP BY 1").fetchall())
    assert set(kinds) == {"office", "field", "messaging", "data_card", "iot", "fake"}
    assert all(n >= 5 for n in kinds.values()), kinds
    tiny = real.execute("SELECT group_lines, count(DISTINCT group_id) FROM members WHERE tiny_group GROUP BY 1").fetchall()
    assert {g for g, _ in tiny} == {1, 2, 3}
    # some tiny groups hold a fake; every tiny group has a real employee
    assert real.execute("SELECT count(DISTINCT group_id) FROM members WHERE tiny_group AND is_fake").fetchone()[0] >= 2
    assert real.execute(
        "SELECT count(*) FROM (SELECT group_id FROM members WHERE tiny_group GROUP BY 1 "
        "HAVING count(*) FILTER (WHERE member_kind IN ('office', 'field', 'messaging')) = 0)"
    ).fetchone()[0] == 0


def test_the_truths_unregistered_on_net_staff_leave_the_data_lines_out(real):
    """groups.csv's onnet_unregistered is the group's on-net employees who are not registered members: the
    employees' own rows say so (registered_real counts data lines too, which are not employees)."""
    got = real.execute(
        "SELECT g.group_id, g.onnet_unregistered, g.onnet_employees - g.registered_real + g.registered_data_lines, "
        "(SELECT count(*) FROM employees AS e WHERE e.company_id = g.company_id AND e.on_net AND NOT e.registered) "
        "FROM groups_t AS g"
    ).fetchall()
    assert got and all(a == b == c for _, a, b, c in got), [r for r in got if not r[1] == r[2] == r[3]][:5]
    assert real.execute("SELECT count(*) FROM groups_t WHERE registered_data_lines > 0").fetchone()[0] > 0


def test_data_lines_have_no_cdr_and_a_data_bill_every_month(real):
    n_dl, in_cdr = real.execute(
        "SELECT count(DISTINCT m.msisdn), count(c.served_msisdn) FROM members AS m LEFT JOIN cdr AS c "
        "ON c.served_msisdn = m.msisdn WHERE m.member_kind IN ('data_card', 'iot')"
    ).fetchone()
    assert n_dl >= 10 and in_cdr == 0
    assert real.execute(
        "SELECT count(*) FROM cdr WHERE right(other_party, 11) IN "
        "(SELECT msisdn FROM members WHERE member_kind IN ('data_card', 'iot'))"
    ).fetchone()[0] == 0
    bills = real.execute(
        "SELECT b.bill_month, b.voice_fee, b.data_fee, b.sms_fee FROM billing AS b JOIN members AS m USING (msisdn) "
        "JOIN subscribers AS s ON s.msisdn = b.msisdn AND strftime(s.activated_at, '%Y-%m') < b.bill_month "
        "WHERE m.member_kind IN ('data_card', 'iot') AND s.status = 'active'"
    ).fetchall()
    assert {r[0] for r in bills} == {"2026-09", "2026-10"}
    assert all(r[1] == 0 and r[2] > 0 and r[3] == 0 for r in bills)
    # a dormant fake has no CDR of its own beyond billing notices, but a bill with voice (its plan)
    assert real.execute(
        "SELECT count(*) FROM billing AS b JOIN members AS m USING (msisdn) WHERE m.fake_kind = 'dormant' AND b.voice_fee > 0"
    ).fetchone()[0] > 0


def _work_cells(con, style: str) -> tuple[float, float]:
    """(mean share of a person's top cell in working time, median working-time records) of on-net staff."""
    return con.execute(
        f"""WITH w AS (
            SELECT c.served_msisdn AS msisdn, c.cell_id, count(*) AS n FROM cdr AS c
            JOIN employees AS e ON e.msisdn = c.served_msisdn
            WHERE e.work_style = '{style}' AND hour(c.start_time) BETWEEN 9 AND 17 AND c.cell_id IS NOT NULL
              AND CAST(c.start_time AS DATE) IN (SELECT * FROM workdays)
            GROUP BY ALL),
        t AS (SELECT msisdn, max(n) * 1.0 / sum(n) AS top, sum(n) AS n FROM w GROUP BY 1 HAVING sum(n) >= 10)
        SELECT avg(top), median(n) FROM t"""
    ).fetchone()


def _register_workdays(con, months=("2026-09", "2026-10")):
    cal = WorkCalendar()
    days = [date(int(m[:4]), int(m[5:]), d) for m in months for d in range(1, 32) if _valid(m, d)]
    con.execute("CREATE OR REPLACE TEMP TABLE workdays (d DATE)")
    con.executemany("INSERT INTO workdays VALUES (?)", [[d] for d in days if cal.is_workday(d)])


def _valid(m: str, d: int) -> bool:
    try:
        date(int(m[:4]), int(m[5:]), d)
        return True
    except ValueError:
        return False


def test_field_staff_have_no_office_cell_and_messaging_staff_do(real):
    _register_workdays(real)
    office_top, _ = _work_cells(real, "office")
    field_top, field_n = _work_cells(real, "field")
    msg_top, _ = _work_cells(real, "messaging")
    assert field_n >= 10
    assert field_top < 0.35 < 0.6 < office_top, (field_top, office_top)
    assert msg_top > 0.6, msg_top


def _colleague_records(con, style: str) -> tuple[float, float]:
    """Per on-net employee of a style: (mean, 90th percentile) of October records with a colleague."""
    return con.execute(
        f"""WITH x AS (
            SELECT e.msisdn, count(c.served_msisdn) AS n FROM employees AS e
            LEFT JOIN cdr AS c ON c.served_msisdn = e.msisdn AND c.start_time >= TIMESTAMP '2026-10-01'
             AND right(c.other_party, 11) IN (SELECT msisdn FROM employees AS e2 WHERE e2.company_id = e.company_id)
            WHERE e.on_net AND e.work_style = '{style}' GROUP BY 1)
        SELECT avg(n), quantile_cont(n, 0.9) FROM x"""
    ).fetchone()


def test_messaging_staff_rarely_phone_colleagues_field_staff_call_fewer(real):
    office, _ = _colleague_records(real, "office")
    field, _ = _colleague_records(real, "field")
    msg_mean, msg_p90 = _colleague_records(real, "messaging")
    # about one call a month with a colleague (family ties between colleagues aside)
    assert msg_mean < 3 and msg_p90 <= 6, (msg_mean, msg_p90)
    assert field < office and office > 10 * msg_mean


def test_national_day_and_make_up_saturday_shape_activity(real):
    """1-7 October 2026 are rest days, Saturday 10 October a working day (State Council notice)."""
    rows = dict(real.execute(
        """SELECT CAST(start_time AS DATE) AS d,
                  count(*) FILTER (WHERE hour(start_time) BETWEEN 9 AND 17) * 1.0 / count(*) FROM cdr
           WHERE record_type IN ('MOC', 'MTC') GROUP BY 1"""
    ).fetchall())
    holiday_wed = rows[date(2026, 10, 7)]
    makeup_sat = rows[date(2026, 10, 10)]
    plain_wed = rows[date(2026, 10, 14)]
    plain_sat = rows[date(2026, 10, 17)]
    assert holiday_wed < plain_wed - 0.1
    assert makeup_sat > plain_sat + 0.1
    assert abs(makeup_sat - plain_wed) < 0.08


def test_closed_members_leave_their_groups(real):
    rows = real.execute(
        """SELECT s.msisdn, s.closed_at, m.left_at FROM subscribers AS s
           JOIN memberships AS m ON m.msisdn = s.msisdn AND strftime(s.closed_at, '%Y-%m') = '2026-10'
           WHERE s.status = 'closed' AND m.msisdn IN (SELECT msisdn FROM memberships WHERE left_at IS NULL OR left_at >= DATE '2026-10-01')"""
    ).fetchall()
    assert rows, "some members closed their lines in October"
    assert all(left is not None and left <= closed for _, closed, left in rows)
    closed_now = {r[0] for r in rows}
    assert not closed_now & {r[0] for r in real.execute("SELECT msisdn FROM members").fetchall()}


def test_surveys_are_rough(real):
    errs = real.execute(
        "SELECT s.surveyed_headcount * 1.0 / t.true_headcount - 1 FROM surveys AS s JOIN groups_t AS t USING (group_id) "
        "WHERE t.true_headcount >= 5"
    ).fetchall()
    assert len(errs) >= 8
    mean_abs = sum(abs(e[0]) for e in errs) / len(errs)
    assert 0.06 < mean_abs < 0.25, mean_abs


def test_edge_settings(tmp_path):
    """No closures, no ports, no off-net people and one group: still a complete landing zone."""
    p = SynthParams(months=("2026-10",), subscribers=400, seed=5, churn=0.0, ports=0.0, offnet_people=0.0,
                    offnet_share=(0.0, 0.0), max_groups=1)
    generate(p, tmp_path / "landing")
    con = _con(tmp_path / "landing", tmp_path / "landing_truth")
    assert con.execute("SELECT count(*) FROM subscribers WHERE status = 'closed'").fetchone()[0] == 0
    assert con.execute("SELECT count(DISTINCT group_id) FROM memberships").fetchone()[0] == 1
    n_ported = con.execute(f"SELECT count(*) FROM read_csv('{tmp_path}/landing/reference/ported_numbers.csv')").fetchone()[0]
    assert n_ported == 0
    subs = {r[0] for r in con.execute("SELECT msisdn FROM subscribers").fetchall()}
    others = con.execute("SELECT DISTINCT right(other_party, 11) FROM cdr WHERE record_type IN ('MOC', 'MTC') "
                         "AND length(right(other_party, 11)) = 11 AND right(other_party, 11) LIKE '1%'").fetchall()
    assert {o[0] for o in others} <= subs  # every mobile number called is a home subscriber


def test_tidy_switches_the_variety_off(tmp_path):
    generate(SynthParams(months=("2026-10",), subscribers=1500, seed=6, **TIDY), tmp_path / "landing")
    con = _con(tmp_path / "landing", tmp_path / "landing_truth")
    kinds = {r[0] for r in con.execute("SELECT DISTINCT member_kind FROM members").fetchall()}
    assert kinds == {"office", "fake"}
    assert con.execute("SELECT min(group_lines) FROM members").fetchone()[0] >= 3
    # Monday-Friday: 1 October (a Thursday) is a working day
    share = con.execute(
        "SELECT count(*) FILTER (WHERE hour(start_time) BETWEEN 9 AND 17) * 1.0 / count(*) FROM cdr "
        "WHERE CAST(start_time AS DATE) = DATE '2026-10-01' AND record_type IN ('MOC', 'MTC')"
    ).fetchone()[0]
    assert share > 0.6


def test_churn_free_months(tmp_path):
    generate(SynthParams(months=("2026-09", "2026-10"), subscribers=800, seed=7, churn_free_months=1.0),
             tmp_path / "landing")
    con = _con(tmp_path / "landing", tmp_path / "landing_truth")
    assert con.execute("SELECT count(*) FROM subscribers WHERE status = 'closed'").fetchone()[0] == 0


def test_cli_variety_flags_reach_the_parameters():
    from groupscope.synth.generate import variety_from_args
    from pipelines.cli import build_parser

    args = build_parser().parse_args(
        ["generate", "--out", "x", "--months", "2026-10", "--tidy", "--field-staff", "0.5", "--data-lines", "0.1,0.3",
         "--holidays", "national", "--max-groups", "2", "--churn", "0"]
    )
    kw = variety_from_args(args)
    assert kw["field_staff"] == 0.5 and kw["data_lines"] == (0.1, 0.3) and kw["holidays"] is True
    assert kw["max_groups"] == 2 and kw["churn"] == 0.0
    assert kw["messaging_share"] == 0.0 and kw["tiny_groups"] == 0.0  # from --tidy
    assert variety_from_args(build_parser().parse_args(["generate", "--out", "x", "--months", "2026-10"])) == {}


def test_drawn_settings_are_valid_reproducible_and_spread():
    from groupscope.synth.params import drawn_settings

    a, b = drawn_settings(12, seed=7), drawn_settings(12, seed=7)
    assert a == b and a != drawn_settings(12, seed=8)
    for st in a:
        SynthParams(months=("2026-10",), **st)  # every draw is a valid operator
    seeds = [st["seed"] for st in a]
    assert len(set(seeds)) == 12 and min(seeds) > 3000
    activity = [st["activity"] for st in a]
    assert min(activity) < 0.8 and max(activity) > 1.2  # spread, not one operator twelve times
