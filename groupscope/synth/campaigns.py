"""The synthetic operator's side of a win-over campaign: what the field would answer.

A generator cannot know a campaign's targets in advance (groupscope selects them from its own results),
so the simulation is a separate step that reads the campaign's targets export and the ground truth, and
writes into the landing zone what the source systems would deliver afterwards:

- `campaign_feedback/month=M1/` for every approached target (the first month after the campaign's):
  unreachable, pending, declined or converted, with the cost spent;
- for every off-net target that converted: a port-in to the home carrier (`reference/ported_numbers`),
  a subscriber row in every month from its port date on and a bill in each of those months;
- a few hold-out targets (never approached) come over by themselves, at the base rate, the same way.

Outcomes depend on the truth, not on groupscope's scores: a real employee of the target's group
converts far more often (colleagues on the group plan, the group discount) than a relative, a friend or
a supplier who happens to call the members. The truth of what happened goes to TRUTH/campaigns/<id>/.
Re-running the step for the same campaign replaces what it wrote before.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from groupscope.period import Period

# Outcome model of an approached target: P(unreachable), P(pending), then P(convert) by truth.
P_UNREACHABLE = 0.12
P_PENDING = 0.05
P_CONVERT = {True: 0.55, False: 0.12}  # real employee of the group / anyone else
P_SELF_PORT = {True: 0.05, False: 0.02}  # hold-out targets coming over without an offer
PLAN_CODE, PLAN_FEE = "P58", 58.0


@dataclass
class CampaignSimulation:
    campaign_id: str
    landing: Path
    truth: Path
    approached: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    ported: int = 0
    holdout_ported: int = 0
    real_employees: int = 0
    files: list[str] = field(default_factory=list)

    def text(self) -> str:
        return (
            f"campaign {self.campaign_id}: {self.approached} approached targets ({self.real_employees} real employees "
            f"in the truth); outcomes " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
            + f"; {self.ported} converted numbers and {self.holdout_ported} hold-out numbers port in\n"
            + "\n".join(f"  wrote {f}" for f in self.files)
        )


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _employees(truth: Path, month: str) -> set[tuple[str, str]]:
    """(group_id, msisdn) of every real employee of a registered group, from the truth of `month` (or
    the latest earlier month the truth has)."""
    months = sorted(p.name.split("=", 1)[1] for p in truth.glob("month=*") if (p / "employees.csv").exists())
    usable = [m for m in months if m <= month] or months
    if not usable:
        raise ValueError(f"no employees.csv in the truth folder {truth}")
    rows = _read_csv(truth / f"month={usable[-1]}" / "employees.csv")
    return {(r["group_id"], r["msisdn"]) for r in rows if r.get("group_id")}


def _home_subscribers(landing: Path, months: list[str], skip: str) -> set[str]:
    """Numbers the landing zone already delivers as home subscribers in `months` (other files than ours)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out: set[str] = set()
    for month in months:
        for f in sorted((landing / "subscribers" / f"month={month}").glob("*")):
            if f.name == skip:
                continue
            if f.name.endswith(".parquet"):
                t = pq.read_table(f, columns=["msisdn"])
            elif f.name.endswith((".csv", ".csv.gz")):
                opts = pacsv.ConvertOptions(column_types={"msisdn": "string"}, include_columns=["msisdn"])
                t = pacsv.read_csv(f, convert_options=opts)
            else:
                continue
            out |= {x for x in t["msisdn"].to_pylist() if x}
    return out


def _home_carrier(truth: Path) -> str:
    p = truth / "params.json"
    return json.loads(p.read_text())["home_carrier"] if p.exists() else "CMCC"


def _ported_file(landing: Path) -> Path:
    p = landing / "reference" / "ported_numbers.csv"
    if not p.exists():
        raise ValueError(f"{p} not found: the simulation appends to a CSV ported_numbers reference")
    return p


def _rewrite_ported(path: Path, drop: set[str], add: list[list[str]]) -> None:
    """Remove the lines an earlier run of this campaign added, then append this run's."""
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln not in drop]
    body = "\n".join(lines) + "\n"
    for r in add:
        body += ",".join(r) + "\n"
    path.write_text(body, encoding="utf-8")


