"""The population of the synthetic operator: companies, people, their numbers and relationships.

Everything is a numpy array indexed by person, company or relationship, so that a million
subscribers fit in memory and the daily call sampling (activity.py) stays vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from groupscope.period import Period
from groupscope.synth import numbers as nb
from groupscope.synth.params import SynthParams
from groupscope.working_calendar import WorkCalendar

NEVER = np.int32(1 << 30)  # a day index after every generated day

# person roles
OTHER, EMPLOYEE, FAKE, FIXED_LINE, DATA_LINE = 0, 1, 2, 3, 4
# fake kinds
FAKE_KINDS = {1: "relative", 2: "resold", 3: "dormant"}
# kinds of a company's data lines (role DATA_LINE): no calls or SMS, a data charge on every bill
LINE_KINDS = {1: "data_card", 2: "iot"}
# working styles of employees
OFFICE, FIELD, MESSAGING = 0, 1, 2
WORK_STYLES = {OFFICE: "office", FIELD: "field", MESSAGING: "messaging"}
# share of field staff (no office, many cells) by industry, before SynthParams.field_staff
FIELD_SHARE = {
    "government": 0.06, "education": 0.05, "manufacturing": 0.30, "finance": 0.10, "retail": 0.30,
    "healthcare": 0.25, "logistics": 0.60, "technology": 0.08, "hospitality": 0.20, "construction": 0.55,
}  # fmt: skip
# share of registered groups whose company pays for no data line at all
DATA_LINE_FREE_GROUPS = 0.40
# a company with at most this many staff is a small business (a tiny group when it registers 1-3 lines)
SMALL_BUSINESS = 8
# relationship kinds: (name, monthly rate mean, work-like?, sms probability, duration median s)
KINDS = [
    ("department", 5.0, True, 0.12, 70.0),
    ("company", 1.5, True, 0.10, 60.0),
    ("switchboard", 2.0, True, 0.0, 50.0),
    ("business", 1.2, True, 0.08, 55.0),
    ("family", 12.0, False, 0.25, 140.0),
    ("friend", 3.0, False, 0.30, 110.0),
    ("key_person", 1.0, True, 0.10, 60.0),
    ("supervisor", 6.0, True, 0.15, 80.0),  # a field worker and the office colleague who directs them
    ("dispatch", 3.0, True, 0.10, 60.0),  # a field worker and the group's key person
]
COLLEAGUE_KINDS = ("department", "company", "switchboard", "key_person", "supervisor", "dispatch")
KIND = {k[0]: i for i, k in enumerate(KINDS)}

INDUSTRIES = [
    ("government", 0.08), ("education", 0.12), ("manufacturing", 0.22), ("finance", 0.07),
    ("retail", 0.16), ("healthcare", 0.07), ("logistics", 0.08), ("technology", 0.10),
    ("hospitality", 0.05), ("construction", 0.05),
]  # fmt: skip

PLANS = [("P18", 1800), ("P38", 3800), ("P58", 5800), ("P88", 8800), ("P128", 12800), ("P188", 18800)]
# data-only plans of data cards (first two) and IoT SIMs (last two), after the voice plans
DATA_PLANS = [("D30", 3000), ("D50", 5000), ("IOT5", 500), ("IOT10", 1000)]
ALL_PLANS = PLANS + DATA_PLANS


def calendar_of(p: SynthParams) -> WorkCalendar:
    """The generated operator's working calendar: the national one (holidays and make-up working days)
    or, with holidays off, Monday-Friday."""
    return WorkCalendar(national="chinese-calendar" if p.holidays else "none")


@dataclass
class World:
    params: SynthParams
    days: list[date]
    month_of_day: np.ndarray  # month index of each day
    month_end: list[int]  # day index of each month's last day
    workday: np.ndarray  # bool per day: a working day of the calendar
    holiday: np.ndarray  # bool per day: a public holiday (a rest day that is not a plain weekend day)
    # persons
    number: np.ndarray  # str, national number
    role: np.ndarray
    carrier: np.ndarray  # carrier code at the start (by prefix or historical port)
    carrier_after: np.ndarray  # carrier after an in-period port ('' if none)
    port_day: np.ndarray  # day index of an in-period port, NEVER if none
    home_from: np.ndarray
    home_to: np.ndarray
    alive_from: np.ndarray
    alive_to: np.ndarray
    suspended_from: np.ndarray
    closed_day: np.ndarray  # home subscription closed (churn or port-out)
    activated_at: np.ndarray  # date ordinal
    plan: np.ndarray
    region: np.ndarray
    company: np.ndarray
    dept: np.ndarray
    home_cell: np.ndarray
    office_cell: np.ndarray  # -1 none
    activity: np.ndarray
    fake_kind: np.ndarray
    fake_of: np.ndarray  # for a relative: the employee it belongs to
    line_kind: np.ndarray  # for a data line: LINE_KINDS key, else 0
    work_style: np.ndarray  # for an employee: OFFICE / FIELD / MESSAGING
    # registrations (one row per registration period)
    reg_person: np.ndarray
    reg_group: np.ndarray
    reg_joined: np.ndarray  # date ordinal
    reg_left: np.ndarray  # day index (NEVER if still a member)
    reg_role: np.ndarray
    # companies
    comp_headcount: np.ndarray
    comp_group: np.ndarray  # group index or -1
    comp_region: np.ndarray
    comp_industry: np.ndarray
    # groups
    group_company: np.ndarray
    group_status: np.ndarray  # 'active' / 'closed'
    group_registered_at: np.ndarray
    group_manager: np.ndarray
    n_managers: int
    # historical ports (before the period): person index, new carrier, date ordinal
    hist_ports: tuple[np.ndarray, np.ndarray, np.ndarray]
    # relationships
    ea: np.ndarray
    eb: np.ndarray
    erate: np.ndarray
    ekind: np.ndarray
    # cells: names indexed by cell id
    cell_names: list[str]
    region_cells: list[np.ndarray]
    region_all_cells: list[np.ndarray]  # residential and business cells of a region (field staff's area)

    @property
    def n_persons(self) -> int:
        return len(self.number)

    def is_home(self, day: int) -> np.ndarray:
        return (self.home_from <= day) & (day < self.home_to)


def _discrete_pareto(rng: np.random.Generator, n: int, xmin: int, alpha: float, cap: int) -> np.ndarray:
    u = rng.random(n)
    return np.minimum(np.floor(xmin / u ** (1.0 / alpha)).astype(np.int64), cap)


def _pairs_within(rng, members: np.ndarray, k_mean: float, complete_upto: int) -> tuple[np.ndarray, np.ndarray]:
    """Random undirected pairs inside one set: complete for small sets, ~k_mean per member otherwise."""
    s = len(members)
    if s < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if s <= complete_upto:
        i, j = np.triu_indices(s, 1)
        return members[i], members[j]
    k = np.minimum(s - 1, 1 + rng.poisson(k_mean, s))
    src = np.repeat(np.arange(s), k)
    off = rng.integers(1, s, len(src))
    dst = (src + off) % s
    return members[src], members[dst]


def build_world(p: SynthParams) -> World:
    rng = np.random.default_rng([p.seed, 1])
    days = [d for m in p.months for d in Period.parse(m).days()]
    month_of_day = np.concatenate([np.full(len(Period.parse(m).days()), i) for i, m in enumerate(p.months)])
    month_end = [int(np.flatnonzero(month_of_day == i)[-1]) for i in range(len(p.months))]
    start = days[0]
    cal = calendar_of(p)
    workday = np.array([cal.is_workday(d) for d in days], bool)
    holiday = np.array([not w and d in cal.days_of(d.year)[0] for d, w in zip(days, workday)], bool)

    n_home = p.subscribers
    target_onnet = int(p.employed_share * n_home)

    # ---- companies -------------------------------------------------------------------------------
    k = max(50, target_onnet // 4)
    hc = _discrete_pareto(rng, k, 3, 1.1, cap=min(3200, max(6, target_onnet // 3)))
    off_share = rng.uniform(*p.offnet_share, size=k)
    onnet = rng.binomial(hc, 1 - off_share)
    cut = int(np.searchsorted(np.cumsum(onnet), target_onnet)) + 1
    hc, off_share, onnet = hc[:cut], off_share[:cut], onnet[:cut]
    n_comp = len(hc)
    offnet = hc - onnet
    comp_region = rng.choice(len(nb.REGIONS), size=n_comp, p=nb.REGION_WEIGHTS)
    ind_names = [i[0] for i in INDUSTRIES]
    comp_industry = rng.choice(len(ind_names), size=n_comp, p=[i[1] for i in INDUSTRIES])
    # registered groups: most companies with at least 3 on-net employees, and (tiny groups) small
    # businesses that register 1-3 lines
    tiny = (hc <= SMALL_BUSINESS) & (onnet >= 1) & (rng.random(n_comp) < p.tiny_groups)
    registered = tiny | ((onnet >= 3) & (rng.random(n_comp) < 0.85))
    if p.max_groups is not None and registered.sum() > p.max_groups:
        registered[rng.permutation(np.flatnonzero(registered))[p.max_groups :]] = False
    tiny &= registered
    reg_rate = rng.uniform(*p.registration_rate, size=n_comp)
    fake_share = rng.uniform(*p.fake_share, size=n_comp)
    reg_real = np.where(registered, np.clip(rng.binomial(onnet, reg_rate), 3, None), 0)
    reg_real = np.minimum(reg_real, onnet)
    # fakes per real member: binomial with q = share / (1 - share) while q <= 1, Poisson beyond (a share >= 0.5)
    q = fake_share / (1 - fake_share)
    n_fakes = np.where(registered, rng.binomial(reg_real, np.minimum(q, 1.0)), 0)
    if (registered & (q > 1)).any():
        n_fakes = np.where(registered & (q > 1), rng.poisson(reg_real * q), n_fakes)
    over = reg_real + n_fakes - 2000
    reg_real = np.where(over > 0, reg_real - over, reg_real)
    # data cards and IoT SIMs of the company, registered in its group
    data_share = np.where(rng.random(n_comp) < DATA_LINE_FREE_GROUPS, 0.0, rng.uniform(*p.data_lines, size=n_comp))
    n_data = np.where(registered, rng.binomial(reg_real, data_share), 0)
    # tiny groups: 1-3 lines in all, at least one a real employee; some hold a fake or a data line
    lines = np.minimum(rng.integers(1, 4, n_comp), onnet + 1)
    t_fake = (lines >= 2) & (rng.random(n_comp) < 0.30)
    t_data = (lines - t_fake >= 2) & (rng.random(n_comp) < 0.25) & (p.data_lines[1] > 0)
    reg_real = np.where(tiny, np.minimum(lines - t_fake - t_data, onnet), reg_real)
    n_fakes = np.where(tiny, t_fake.astype(np.int64), n_fakes)
    n_data = np.where(tiny, t_data.astype(np.int64), n_data)
    comp_group = np.full(n_comp, -1)
    comp_group[registered] = np.arange(int(registered.sum()))
    group_company = np.flatnonzero(registered)
    n_groups = len(group_company)

    # ---- persons: employees, fakes, other home, other off-net ------------------------------------
    emp_company = np.repeat(np.arange(n_comp), hc)
    emp_onnet = np.concatenate([rng.permutation(np.r_[np.ones(a, bool), np.zeros(b, bool)]) for a, b in zip(onnet, offnet)]) if n_comp else np.zeros(0, bool)  # fmt: skip
    n_emp = len(emp_company)
    n_fake = int(n_fakes.sum())
    n_dl = int(n_data.sum())
    n_other_home = n_home - int(onnet.sum()) - n_fake - n_dl
    if n_other_home < 0:
        raise ValueError("subscriber count too small for the company model")
    n_other_off = int(p.offnet_people * n_home)

    n_mobile = n_emp + n_fake + n_dl + n_other_home + n_other_off
    role = np.zeros(n_mobile, np.int8)
    role[:n_emp] = EMPLOYEE
    role[n_emp : n_emp + n_fake] = FAKE
    dl_ids = np.arange(n_emp + n_fake, n_emp + n_fake + n_dl)
    role[dl_ids] = DATA_LINE
    home = np.zeros(n_mobile, bool)
    home[:n_emp] = emp_onnet
    home[n_emp : n_emp + n_fake + n_dl + n_other_home] = True
    company = np.full(n_mobile, -1, np.int64)
    company[:n_emp] = emp_company
    dl_company = np.repeat(np.arange(n_comp), n_data)
    company[dl_ids] = dl_company
    line_kind = np.zeros(n_mobile, np.int8)
    line_kind[dl_ids] = rng.choice([1, 2], size=n_dl, p=[0.5, 0.5])
    region = np.empty(n_mobile, np.int64)
    region[:n_emp] = comp_region[emp_company]
    region[n_emp:] = rng.choice(len(nb.REGIONS), size=n_mobile - n_emp, p=nb.REGION_WEIGHTS)
    region[dl_ids] = comp_region[dl_company]
    # working styles: field staff by industry, messaging-app users among office staff
    work_style = np.zeros(n_mobile, np.int8)
    field_p = np.array([FIELD_SHARE[name] for name, _ in INDUSTRIES])[comp_industry[emp_company]] * p.field_staff
    work_style[:n_emp][rng.random(n_emp) < np.minimum(field_p, 0.9)] = FIELD
    msg = (work_style[:n_emp] == OFFICE) & (rng.random(n_emp) < p.messaging_share)
    work_style[:n_emp][msg] = MESSAGING

    # departments and office cells
    dept = np.full(n_mobile, -1, np.int64)
    office_site = np.full(n_mobile, -1, np.int64)
    next_dept = 0
    comp_first = np.r_[0, np.cumsum(hc)[:-1]]
    n_sites_c = 1 + hc // 400
    site_first = np.r_[0, np.cumsum(n_sites_c)[:-1]]
    for c in range(n_comp):
        size = int(hc[c])
        members = comp_first[c] + rng.permutation(size)
        if size <= 25:
            sizes = [size]
        else:
            sizes = []
            left = size
            while left > 0:
                s = int(min(left, rng.integers(6, 41)))
                sizes.append(s)
                left -= s
        pos = 0
        for di, s in enumerate(sizes):
            dept[members[pos : pos + s]] = next_dept + di
            office_site[members[pos : pos + s]] = site_first[c] + di % n_sites_c[c]
            pos += s
        next_dept += len(sizes)
    site_region = np.repeat(comp_region, n_sites_c)

    # cells: residential cells and business-district cells per region
    cell_names: list[str] = []
    region_cells: list[np.ndarray] = []
    business_cells: list[np.ndarray] = []
    for r, (_name, _code) in enumerate(nb.REGIONS):
        n_res = max(20, int((region == r).sum() / 250))
        n_biz = max(8, int((site_region == r).sum() / 3))
        lac = 4100 + r * 10
        first = len(cell_names)
        cell_names += [f"460-00-{lac + i % 10}-{10000 + i}" for i in range(n_res + n_biz)]
        region_cells.append(np.arange(first, first + n_res))
        business_cells.append(np.arange(first + n_res, first + n_res + n_biz))
    site_cell = np.array([rng.choice(business_cells[r]) for r in site_region], dtype=np.int64)
    office_cell = np.where(office_site >= 0, site_cell[np.maximum(office_site, 0)], -1)
    office_cell[work_style == FIELD] = -1  # field staff have no office cell at all
    region_all_cells = [np.r_[a, b] for a, b in zip(region_cells, business_cells)]
    home_cell = np.array([0] * n_mobile, dtype=np.int64)
    for r in range(len(nb.REGIONS)):
        idx = np.flatnonzero(region == r)
        home_cell[idx] = rng.choice(region_cells[r], size=len(idx))

    # fakes: kind, group; relatives get an employee
    fake_ids = np.arange(n_emp, n_emp + n_fake)
    fake_group_of = np.repeat(np.arange(n_comp), n_fakes)  # company index
    fake_kind = np.zeros(n_mobile, np.int8)
    fake_kind[fake_ids] = rng.choice([1, 2, 3], size=n_fake, p=[0.40, 0.35, 0.25])
    company_fake = np.full(n_mobile, -1, np.int64)
    company_fake[fake_ids] = fake_group_of

    # activity
    activity = rng.lognormal(0.0, 0.6, n_mobile).astype(np.float64)
    quiet = (role == EMPLOYEE) & (rng.random(n_mobile) < 0.10)
    activity[quiet] *= 0.2
    activity[fake_kind == 3] = 0.0
    activity[role == DATA_LINE] = 0.0  # no calls, no SMS

    # registrations at the start: reg_real on-net employees per registered company + all fakes
    reg_person_l, reg_group_l, reg_role_l = [], [], []
    emp_idx_by_comp = np.split(np.arange(n_emp), np.cumsum(hc)[:-1]) if n_comp else []
    unregistered_onnet: list[np.ndarray] = []
    for c in np.flatnonzero(registered):
        on_emp = emp_idx_by_comp[c][emp_onnet[emp_idx_by_comp[c]]]
        chosen = rng.permutation(on_emp)
        regs = chosen[: reg_real[c]]
        unregistered_onnet.append(chosen[reg_real[c] :])
        fakes_c = fake_ids[fake_group_of == c]
        people = np.r_[regs, fakes_c, dl_ids[dl_company == c]]
        roles = np.full(len(people), "member", dtype=object)
        n_key = 1 if len(regs) < 50 else 2
        roles[:n_key] = "key_person"
        if len(regs) > n_key:
            roles[n_key] = "admin"
        reg_person_l.append(people)
        reg_group_l.append(np.full(len(people), comp_group[c]))
        reg_role_l.append(roles)
    reg_person = np.concatenate(reg_person_l) if reg_person_l else np.zeros(0, np.int64)
    reg_group = np.concatenate(reg_group_l) if reg_group_l else np.zeros(0, np.int64)
    reg_role = np.concatenate(reg_role_l) if reg_role_l else np.zeros(0, object)
    start_ord = start.toordinal()
    reg_joined = start_ord - rng.integers(30, 2500, len(reg_person))
    reg_left = np.full(len(reg_person), NEVER, np.int64)
    key_p = reg_person[reg_role == "key_person"]
    work_style[key_p[work_style[key_p] == MESSAGING]] = OFFICE  # a group's contact person phones

    # relatives belong to one registered real member of their group
    fake_of = np.full(n_mobile, -1, np.int64)
    reg_real_by_group = {}
    for pers, g in zip(reg_person, reg_group):
        if role[pers] == EMPLOYEE:
            reg_real_by_group.setdefault(int(g), []).append(int(pers))
    for f in fake_ids[fake_kind[fake_ids] == 1]:
        fake_of[f] = rng.choice(reg_real_by_group[int(comp_group[company_fake[f]])])
        region[f] = region[fake_of[f]]
        home_cell[f] = home_cell[fake_of[f]]  # lives with them

    # ---- numbers and carriers ----------------------------------------------------------------------
    offnet_codes = np.array(list(nb.OFFNET_WEIGHTS))
    carrier = np.empty(n_mobile, dtype=object)
    carrier[home] = p.home_carrier
    carrier[~home] = rng.choice(offnet_codes, size=int((~home).sum()), p=list(nb.OFFNET_WEIGHTS.values()))
    # historical ports: the number's prefix is of another carrier than the one it is on now
    ported = rng.random(n_mobile) < 0.03 * p.ports
    prefix_carrier = carrier.copy()
    ph = ported & home
    prefix_carrier[ph] = rng.choice(["CUCC", "CTCC"], size=int(ph.sum()))
    po = ported & ~home & np.isin(carrier, ["CUCC", "CTCC", "CBN"])
    prefix_carrier[po] = p.home_carrier
    ported = ph | po
    mobile_numbers = nb.allocate_mobile(rng, prefix_carrier.astype(str))
    hist_idx = np.flatnonzero(ported)
    hist_ports = (
        hist_idx,
        carrier[hist_idx].astype(str),
        start_ord - rng.integers(60, 6 * 365, len(hist_idx)),
    )

    # fixed lines: company switchboards and household landlines
    n_sw = int((hc >= 15).sum())
    sw_company = np.flatnonzero(hc >= 15)

    # ---- time windows: in-period ports, churn, activations, suspensions ---------------------------
    n_persons = n_mobile + n_sw  # landlines are added below with the households
    home_from = np.where(home, 0, NEVER).astype(np.int64)
    home_to = np.full(n_mobile, NEVER, np.int64)
    alive_from = np.zeros(n_mobile, np.int64)
    alive_to = np.full(n_mobile, NEVER, np.int64)
    suspended_from = np.full(n_mobile, NEVER, np.int64)
    closed_day = np.full(n_mobile, NEVER, np.int64)
    port_day = np.full(n_mobile, NEVER, np.int64)
    carrier_after = np.full(n_mobile, "", dtype=object)
    other_home = np.arange(n_emp + n_fake, n_emp + n_fake + n_other_home)
    offnet_emp = np.flatnonzero((role == EMPLOYEE) & ~home & ~ported)
    free = np.ones(n_mobile, bool)

    def pick(pool: np.ndarray, share: float) -> np.ndarray:
        pool = pool[free[pool]]
        n = rng.binomial(len(pool), share)
        out = rng.choice(pool, size=n, replace=False) if n else np.zeros(0, np.int64)
        free[out] = False
        return out

    # every home line can close: other subscribers, employees, fakes and data lines (a member who closes
    # leaves the group); an employee whose line closes goes on with a competitor's number we never see
    home_lines = np.flatnonzero(home)
    churn_free = rng.random(len(p.months)) < p.churn_free_months
    new_staff = np.zeros(n_mobile, bool)
    for mi in range(len(p.months)):
        mdays = np.flatnonzero(month_of_day == mi)
        # off-net employees porting in: they become unregistered home employees
        pin = pick(offnet_emp, min(1.0, 0.01 * p.ports))
        d = rng.choice(mdays, size=len(pin))
        home_from[pin], port_day[pin], carrier_after[pin] = d, d, p.home_carrier
        if not churn_free[mi]:
            out_share = p.churn * min(1.0, 0.5 * p.ports)
            # home subscribers porting out and closing
            pout = pick(home_lines[role[home_lines] != DATA_LINE], out_share)
            d = rng.choice(mdays, size=len(pout))
            home_to[pout], port_day[pout], closed_day[pout] = d, d, d
            carrier_after[pout] = rng.choice(["CUCC", "CTCC"], size=len(pout))
            churn = pick(home_lines, p.churn - out_share)
            d = rng.choice(mdays, size=len(churn))
            home_to[churn], alive_to[churn], closed_day[churn] = d, d, d
            moved = churn[role[churn] == EMPLOYEE]
            carrier_after[moved] = rng.choice(["CUCC", "CTCC"], size=len(moved))
        # new lines: other subscribers, and (about a third) new staff who join their group on that day
        new = pick(other_home, 0.7 * p.activations * n_home / max(1, len(other_home)))
        d = rng.choice(mdays, size=len(new))
        alive_from[new], home_from[new] = d, d
        staff_pool = np.concatenate(unregistered_onnet) if unregistered_onnet else np.zeros(0, np.int64)
        staff = pick(staff_pool, min(1.0, 0.3 * p.activations * n_home / max(1, len(staff_pool))))
        d = rng.choice(mdays, size=len(staff))
        alive_from[staff], home_from[staff] = d, d
        new_staff[staff] = True
        susp = pick(other_home, 0.004)
        d = rng.choice(mdays, size=len(susp))
        suspended_from[susp], alive_to[susp] = d, d
    dormant = np.flatnonzero(fake_kind == 3)
    sus_d = dormant[rng.random(len(dormant)) < 0.3]
    suspended_from[sus_d] = -1
    alive_to[sus_d] = 0

    # activation dates and plans of home persons
    tenure_days = np.minimum(rng.geometric(1 / 1100, n_mobile), 9000)
    activated_at = start_ord - tenure_days
    fresh = alive_from > 0
    activated_at[fresh] = start_ord + alive_from[fresh]
    pin_all = (port_day < NEVER) & (home_from > 0)
    activated_at[pin_all] = start_ord + home_from[pin_all]
    plan_w = np.array([0.18, 0.27, 0.22, 0.17, 0.10, 0.06])
    plan = rng.choice(len(PLANS), size=n_mobile, p=plan_w)
    plan[role == EMPLOYEE] = np.minimum(plan[role == EMPLOYEE] + rng.integers(0, 2, int((role == EMPLOYEE).sum())), 5)
    plan[fake_kind == 3] = 0
    # data cards on a data plan, IoT SIMs on an IoT plan (indices into ALL_PLANS)
    plan[line_kind == 1] = len(PLANS) + rng.integers(0, 2, int((line_kind == 1).sum()))
    plan[line_kind == 2] = len(PLANS) + 2 + rng.integers(0, 2, int((line_kind == 2).sum()))

    # ---- relationships -------------------------------------------------------------------------------
    ea_l, eb_l, ek_l = [], [], []

    def add(a, b, kind):
        a = np.asarray(a, np.int64)
        b = np.asarray(b, np.int64)
        keep = a != b
        ea_l.append(a[keep])
        eb_l.append(b[keep])
        ek_l.append(np.full(int(keep.sum()), KIND[kind], np.int8))

    # colleagues
    order = np.argsort(dept[:n_emp], kind="stable")
    dsplit = np.split(order, np.flatnonzero(np.diff(dept[:n_emp][order])) + 1) if n_emp else []
    for members in dsplit:
        a, b = _pairs_within(rng, members, 5.0, complete_upto=8)
        add(a, b, "department")
    for c in range(n_comp):
        members = emp_idx_by_comp[c]
        if len(members) > 25:
            a = np.repeat(members, 1 + rng.poisson(0.8, len(members)))
            add(a, rng.choice(members, len(a)), "company")
    # key persons reach across their company, and call its field staff regularly
    for pers, g, r in zip(reg_person, reg_group, reg_role):
        if r == "key_person":
            members = emp_idx_by_comp[group_company[g]]
            nk = max(1, int(0.15 * len(members)))
            add(np.full(nk, pers), rng.choice(members, nk), "key_person")
            fs = members[work_style[members] == FIELD]
            add(np.full(len(fs), pers), fs, "dispatch")
    # every field worker has a supervisor in the office (of their department when it has office staff)
    for c in range(n_comp):
        members = emp_idx_by_comp[c]
        fs = members[work_style[members] == FIELD]
        office = members[work_style[members] != FIELD]
        if not len(fs) or not len(office):
            continue
        sup = rng.choice(office, len(fs))
        for i, f in enumerate(fs):
            same = office[dept[office] == dept[f]]
            if len(same):
                sup[i] = same[rng.integers(len(same))]
        add(fs, sup, "supervisor")
    # business contacts: a company's clients and suppliers, each reached by a few employees
    mobile_pool = np.arange(n_mobile)
    for c in range(n_comp):
        members = emp_idx_by_comp[c]
        n_ext = 1 + rng.poisson(len(members) / 12)
        ext = rng.choice(mobile_pool, n_ext)
        for x in ext:
            m = min(len(members), 1 + rng.poisson(0.08 * len(members)))
            add(rng.choice(members, m, replace=False), np.full(m, x), "business")
    # switchboards
    sw_ids = np.arange(n_mobile, n_mobile + n_sw)
    for s, c in zip(sw_ids, sw_company):
        members = emp_idx_by_comp[c]
        callers = members[rng.random(len(members)) < 0.5]
        add(callers, np.full(len(callers), s), "switchboard")
    # households: everyone but relatives (who join an employee's household) and dormant SIMs
    hh_pool = np.flatnonzero((fake_kind != 1) & (fake_kind != 3) & (role != DATA_LINE))
    hh_pool = rng.permutation(hh_pool)
    sizes = rng.choice([1, 2, 3, 4, 5], size=len(hh_pool), p=[0.22, 0.30, 0.26, 0.16, 0.06])
    ends = np.cumsum(sizes)
    ends = ends[ends < len(hh_pool)]
    households = np.split(hh_pool, ends)
    household_of = np.full(n_mobile, -1, np.int64)
    hh_size = np.array([len(h) for h in households])
    household_of[hh_pool] = np.repeat(np.arange(len(households)), hh_size)
    for size in range(2, int(hh_size.max(initial=1)) + 1):
        same_size = [h for h, n in zip(households, hh_size) if n == size]
        if same_size:
            mat = np.stack(same_size)
            i, j = np.triu_indices(size, 1)
            add(mat[:, i].ravel(), mat[:, j].ravel(), "family")
    relatives = np.flatnonzero(fake_kind == 1)
    for f in relatives:
        e = fake_of[f]
        add([f], [e], "family")
        add([f], [e], "family")  # the one person a relative calls most
        others = households[household_of[e]]
        others = others[others != e]
        if len(others):
            add(np.full(len(others), f), others, "family")
    # household landlines (10% of households with >= 2 people)
    big = [h for h in households if len(h) >= 2]
    n_ll = int(0.1 * len(big))
    ll_households = rng.choice(len(big), n_ll, replace=False) if n_ll else np.zeros(0, np.int64)
    ll_ids = np.arange(n_mobile + n_sw, n_mobile + n_sw + n_ll)
    for lid, h in zip(ll_ids, ll_households):
        mem = big[h]
        add(mem, np.full(len(mem), lid), "family")
    n_persons = n_mobile + n_sw + n_ll
    # friends: mostly in the same region
    friendly = np.flatnonzero((fake_kind != 3) & (role != DATA_LINE))
    k = 1 + rng.poisson(2.5, len(friendly))
    a = np.repeat(friendly, k)
    same = rng.random(len(a)) < 0.8
    b = rng.choice(friendly, len(a))
    by_region = [friendly[region[friendly] == r] for r in range(len(nb.REGIONS))]
    for r in range(len(nb.REGIONS)):
        sel = same & (region[a] == r)
        if by_region[r].size:
            b[sel] = rng.choice(by_region[r], int(sel.sum()))
    add(a, b, "friend")

    ea = np.concatenate(ea_l)
    eb = np.concatenate(eb_l)
    ekind = np.concatenate(ek_l)

    # extend person arrays to the fixed lines
    def ext(arr, fill):
        return np.concatenate([arr, np.full(n_persons - n_mobile, fill, dtype=arr.dtype)])

    sw_area = np.array([nb.REGIONS[r][1] for r in comp_region[sw_company]], dtype=object)
    ll_area = np.array(
        [nb.REGIONS[region[big[h][0]]][1] for h in ll_households] if n_ll else [], dtype=object
    )
    fixed_numbers = nb.allocate_fixed(rng, np.concatenate([sw_area, ll_area]).astype(str)) if n_persons > n_mobile else np.zeros(0, str)  # fmt: skip
    number = np.concatenate([mobile_numbers.astype(str).astype(object), fixed_numbers.astype(object)])
    role = ext(role, FIXED_LINE)
    carrier = ext(carrier, nb.FIXED_CARRIER)
    home_from = ext(home_from, NEVER)
    activity = ext(activity, 1.0)

    # relationship rates: kind mean x gamma noise x activity of both ends x population activity
    base = np.array([k_[1] for k_ in KINDS])[ekind]
    erate = base * rng.gamma(2.0, 0.5, len(ekind)) * np.sqrt(activity[ea] * activity[eb]) * p.activity
    style = ext(work_style, OFFICE)
    colleague = np.isin(ekind, [KIND[k] for k in COLLEAGUE_KINDS])
    # field staff rarely call their department or the rest of the company
    desk = np.isin(ekind, [KIND["department"], KIND["company"]])
    erate[desk & ((style[ea] == FIELD) | (style[eb] == FIELD))] *= 0.15
    # messaging-app users: all their phone calls with colleagues together come to 0.1-0.8 a month
    msg_p = style == MESSAGING
    if msg_p.any():
        comp = ext(company, -1)
        same_company = (comp[ea] == comp[eb]) & (comp[ea] >= 0)
        touch = (colleague | same_company) & (msg_p[ea] | msg_p[eb])  # friends at work too
        tot = np.bincount(ea[touch], weights=erate[touch], minlength=n_persons)
        tot += np.bincount(eb[touch], weights=erate[touch], minlength=n_persons)
        target = rng.uniform(0.1, 0.8, n_persons)
        f = np.where(msg_p & (tot > 0), np.minimum(1.0, target / np.maximum(tot, 1e-12)), 1.0)
        erate[touch] *= np.minimum(f[ea[touch]], f[eb[touch]])
    # drop relationships never visible to the home carrier (both ends never home)
    visible = (home_from[ea] < NEVER) | (home_from[eb] < NEVER)
    visible &= erate > 0
    ea, eb, ekind, erate = ea[visible], eb[visible], ekind[visible], erate[visible]

    group_status = np.full(n_groups, "active", dtype=object)
    closed_groups = rng.random(n_groups) < 0.02
    group_status[closed_groups] = "closed"
    # a closed group has no current members: its registrations ended before the period
    ended = np.isin(reg_group, np.flatnonzero(closed_groups))
    reg_left[ended] = -1

    # membership changes inside the period: unregistered on-net employees join, dormant fakes leave
    extra_p, extra_g, extra_j = [], [], []
    pool = np.concatenate(unregistered_onnet) if unregistered_onnet else np.zeros(0, np.int64)
    pool = pool[~np.isin(comp_group[company[pool]], np.flatnonzero(closed_groups))]
    # new staff lines join their group on the day they are activated
    ns = pool[new_staff[pool]]
    extra_p.append(ns)
    extra_g.append(comp_group[company[ns]])
    extra_j.append(start_ord + alive_from[ns])
    pool = pool[~new_staff[pool]]
    joined = np.zeros(len(pool), bool)
    for mi in range(1, len(p.months)):
        mdays = np.flatnonzero(month_of_day == mi)
        cand = np.flatnonzero(~joined & (rng.random(len(pool)) < 0.03))
        joined[cand] = True
        extra_p.append(pool[cand])
        extra_g.append(comp_group[company[pool[cand]]])
        extra_j.append(start_ord + rng.choice(mdays, len(cand)))
        dorm_regs = np.flatnonzero((fake_kind[reg_person] == 3) & (reg_left == NEVER))
        leave = dorm_regs[rng.random(len(dorm_regs)) < 0.10]
        reg_left[leave] = rng.choice(mdays, len(leave))
    if extra_p:
        reg_person = np.concatenate([reg_person, *extra_p])
        reg_group = np.concatenate([reg_group, *extra_g])
        reg_joined = np.concatenate([reg_joined, *extra_j])
        reg_left = np.concatenate([reg_left, np.full(sum(len(x) for x in extra_p), NEVER)])
        reg_role = np.concatenate([reg_role, np.full(sum(len(x) for x in extra_p), "member", dtype=object)])
    # a line that closes leaves its group on that day
    closing = closed_day[reg_person]
    reg_left = np.where(closing < reg_left, closing, reg_left)

    n_managers = max(1, int(np.ceil(n_groups / 25)))
    group_manager = rng.integers(0, n_managers, n_groups)
    group_registered_at = start_ord - rng.integers(60, 3000, n_groups)

    return World(
        params=p,
        days=days,
        month_of_day=month_of_day,
        month_end=month_end,
        workday=workday,
        holiday=holiday,
        number=number,
        role=role,
        carrier=carrier,
        carrier_after=ext(carrier_after, ""),
        port_day=ext(port_day, NEVER),
        home_from=home_from,
        home_to=ext(home_to, NEVER),
        alive_from=ext(alive_from, 0),
        alive_to=ext(alive_to, NEVER),
        suspended_from=ext(suspended_from, NEVER),
        closed_day=ext(closed_day, NEVER),
        activated_at=ext(activated_at, 0),
        plan=ext(plan, 0),
        region=ext(region, 0),
        company=np.concatenate([company, np.full(n_sw, -1), np.full(n_ll, -1)]),
        dept=ext(dept, -1),
        home_cell=ext(home_cell, -1),
        office_cell=ext(office_cell, -1),
        activity=activity,
        fake_kind=ext(fake_kind, 0),
        fake_of=ext(fake_of, -1),
        line_kind=ext(line_kind, 0),
        work_style=ext(work_style, OFFICE),
        reg_person=reg_person,
        reg_group=reg_group,
        reg_joined=reg_joined,
        reg_left=reg_left,
        reg_role=reg_role,
        comp_headcount=hc,
        comp_group=comp_group,
        comp_region=comp_region,
        comp_industry=comp_industry,
        group_company=group_company,
        group_status=group_status,
        group_registered_at=group_registered_at,
        group_manager=group_manager,
        n_managers=n_managers,
        hist_ports=hist_ports,
        ea=ea,
        eb=eb,
        erate=erate,
        ekind=ekind,
        cell_names=cell_names,
        region_cells=region_cells,
        region_all_cells=region_all_cells,
    )
