"""`groupscope generate`: a landing zone per CONTRACT.md and a ground-truth folder beside it."""

from __future__ import annotations

import json
import shutil
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from groupscope.console import progress
from groupscope.contract import INPUT_TABLES
from groupscope.synth import numbers as nb
from groupscope.synth.activity import DaySampler
from groupscope.synth.io import write_table
from groupscope.synth.params import TIDY, SynthParams
from groupscope.synth.world import (
    ALL_PLANS,
    DATA_LINE,
    EMPLOYEE,
    FAKE,
    FAKE_KINDS,
    INDUSTRIES,
    LINE_KINDS,
    NEVER,
    WORK_STYLES,
    build_world,
)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力斌宇浩凯健俊帆鹏")
NAME_WORDS = ["华创", "恒信", "金鼎", "新世纪", "宏达", "瑞丰", "东方", "盛世", "天成", "海纳", "博远", "中联", "汇通", "鼎盛", "嘉禾", "星辰"]  # fmt: skip
INDUSTRY_SUFFIX = {
    "government": ["街道办事处", "税务局", "人民政府", "交通局"],
    "education": ["中学", "职业技术学院", "实验小学", "培训学校"],
    "manufacturing": ["电子有限公司", "机械制造有限公司", "塑胶制品厂", "五金有限公司"],
    "finance": ["银行支行", "证券营业部", "保险代理有限公司"],
    "retail": ["商贸有限公司", "连锁超市", "百货有限公司"],
    "healthcare": ["人民医院", "社区卫生服务中心", "医药有限公司"],
    "logistics": ["物流有限公司", "货运代理有限公司"],
    "technology": ["科技有限公司", "信息技术有限公司", "网络科技有限公司"],
    "hospitality": ["大酒店", "餐饮管理有限公司"],
    "construction": ["建筑工程有限公司", "装饰工程有限公司"],
}
CITY_CN = {"guangzhou": "广州", "shenzhen": "深圳", "dongguan": "东莞", "foshan": "佛山", "zhuhai": "珠海"}
INCLUDED_MINUTES = [100, 200, 400, 700, 1000, 1500, 0, 0, 0, 0]  # per plan of ALL_PLANS


@dataclass
class GenerationReport:
    landing: Path
    truth: Path
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    faults: int = 0
    blocking: list[str] = field(default_factory=list)  # checks the file faults fail (blocking by default)
    gbk: list[str] = field(default_factory=list)  # tables written in GBK

    def summary(self) -> str:
        cdr = self.rows.get("cdr", 0)
        rate = cdr / self.seconds if self.seconds else 0.0
        lines = [f"landing: {self.landing}", f"truth:   {self.truth}"]
        lines += [f"  {k:<18}{v:>12,} rows" for k, v in self.rows.items()]
        lines.append(f"generated in {self.seconds:.1f} s ({rate:,.0f} CDR rows/s)")
        if self.faults:
            lines.append(f"injected {self.faults} faults (see {self.truth / 'faults.csv'})")
        if self.blocking:
            lines.append(f"note: its file faults fail {', '.join(self.blocking)}, blocking by default: `groupscope run` "
                         "stops with exit 2 unless the config makes them warnings (docs/faults.example.yaml)")
        if self.gbk:
            lines.append("note: " + ", ".join(self.gbk) + " written in GBK: `groupscope run` needs "
                         + ", ".join(f"sources.encodings.{t}: gbk" for t in self.gbk) + " in the config")
        return "\n".join(lines)


def _part(table: str, month: str) -> str:
    return INPUT_TABLES[table].partition_dir(f"month={month}")


def default_truth_dir(landing: Path) -> Path:
    return landing.parent / f"{landing.name}_truth"


def _d(ordinal: int) -> date:
    return date.fromordinal(int(ordinal))


def _dates(ordinals: np.ndarray) -> pa.Array:
    base = date(1970, 1, 1).toordinal()
    return pa.array(np.asarray(ordinals, dtype=np.int64) - base, pa.int32()).cast(pa.date32())