def simulate_campaign(landing: str | Path, targets_csv: str | Path, months: list[str], truth: str | Path | None = None,
                      seed: int = 1) -> CampaignSimulation:
    """Write the feedback of `months[0]` and the converted numbers' ports, subscribers and bills of
    every month in `months` for the campaign in `targets_csv` (groupscope campaign show --targets-out)."""
    landing = Path(landing)
    truth = Path(truth) if truth else landing.parent / f"{landing.name}_truth"
    if not months:
        raise ValueError("give the months after the campaign's period, e.g. --months 2026-10,2026-11")
    for a, b in zip(months, months[1:]):
        if str(Period.parse(a).shift(1)) != b:
            raise ValueError(f"months must be consecutive: {a} then {b}")
    if not Path(targets_csv).is_file():
        raise ValueError(f"targets file {targets_csv} not found (write it with: groupscope campaign show ID --targets-out FILE)")
    if not landing.is_dir():
        raise ValueError(f"landing folder {landing} does not exist")
    targets = _read_csv(Path(targets_csv))
    if not targets:
        raise ValueError(f"{targets_csv} has no targets")
    need = {"campaign_id", "msisdn", "group_id", "holdout", "account_manager_id", "on_net"}
    if not need <= set(targets[0]):
        raise ValueError(f"{targets_csv} lacks columns {sorted(need - set(targets[0]))}")
    cid = targets[0]["campaign_id"]
    if any(t["campaign_id"] != cid for t in targets):
        raise ValueError(f"{targets_csv} mixes campaigns")
    employees = _employees(truth, str(Period.parse(months[0]).previous))
    tag = "".join(ch if ch.isalnum() else "_" for ch in cid)
    already = _home_subscribers(landing, months, f"campaign-{tag}.csv")
    home = _home_carrier(truth)
    h = int.from_bytes(hashlib.sha256(cid.encode()).digest()[:4], "big")
    rng = np.random.default_rng([seed, h])
    sim = CampaignSimulation(cid, landing, truth)
    m0 = months[0]
    first = Period.parse(m0).start
    last_day = Period.parse(months[-1]).end
    feedback, ported, outcomes_truth = [], [], []
    for t in sorted(targets, key=lambda r: int(r.get("rank") or 0)):
        real = (t["group_id"], t["msisdn"]) in employees
        off = t["on_net"].lower() != "true"
        port_at = None
        if t["holdout"].lower() == "true":
            outcome = ""
            if off and rng.random() < P_SELF_PORT[real] and t["msisdn"] not in already:
                port_at = first + timedelta(days=int(rng.integers(0, (last_day - first).days + 1)))
                sim.holdout_ported += 1
        else:
            sim.approached += 1
            sim.real_employees += real
            u = rng.random()
            day = first + timedelta(days=int(rng.integers(0, 20)))
            if u < P_UNREACHABLE:
                outcome, cost = "unreachable", 5.0
            elif u < P_UNREACHABLE + P_PENDING:
                outcome, cost = "pending", 10.0
            elif rng.random() < P_CONVERT[real]:
                outcome, cost = "converted", float(rng.choice([80.0, 100.0, 120.0])) + 20.0
            else:
                outcome, cost = "declined", float(rng.integers(10, 31))
            sim.outcomes[outcome] = sim.outcomes.get(outcome, 0) + 1
            feedback.append([cid, t["msisdn"], t["account_manager_id"], outcome, day.isoformat(), f"{cost:.2f}"])
            # a number that became a home subscriber by itself meanwhile is already billed: no second port-in
            if outcome == "converted" and off and t["msisdn"] not in already:
                port_at = day + timedelta(days=int(rng.integers(1, 8)))
        if port_at is not None:
            ported.append((t, port_at, real))
        outcomes_truth.append([t["msisdn"], t["group_id"], t["holdout"], str(real).lower(), outcome,
                               port_at.isoformat() if port_at else ""])
    sim.ported = sum(1 for t, _, _ in ported if t["holdout"].lower() != "true")
    fb_header = ["campaign_id", "msisdn", "account_manager_id", "outcome", "contacted_at", "cost_yuan"]
    sim.files.append(str(_write_csv(landing / "campaign_feedback" / f"month={m0}" / f"feedback-{tag}.csv", fb_header, feedback)))
    # ports: replace this campaign's earlier lines
    tdir = truth / "campaigns" / tag
    tdir.mkdir(parents=True, exist_ok=True)
    prev = tdir / "ported_lines.txt"
    drop = set(prev.read_text(encoding="utf-8").splitlines()) if prev.exists() else set()
    add = [[t["msisdn"], home, at.isoformat()] for t, at, _ in ported]
    _rewrite_ported(_ported_file(landing), drop, add)
    prev.write_text("".join(",".join(r) + "\n" for r in add), encoding="utf-8")
    sim.files.append(str(_ported_file(landing)))
    for month in months:
        per = Period.parse(month)
        start, end, ndays = per.start, per.end, per.end.day
        subs, bills = [], []
        for k, (t, at, real) in enumerate(ported):
            if at > end:
                continue
            sid = f"S{tag}-{k:05d}"
            region = t.get("region") or ""
            subs.append([sid, t["msisdn"], "active", at.isoformat(), "", PLAN_CODE, region])
            share = (end - max(at, start)).days / ndays + 1 / ndays
            fee = round(PLAN_FEE * share, 2)
            data = round(float(rng.lognormal(3.0 if real else 2.5, 0.6)) * share, 2)
            voice = round(fee * 0.4, 2)
            data_fee = round(fee - voice + data, 2)
            total = round(voice + data_fee, 2)
            paid_at = f"{(end + timedelta(days=int(rng.integers(1, 15)))).isoformat()} 10:00:00"
            bills.append([f"B{month.replace('-', '')}{tag}{k:05d}", t["msisdn"], month, f"{voice:.2f}", f"{data_fee:.2f}",
                          "0.00", "0.00", "0.00", f"{total:.2f}", f"{total:.2f}", paid_at])
        sim.files.append(str(_write_csv(landing / "subscribers" / f"month={month}" / f"campaign-{tag}.csv",
                                        ["subscriber_id", "msisdn", "status", "activated_at", "closed_at", "plan_code", "region"], subs)))
        sim.files.append(str(_write_csv(landing / "billing" / f"month={month}" / f"campaign-{tag}.csv",
                                        ["bill_id", "msisdn", "bill_month", "voice_fee", "data_fee", "sms_fee", "vas_fee",
                                         "discount", "total_due", "paid_amount", "paid_at"], bills)))
    _write_csv(tdir / "outcomes.csv", ["msisdn", "group_id", "holdout", "real_employee", "outcome", "ported_at"], outcomes_truth)
    return sim
