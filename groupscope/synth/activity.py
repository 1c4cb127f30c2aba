"""Daily call and SMS events of the synthetic operator, written as the home carrier's switches would.

One day at a time: the number of events of each relationship is Poisson with a rate that depends on
the kind of relationship and on whether the day is a working day; every event gets a time of day from
its kind's profile, a direction, a duration, and becomes a MOC/SMS_MO record on the caller's side if
the caller is a home subscriber that day and a MTC/SMS_MT record on the callee's side if the callee is.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from groupscope.synth import numbers as nb
from groupscope.synth.world import DATA_LINE, FIELD, KINDS, World

# Hourly profiles (24 weights) of work-like and personal relationships.
_WORK = np.array([0, 0, 0, 0, 0, 0, 0.2, 0.8, 3, 8, 10, 9, 4, 5, 9, 10, 9, 7, 3, 1.2, 0.8, 0.5, 0.2, 0.1])
_PERSONAL = np.array([0.3, 0.1, 0, 0, 0, 0, 0.3, 1.5, 2.5, 2, 2, 2.5, 4, 3, 2, 2, 2.5, 4, 7, 9, 9, 7, 4, 1.5])
_REST_WORK = _PERSONAL * 0.5 + _WORK * 0.5
PROFILES = {
    (True, True): np.cumsum(_WORK) / _WORK.sum(),
    (True, False): np.cumsum(_REST_WORK) / _REST_WORK.sum(),
    (False, True): np.cumsum(_PERSONAL) / _PERSONAL.sum(),
    (False, False): np.cumsum(_PERSONAL) / _PERSONAL.sum(),
}
# Day factor of each kind on working days and rest days; normalised per month in sample_day.
DAY_FACTOR = {True: (1.0, 0.12), False: (0.85, 1.45)}

KIND_WORK = np.array([k[2] for k in KINDS])
KIND_SMS = np.array([k[3] for k in KINDS])
KIND_DUR = np.array([k[4] for k in KINDS])

CDR_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("record_type", pa.string()),
        ("served_msisdn", pa.string()),
        ("other_party", pa.string()),
        ("start_time", pa.timestamp("s")),
        ("duration_s", pa.int64()),
        ("cell_id", pa.string()),
    ]
)


@dataclass
class DayResult:
    table: pa.Table  # CDR rows of the day, contract columns
    served: np.ndarray  # person index of each row's served subscriber
    edge_events: np.ndarray  # events per relationship this day
    moc_seconds: np.ndarray  # per person: outgoing voice seconds
    sms_mo: np.ndarray  # per person: outgoing SMS


class DaySampler:
    def __init__(self, world: World):
        self.w = world
        self.numbers = pa.array(world.number.tolist(), type=pa.string())
        self.cells = pa.array(world.cell_names, type=pa.string())
        self.is_fixed = np.array([len(n) != 11 or n[0] == "0" for n in world.number])
        # per month, the mean day factor of each kind (so a rate is events per month)
        self._norm = {}
        for mi in range(len(world.params.months)):
            wd = world.workday[world.month_of_day == mi]
            for work, (fw, fr) in DAY_FACTOR.items():
                self._norm[(mi, work)] = (fw * wd.sum() + fr * (~wd).sum())
        # residential cells of each region are consecutive ids
        self._pool_first = np.array([c[0] for c in world.region_cells])
        self._pool_len = np.array([len(c) for c in world.region_cells])
        # field staff work anywhere in their region: residential and business cells
        # (a region's residential and business cells are consecutive ids)
        self._area_first = np.array([c[0] for c in world.region_all_cells])
        self._area_len = np.array([len(c) for c in world.region_all_cells])
        self._field = world.work_style == FIELD
        self._no_cdr = world.role == DATA_LINE  # data cards and IoT SIMs: not even a billing notice
        self.svc = pa.array(nb.SERVICE_NUMBERS, type=pa.string())
        self.edge_window = (
            np.maximum(world.alive_from[world.ea], world.alive_from[world.eb]),
            np.minimum(world.alive_to[world.ea], world.alive_to[world.eb]),
        )

    def sample_day(self, day: int) -> DayResult:
        w = self.w
        p = w.params
        rng = np.random.default_rng([p.seed, 2, day])
        d = w.days[day]
        mi = int(w.month_of_day[day])
        workday = bool(w.workday[day])
        self._holiday = bool(w.holiday[day])
        n_p = w.n_persons

        # events per relationship
        kind_factor = np.array(
            [DAY_FACTOR[bool(k)][0 if workday else 1] / self._norm[(mi, bool(k))] for k in KIND_WORK]
        )
        lo, hi = self.edge_window
        lam = w.erate * kind_factor[w.ekind]
        lam[(day < lo) | (day >= hi)] = 0.0
        counts = rng.poisson(lam)
        eidx = np.repeat(np.arange(len(counts)), counts)
        n_ev = len(eidx)
        kind = w.ekind[eidx]
        flip = rng.random(n_ev) < 0.5
        a, b = w.ea[eidx], w.eb[eidx]
        caller = np.where(flip, b, a)
        callee = np.where(flip, a, b)
        # fixed lines neither send nor receive SMS
        sms = (rng.random(n_ev) < KIND_SMS[kind]) & ~self.is_fixed[caller] & ~self.is_fixed[callee]
        # time of day
        work_kind = KIND_WORK[kind]
        u = rng.random(n_ev)
        hour = np.empty(n_ev, np.int64)
        for wk in (True, False):
            sel = work_kind == wk
            hour[sel] = np.searchsorted(PROFILES[(wk, workday)], u[sel], side="right")
        hour = np.minimum(hour, 23)
        sec = hour * 3600 + rng.integers(0, 3600, n_ev)
        dur = np.rint(rng.lognormal(np.log(KIND_DUR[kind]), 1.0)).astype(np.int64)
        dur = np.clip(dur, 1, 7200)
        dur[rng.random(n_ev) < 0.04] = 0  # unanswered
        dur[sms] = 0

        # service calls and service SMS of home subscribers
        home_now = w.is_home(day) & (w.alive_from <= day) & (day < w.alive_to)
        homes = np.flatnonzero(home_now)
        n_svc = rng.poisson(0.06 * p.activity * np.minimum(w.activity[homes], 3.0))
        svc_caller = np.repeat(homes, n_svc)
        # billing notices: one SMS from 10086 in the first days of the month for every home subscriber
        notice = homes[(rng.random(len(homes)) < 1 / 3) & ~self._no_cdr[homes]] if d.day <= 3 else homes[:0]

        base = calendar.timegm(d.timetuple())  # naive local wall clock as epoch seconds

        parts = []
        # mobile-originated side
        mo = home_now[caller]
        parts.append(self._records(rng, caller[mo], callee[mo], sms[mo], sec[mo], dur[mo], True, hour[mo], workday))
        # mobile-terminated side (the same call; switch clocks differ by up to 2 s)
        mt = home_now[callee]
        jitter = rng.integers(0, 3, int(mt.sum()))
        parts.append(
            self._records(rng, callee[mt], caller[mt], sms[mt], sec[mt] + jitter, dur[mt], False, hour[mt], workday)
        )
        svc_n = len(svc_caller)
        svc_sec = rng.integers(8 * 3600, 22 * 3600, svc_n)
        svc_dur = rng.integers(20, 400, svc_n)
        svc_pick = rng.choice(len(nb.SERVICE_NUMBERS), svc_n, p=nb.SERVICE_WEIGHTS / nb.SERVICE_WEIGHTS.sum())
        parts.append(self._service(rng, svc_caller, svc_pick, svc_sec, svc_dur, "MOC", workday))
        n_no = len(notice)
        parts.append(
            self._service(
                rng, notice, np.zeros(n_no, np.int64), rng.integers(9 * 3600, 11 * 3600, n_no), np.zeros(n_no, np.int64), "SMS_MT", workday
            )
        )

        served = np.concatenate([x[0] for x in parts])
        order = np.argsort(np.concatenate([x[1] for x in parts]), kind="stable")
        cols = {name: pa.concat_arrays([x[2][name] for x in parts]).take(pa.array(order)) for name in parts[0][2]}
        served = served[order]
        starts = np.concatenate([x[1] for x in parts])[order] + base
        n = len(served)
        # record id: yyyymmdd + switch + sequence
        switch = self.switch_of(served)
        ymd = d.year * 10000 + d.month * 100 + d.day
        rid = ymd * 10**11 + switch * 10**9 + np.arange(n)
        table = pa.table(
            {
                "record_id": pc.cast(pa.array(rid), pa.string()),
                "record_type": cols["record_type"],
                "served_msisdn": self.numbers.take(pa.array(served)),
                "other_party": cols["other_party"],
                "start_time": pa.array(starts, type=pa.timestamp("s")),
                "duration_s": cols["duration_s"],
                "cell_id": cols["cell_id"],
            },
            schema=CDR_SCHEMA,
        )
        moc_voice = (~sms) & home_now[caller]
        moc_seconds = np.bincount(caller[moc_voice], weights=dur[moc_voice], minlength=n_p)
        moc_seconds += np.bincount(svc_caller, weights=svc_dur, minlength=n_p)
        sms_mo = np.bincount(caller[sms & home_now[caller]], minlength=n_p)
        return DayResult(table, served, counts, moc_seconds, sms_mo)

    def switch_of(self, served: np.ndarray) -> np.ndarray:
        return (self.w.region[served] % 2 + 1).astype(np.int64)

    def _cells(self, rng, person, hour, workday) -> pa.Array:
        w = self.w
        n = len(person)
        in_hours = workday & (hour >= 9) & (hour < 18)
        at_office = (w.office_cell[person] >= 0) & in_hours & (rng.random(n) < 0.85)
        cell = np.where(at_office, w.office_cell[person], w.home_cell[person])
        # field staff at work: any cell of their region, a new one for each record
        on_route = self._field[person] & in_hours & (rng.random(n) < 0.9)
        if on_route.any():
            reg = w.region[person[on_route]]
            cell[on_route] = self._area_first[reg] + rng.integers(0, 1 << 30, int(on_route.sum())) % self._area_len[reg]
        # away from home more often in a public holiday (travel)
        roam = ~at_office & ~on_route & (rng.random(n) < (0.45 if self._holiday else 0.25))
        if roam.any():
            reg = w.region[person[roam]]
            cell[roam] = self._pool_first[reg] + rng.integers(0, 1 << 30, int(roam.sum())) % self._pool_len[reg]
        missing = rng.random(n) < 0.02
        arr = self.cells.take(pa.array(np.maximum(cell, 0)))
        return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr)

    def _records(self, rng, served, other, sms, sec, dur, originated, hour, workday):
        n = len(served)
        rtype = np.where(sms, "SMS_MO" if originated else "SMS_MT", "MOC" if originated else "MTC")
        other_num = self.numbers.take(pa.array(other))
        signalled = nb.signal_numbers(rng, other_num, self.is_fixed[other], (~sms) & originated)
        return (
            served,
            sec,
            {
                "record_type": pa.array(rtype.astype(object), pa.string()),
                "other_party": signalled,
                "duration_s": pa.array(dur, pa.int64()),
                "cell_id": self._cells(rng, served, hour, workday) if n else pa.array([], pa.string()),
            },
        )

    def _service(self, rng, served, svc_pick, sec, dur, rtype, workday):
        n = len(served)
        return (
            served,
            sec,
            {
                "record_type": pa.array(np.full(n, rtype, dtype=object), pa.string()),
                "other_party": self.svc.take(pa.array(svc_pick)),
                "duration_s": pa.array(dur, pa.int64()),
                "cell_id": self._cells(rng, served, sec // 3600, workday) if n else pa.array([], pa.string()),
            },
        )