def _tbl(name: str, data: dict) -> pa.Table:
    """Build a table in contract column order with textual / typed values as given."""
    cols = INPUT_TABLES[name].column_names
    return pa.table({c: data[c] for c in cols})


def _fen_exact(x: np.ndarray) -> pa.Array:
    x = np.asarray(x, dtype=np.int64)
    sign = np.where(x < 0, "-", "")
    a = np.abs(x)
    txt = np.char.add(np.char.add(np.char.add(sign, (a // 100).astype(str)), "."), np.char.zfill((a % 100).astype(str), 2))
    return pa.array(txt.astype(object), pa.string()).cast(pa.decimal128(14, 2))


class Generator:
    def __init__(self, params: SynthParams, landing: Path, truth: Path | None = None):
        self.p = params
        self.landing = Path(landing)
        self.truth = Path(truth) if truth else default_truth_dir(self.landing)
        if self.truth.resolve().is_relative_to(self.landing.resolve()):
            raise ValueError("the truth folder must not be inside LANDING")
        self.report = GenerationReport(self.landing, self.truth)

    def _enc(self, table: str) -> str:
        return "gbk" if table in self.p.gbk_sources else "utf-8"

    def _write(self, name: str, table: pa.Table, rel: str, fmt: str = "csv") -> None:
        write_table(table, self.landing / rel, fmt, self._enc(name))
        self.report.rows[name] = self.report.rows.get(name, 0) + table.num_rows

    def run(self) -> GenerationReport:
        t0 = time.perf_counter()
        for d in (self.landing, self.truth):
            if d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True)
        w = build_world(self.p)
        self.w = w
        self.rng = np.random.default_rng([self.p.seed, 3])
        self._references()
        sampler = DaySampler(w)
        bar = progress(len(w.days), "generate days")
        for mi, month in enumerate(self.p.months):
            self._monthly_snapshots(mi, month)
            mdays = np.flatnonzero(w.month_of_day == mi)
            moc = np.zeros(w.n_persons)
            sms = np.zeros(w.n_persons)
            edge_events = np.zeros(len(w.ea), np.int64)
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending: list[Future] = []
                for day in mdays:
                    res = sampler.sample_day(int(day))
                    for f in pending:
                        f.result()
                    pending = self._write_cdr(int(day), res, sampler, pool)
                    moc += res.moc_seconds
                    sms += res.sms_mo
                    edge_events += res.edge_events
                    bar.advance()
                for f in pending:
                    f.result()
            self._billing(mi, month, moc, sms)
            self._truth(mi, month, edge_events)
        bar.close()
        (self.truth / "params.json").write_text(json.dumps(self.p.as_dict(), indent=2, default=list) + "\n")
        if self.p.faults:
            from groupscope.synth.faults import blocking_checks, inject_faults

            self.report.faults = inject_faults(self.landing, self.truth, self.p)
            self.report.blocking = blocking_checks(self.truth)
        self.report.gbk = sorted(self.p.gbk_sources)
        self.report.seconds = time.perf_counter() - t0
        return self.report

    # ---- reference tables -----------------------------------------------------------------------------
    def _references(self) -> None:
        w = self.w
        rows = nb.number_ranges_rows(self.p.home_carrier)
        self._write(
            "number_ranges",
            _tbl("number_ranges", {k: [r[k] for r in rows] for k in rows[0]}),
            "reference/number_ranges",
        )
        hidx, hcar, hdate = w.hist_ports
        in_period = np.flatnonzero(w.port_day < NEVER)
        start = w.days[0].toordinal()
        msisdn = np.r_[w.number[hidx], w.number[in_period]].astype(object)
        carrier = np.r_[hcar, w.carrier_after[in_period].astype(str)].astype(object)
        at = np.r_[hdate, start + w.port_day[in_period]]
        order = np.argsort(at, kind="stable")
        self._write(
            "ported_numbers",
            _tbl(
                "ported_numbers",
                {
                    "msisdn": pa.array(msisdn[order], pa.string()),
                    "carrier": pa.array(carrier[order], pa.string()),
                    "ported_at": _dates(at[order]),
                },
            ),
            "reference/ported_numbers",
        )

    # ---- monthly snapshots ----------------------------------------------------------------------------
    def _month_bounds(self, mi: int) -> tuple[int, int]:
        mdays = np.flatnonzero(self.w.month_of_day == mi)
        return int(mdays[0]), int(mdays[-1])

    def _subscribers_at(self, mi: int) -> np.ndarray:
        w = self.w
        s, e = self._month_bounds(mi)
        return np.flatnonzero((w.home_from <= e) & (w.home_to > s) & (w.alive_from <= e))

    def _active_regs(self, mi: int, at_end: bool) -> np.ndarray:
        w = self.w
        s, e = self._month_bounds(mi)
        start = w.days[0].toordinal()
        joined_ok = w.reg_joined <= start + e
        if at_end:
            return np.flatnonzero(joined_ok & (w.reg_left > e))
        return np.flatnonzero(joined_ok & (w.reg_left >= s))

    def _monthly_snapshots(self, mi: int, month: str) -> None:
        w, rng = self.w, self.rng
        s, e = self._month_bounds(mi)
        start = w.days[0].toordinal()
        mrng = np.random.default_rng([self.p.seed, 4])  # stable across months: same names every month
        # account managers
        am_region = mrng.integers(0, len(nb.REGIONS), w.n_managers)
        am_names = [SURNAMES[mrng.integers(len(SURNAMES))] + "".join(mrng.choice(GIVEN, mrng.integers(1, 3))) for _ in range(w.n_managers)]  # noqa: E501
        self._write(
            "account_managers",
            _tbl(
                "account_managers",
                {
                    "account_manager_id": [f"AM{k:04d}" for k in range(w.n_managers)],
                    "name": am_names,
                    "region": [nb.REGIONS[r][0] for r in am_region],
                    "branch": [f"{nb.REGIONS[r][0]}-{1 + k % 3}" for k, r in enumerate(am_region)],
                },
            ),
            f"{_part('account_managers', month)}/managers",
        )
        # groups
        n_g = len(w.group_company)
        names = []
        for g in range(n_g):
            c = w.group_company[g]
            ind = INDUSTRIES[w.comp_industry[c]][0]
            city = CITY_CN[nb.REGIONS[w.comp_region[c]][0]]
            word = NAME_WORDS[mrng.integers(len(NAME_WORDS))]
            suffix = INDUSTRY_SUFFIX[ind][mrng.integers(len(INDUSTRY_SUFFIX[ind]))]
            u = mrng.random()
            if u < 0.05:
                name = f'{city}"{word}"{suffix}'
            elif u < 0.10:
                name = f"{city}{word}{suffix},{CITY_CN[nb.REGIONS[mrng.integers(len(nb.REGIONS))][0]]}分部"
            elif u < 0.12:
                name = f'{word} Holdings, Ltd. ("{city}")'
            else:
                name = f"{city}市{word}{suffix}"
            names.append(name)
        self._write(
            "groups",
            _tbl(
                "groups",
                {
                    "group_id": [f"G{g:06d}" for g in range(n_g)],
                    "group_name": names,
                    "industry": [INDUSTRIES[w.comp_industry[c]][0] for c in w.group_company],
                    "region": [nb.REGIONS[w.comp_region[c]][0] for c in w.group_company],
                    "account_manager_id": [f"AM{k:04d}" for k in w.group_manager],
                    "registered_at": _dates(w.group_registered_at),
                    "status": pa.array(w.group_status.tolist(), pa.string()),
                },
            ),
            f"{_part('groups', month)}/groups",
        )
        # subscribers
        subs = self._subscribers_at(mi)
        status = np.full(len(subs), "active", dtype=object)
        status[w.suspended_from[subs] <= e] = "suspended"
        closed = w.closed_day[subs] <= e
        status[closed] = "closed"
        closed_at = np.where(closed, start + w.closed_day[subs], 0)
        sub_tbl = _tbl(
            "subscribers",
            {
                "subscriber_id": [f"S{x:08d}" for x in subs],
                "msisdn": pa.array(w.number[subs], pa.string()),
                "status": pa.array(status, pa.string()),
                "activated_at": _dates(w.activated_at[subs]),
                "closed_at": pa.array(
                    [_d(o) if o else None for o in closed_at], pa.date32()
                ),
                "plan_code": [ALL_PLANS[k][0] for k in w.plan[subs]],
                "region": [nb.REGIONS[r][0] for r in w.region[subs]],
            },
        )
        half = sub_tbl.num_rows // 2
        self._write("subscribers", sub_tbl.slice(0, half), f"{_part('subscribers', month)}/part-0")
        self._write("subscribers", sub_tbl.slice(half), f"{_part('subscribers', month)}/part-1")
        # memberships (current members and those who left during the month)
        regs = self._active_regs(mi, at_end=False)
        left = w.reg_left[regs]
        self._write(
            "memberships",
            _tbl(
                "memberships",
                {
                    "group_id": [f"G{g:06d}" for g in w.reg_group[regs]],
                    "msisdn": pa.array(w.number[w.reg_person[regs]], pa.string()),
                    "joined_at": _dates(w.reg_joined[regs]),
                    "left_at": pa.array([_d(start + x) if x < NEVER else None for x in left], pa.date32()),
                    "member_role": pa.array(w.reg_role[regs].tolist(), pa.string()),
                },
            ),
            f"{_part('memberships', month)}/members",
        )
        # surveys: account managers count some active groups on site each month
        active_g = np.flatnonzero(w.group_status == "active")
        surveyed = active_g[rng.random(len(active_g)) < self.p.survey_share]
        if len(surveyed):
            head = w.comp_headcount[w.group_company[surveyed]]
            err = np.clip(rng.normal(0.0, self.p.survey_error, len(surveyed)), -0.9, 3.0)
            noisy = np.maximum(1, np.rint(head * (1.0 + err))).astype(np.int64)
            self._write(
                "surveys",
                _tbl(
                    "surveys",
                    {
                        "group_id": [f"G{g:06d}" for g in surveyed],
                        "surveyed_headcount": pa.array(noisy, pa.int64()),
                        "surveyed_at": _dates(start + rng.integers(s, e + 1, len(surveyed))),
                    },
                ),
                f"{_part('surveys', month)}/surveys",
            )

    def _employee_counts(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """On-net and off-net employees per company at a day."""
        w = self.w
        emp = np.flatnonzero(w.role == EMPLOYEE)
        home = w.is_home(day)[emp]
        n_c = len(w.comp_headcount)
        return (
            np.bincount(w.company[emp][home], minlength=n_c),
            np.bincount(w.company[emp][~home], minlength=n_c),
        )

    # ---- CDR ------------------------------------------------------------------------------------------
    def _cdr_format(self, day: int) -> str:
        if self.p.cdr_format != "mixed":
            return self.p.cdr_format
        dom = self.w.days[day].day
        return {1: "csv", 2: "csv.gz"}.get(dom, "parquet")

    def _write_cdr(self, day: int, res, sampler: DaySampler, pool: ThreadPoolExecutor) -> list[Future]:
        """Write one day's files in the background (pyarrow releases the GIL while encoding)."""
        d = self.w.days[day]
        fmt = self._cdr_format(day)
        switch = sampler.switch_of(res.served)
        futures = []
        for sw in (1, 2):
            part = res.table.filter(pa.array(switch == sw))
            path = self.landing / INPUT_TABLES["cdr"].partition_dir(f"dt={d.isoformat()}") / f"msc{sw:02d}"
            futures.append(pool.submit(write_table, part, path, fmt, self._enc("cdr")))
            self.report.rows["cdr"] = self.report.rows.get("cdr", 0) + part.num_rows
        return futures

    # ---- billing --------------------------------------------------------------------------------------
    def _billing(self, mi: int, month: str, moc_seconds: np.ndarray, sms_mo: np.ndarray) -> None:
        w, rng = self.w, self.rng
        s, e = self._month_bounds(mi)
        start = w.days[0].toordinal()
        subs = self._subscribers_at(mi)
        n = len(subs)
        ndays = e - s + 1
        # share of the month subscribed (prorated plan fee)
        first = np.maximum(w.home_from[subs], s)
        last = np.minimum(np.minimum(w.home_to[subs], w.closed_day[subs]), e + 1)
        share = np.clip(last - first, 0, ndays) / ndays
        fee = np.array([p[1] for p in ALL_PLANS])[w.plan[subs]] * share
        suspended = w.suspended_from[subs] <= s
        minutes = np.ceil(moc_seconds[subs] / 60.0)
        over = np.maximum(0, minutes - np.array(INCLUDED_MINUTES)[w.plan[subs]])
        voice = np.rint(0.4 * fee + 15 * over).astype(np.int64)
        dormant = w.fake_kind[subs] == 3  # a SIM nobody uses pays its plan and nothing more
        extra_data = np.where((rng.random(n) < 0.3) & ~dormant, rng.lognormal(6.5, 0.8, n), 0)
        data = np.rint(0.6 * fee + extra_data).astype(np.int64)
        smsf = (10 * np.maximum(0, sms_mo[subs] - 50)).astype(np.int64)
        vas = np.where((rng.random(n) < 0.15) & ~dormant, rng.choice([500, 1000, 1500], n), 0)
        # data cards and IoT SIMs: a data-only plan plus the month's usage, nothing else
        dl = w.role[subs] == DATA_LINE
        usage = np.where(w.line_kind[subs] == 1, rng.lognormal(6.0, 1.0, n), rng.lognormal(4.0, 1.0, n)) * share
        voice[dl], smsf[dl], vas[dl] = 0, 0, 0
        data[dl] = np.rint(fee[dl] + usage[dl]).astype(np.int64)
        voice[suspended], data[suspended], smsf[suspended], vas[suspended] = 500, 0, 0, 0
        # group discount for members registered at month end, promotions for a few others
        member = np.zeros(w.n_persons, bool)
        member[w.reg_person[self._active_regs(mi, at_end=True)]] = True
        gross = voice + data + smsf + vas
        disc = np.where(member[subs], np.rint((voice + data) * rng.uniform(0.10, 0.20, n)), 0).astype(np.int64)
        promo = (~member[subs]) & (rng.random(n) < 0.05)
        disc[promo] = np.minimum(1000, gross[promo])
        total = gross - disc
        u = rng.random(n)
        paid = np.where(u < 0.88, total, np.where(u < 0.94, np.rint(total * rng.uniform(0.3, 0.9, n)), 0))
        paid[dl] = total[dl]  # the company pays its data lines
        paid = np.maximum(paid, 0).astype(np.int64)
        nxt = date.fromordinal(start + e) + timedelta(days=1)
        pay_day = rng.integers(0, 20, n)
        pay_sec = rng.integers(8 * 3600, 22 * 3600, n)
        base = np.datetime64(nxt.isoformat(), "s")
        paid_at = base + pay_day.astype("timedelta64[D]") + pay_sec.astype("timedelta64[s]")
        paid_at_arr = pa.array(paid_at, pa.timestamp("s"))
        paid_at_arr = pa.compute.if_else(pa.array(paid > 0), paid_at_arr, pa.scalar(None, pa.timestamp("s")))
        yyyymm = month.replace("-", "")
        table = _tbl(
            "billing",
            {
                "bill_id": [f"B{yyyymm}{x:08d}" for x in subs],
                "msisdn": pa.array(w.number[subs], pa.string()),
                "bill_month": [month] * n,
                "voice_fee": _fen_exact(voice),
                "data_fee": _fen_exact(data),
                "sms_fee": _fen_exact(smsf),
                "vas_fee": _fen_exact(vas),
                "discount": _fen_exact(disc),
                "total_due": _fen_exact(total),
                "paid_amount": _fen_exact(paid),
                "paid_at": paid_at_arr,
            },
        )
        half = n // 2
        self._write("billing", table.slice(0, half), f"{_part('billing', month)}/bills-0")
        self._write("billing", table.slice(half), f"{_part('billing', month)}/bills-1")

    # ---- ground truth ---------------------------------------------------------------------------------
    def _truth(self, mi: int, month: str, edge_events: np.ndarray) -> None:
        w = self.w
        s, e = self._month_bounds(mi)
        out = self.truth / f"month={month}"
        out.mkdir(parents=True, exist_ok=True)
        home_end = w.is_home(e)
        regs = self._active_regs(mi, at_end=True)
        rp, rg = w.reg_person[regs], w.reg_group[regs]
        gid = np.array([f"G{g:06d}" for g in range(len(w.group_company))], dtype=object)
        kinds = np.array([""] + [FAKE_KINDS[k] for k in sorted(FAKE_KINDS)], dtype=object)
        n_g = len(w.group_company)
        lines = np.bincount(rg, minlength=n_g)  # registered lines of each group at month end
        write_table(
            pa.table(
                {
                    "group_id": pa.array(gid[rg], pa.string()),
                    "msisdn": pa.array(w.number[rp], pa.string()),
                    "is_fake": pa.array(w.role[rp] == FAKE),
                    "fake_kind": pa.array(kinds[w.fake_kind[rp]], pa.string()),
                    # office / field / messaging (employees), data_card / iot (data lines), fake
                    "member_kind": pa.array(_member_kinds(w, rp), pa.string()),
                    "group_lines": pa.array(lines[rg]),
                    "tiny_group": pa.array(lines[rg] <= TINY_GROUP_LINES),
                }
            ),
            out / "members",
            "csv",
        )
        # every employee of every company, registered group or not
        emp = np.flatnonzero(w.role == EMPLOYEE)
        group_of_person = np.full(w.n_persons, -1)
        group_of_person[rp] = rg
        comp_g = w.comp_group[w.company[emp]]
        carrier_end = w.carrier[emp].astype(object).copy()
        # ported out, or the line closed and the person went on with a competitor's number
        ported = ((w.port_day[emp] <= e) | (w.closed_day[emp] <= e)) & (w.carrier_after[emp] != "")
        carrier_end[ported] = w.carrier_after[emp][ported]
        write_table(
            pa.table(
                {
                    "company_id": pa.array([f"C{c:06d}" for c in w.company[emp]], pa.string()),
                    "group_id": pa.array([gid[g] if g >= 0 else None for g in comp_g], pa.string()),
                    "msisdn": pa.array(w.number[emp], pa.string()),
                    "carrier": pa.array(carrier_end, pa.string()),
                    "on_net": pa.array(home_end[emp]),
                    "registered": pa.array(group_of_person[emp] >= 0),
                    "department": pa.array(w.dept[emp]),
                    "work_style": pa.array(np.array(list(WORK_STYLES.values()), dtype=object)[w.work_style[emp]], pa.string()),
                }
            ),
            out / "employees",
            "csv",
        )
        # per group: true headcount, carriers, registration
        on_c, off_c = self._employee_counts(e)
        real_reg = np.bincount(rg[w.role[rp] != FAKE], minlength=n_g)  # employees and data lines
        fake_reg = np.bincount(rg[w.role[rp] == FAKE], minlength=n_g)
        data_reg = np.bincount(rg[w.role[rp] == DATA_LINE], minlength=n_g)
        comp = w.group_company
        head = on_c[comp] + off_c[comp]
        write_table(
            pa.table(
                {
                    "group_id": pa.array(gid, pa.string()),
                    "company_id": pa.array([f"C{c:06d}" for c in comp], pa.string()),
                    "status": pa.array(w.group_status.tolist(), pa.string()),
                    "true_headcount": pa.array(head),
                    "onnet_employees": pa.array(on_c[comp]),
                    "offnet_employees": pa.array(off_c[comp]),
                    "registered_real": pa.array(real_reg),
                    "registered_fake": pa.array(fake_reg),
                    "listed_members": pa.array(real_reg + fake_reg),
                    "registered_data_lines": pa.array(data_reg),
                    "tiny": pa.array(lines <= TINY_GROUP_LINES),
                    # on-net employees who are not registered members (data lines are registered, not employees)
                    "onnet_unregistered": pa.array(on_c[comp] - (real_reg - data_reg)),
                    "market_share": pa.array(np.round(on_c[comp] / np.maximum(head, 1), 6)),
                }
            ),
            out / "groups",
            "csv",
        )
        unreg_c = np.flatnonzero(w.comp_group < 0)
        write_table(
            pa.table(
                {
                    "company_id": pa.array([f"C{c:06d}" for c in unreg_c], pa.string()),
                    "headcount": pa.array(on_c[unreg_c] + off_c[unreg_c]),
                    "onnet_employees": pa.array(on_c[unreg_c]),
                    "offnet_employees": pa.array(off_c[unreg_c]),
                    "region": pa.array([nb.REGIONS[r][0] for r in w.comp_region[unreg_c]], pa.string()),
                    "industry": pa.array([INDUSTRIES[i][0] for i in w.comp_industry[unreg_c]], pa.string()),
                }
            ),
            out / "unregistered_companies",
            "csv",
        )
        # unregistered employees of registered groups and how many members they were in contact with
        active = edge_events > 0
        a, b = w.ea[active], w.eb[active]
        pairs = []
        for x, m in ((a, b), (b, a)):
            gm = group_of_person[m]
            gx = np.where(w.role[x] == EMPLOYEE, w.comp_group[w.company[x]], -1)
            ok = (gm >= 0) & (gx == gm) & (group_of_person[x] < 0)
            pairs.append(np.stack([x[ok], m[ok]], axis=1))
        pr = np.unique(np.concatenate(pairs), axis=0) if pairs else np.zeros((0, 2), np.int64)
        contacted = np.bincount(pr[:, 0], minlength=w.n_persons) if len(pr) else np.zeros(w.n_persons, np.int64)
        unreg = emp[(comp_g >= 0) & (group_of_person[emp] < 0)]
        unreg = unreg[w.group_status[w.comp_group[w.company[unreg]]] == "active"]
        write_table(
            pa.table(
                {
                    "group_id": pa.array(gid[w.comp_group[w.company[unreg]]], pa.string()),
                    "msisdn": pa.array(w.number[unreg], pa.string()),
                    "on_net": pa.array(home_end[unreg]),
                    "members_contacted": pa.array(contacted[unreg]),
                }
            ),
            out / "unregistered_employees",
            "csv",
        )


TINY_GROUP_LINES = 3  # a group of at most this many registered lines is a tiny group


def _member_kinds(w, persons: np.ndarray) -> np.ndarray:
    styles = np.array(list(WORK_STYLES.values()), dtype=object)
    lines = np.array([""] + [LINE_KINDS[k] for k in sorted(LINE_KINDS)], dtype=object)
    role = w.role[persons]
    return np.where(
        role == FAKE, "fake", np.where(role == DATA_LINE, lines[w.line_kind[persons]], styles[w.work_style[persons]])
    ).astype(object)


def generate(params: SynthParams, landing: str | Path, truth: str | Path | None = None) -> GenerationReport:
    return Generator(params, Path(landing), Path(truth) if truth else None).run()


def variety_from_args(args) -> dict:
    """SynthParams keywords of the variety flags given on the command line (--tidy first, flags over it)."""
    kw = dict(TIDY) if getattr(args, "tidy", False) else {}
    for name in ("field_staff", "data_lines", "messaging_share", "tiny_groups", "churn", "activations",
                 "churn_free_months", "survey_error", "survey_share", "ports", "offnet_people", "max_groups"):  # fmt: skip
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = tuple(v) if isinstance(v, list | tuple) else v
    if getattr(args, "holidays", None) is not None:
        kw["holidays"] = args.holidays == "national"
    return kw


def main_generate(args) -> int:  # called by the CLI
    months = tuple(m.strip() for m in args.months.split(",") if m.strip())
    params = SynthParams(
        months=months,
        subscribers=args.subscribers,
        seed=args.seed,
        faults=args.faults,
        fault_kinds=tuple(args.fault_kinds.split(",")) if args.fault_kinds else None,
        offnet_share=tuple(args.offnet_share),
        fake_share=tuple(args.fake_share),
        activity=args.activity,
        gbk_sources=tuple(x for x in (args.gbk_sources or "").split(",") if x),
        cdr_format=args.cdr_format,
        **variety_from_args(args),
    )
    report = generate(params, args.out, args.truth)
    print(report.summary(), file=sys.stdout)
    return 0

