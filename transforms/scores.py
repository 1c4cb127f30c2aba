"""Fake-member score and potential-member (employee) score, as SQL over the feature tables.

**Reference values.** Signals that have no absolute scale (co-location, calling-time profile,
working-time share, members contacted) are compared with the group's *typical* real member: the
`reference_quantile` (0.75) of the signal over the group's active members; fakes are a minority, so
that quantile is a real member's value. A group with few active members cannot give a reliable
quantile, so it borrows: reference = (n x own + k x peers) / (n + k), n = the group's active members,
k = `reference_prior_members`, peers = the same quantile over the active members of all groups of the
same industry and size band (`size_bands`); a peer cell with fewer than `peer_min_members` members
falls back to the industry, then to all groups.

**Fake score.** Each kind of evidence that a member is real gives a value e in [0, 1), and
fake_score = product of (1 - e) over them (a noisy-OR: any one strong piece clears a member):
- work-like ties with colleagues (registered members and the group's likely employees), discounted by
  the share of the member's working time they carry (work focus), and with the key person (counting
  `key_person_ties` times, whole): e = 1 - (1 - tie_evidence)^ties;
- co-location at work: e = colocation_evidence x min(1, colocation / reference) x
  min(1, working-time records / colocation_min_records); records made at the line's own home (cells of
  `home_time_bins`) add nothing to it;
- shared work contacts (numbers not registered in the group with which the member and another member
  both have work-like ties: clients, suppliers, switchboard, unregistered staff), discounted like ties
  by the share of the member's working time they carry: e = 1 - (1 - shared_contact_evidence)^(n x
  min(1, shared focus / tie_focus_full));
- calling-time profile like the group's: e = profile_evidence x min(1, similarity / reference);
- the registered key person: e = key_person_evidence.
A member without any call or SMS is dormant (score 1) unless its bill is data-only (a data card or
IoT SIM in use: score 1 - data_line_evidence). A member that would be flagged on too little
evidence (too few calls, too few days since joining, no other active member to compare with, or
calls but none with the group and none in working time) gets evidence = 'insufficient' and is never
flagged.
"""

from __future__ import annotations

from groupscope.config import ModelConfig
from transforms.sql import num

# the signals a group's reference values are taken of: reference column -> member feature
SIGNALS = {
    "ref_k": "members_contacted",
    "ref_work": "in_work_share",
    "ref_coloc": "colocation",
    "ref_time": "time_similarity",
    "ref_own_work": "own_work_share",
    "ref_focus": "in_volume_share",
}


def size_band_labels(bands: list[int]) -> list[str]:
    """The size bands' labels from their upper bounds, smallest first: [3, 9] -> ['1-3', '4-9', '10+']."""
    labels, lo = [], 1
    for hi in bands:
        labels.append(f"{lo}-{int(hi)}")
        lo = int(hi) + 1
    return labels + [f"{lo}+"]


def size_band_sql(listed: str, bands: list[int]) -> str:
    """The size band label of a group with `listed` registered members, e.g. '1-3', '4-9', '100+'."""
    labels = size_band_labels(bands)
    parts = [f"WHEN {listed} <= {int(hi)} THEN '{label}'" for hi, label in zip(bands, labels)]
    return f"(CASE {' '.join(parts)} ELSE '{labels[-1]}' END)"


def group_reference_sql(features: str, groups: str, mc: ModelConfig) -> str:
    """Per group: reference value of every signal, the active members it rests on and where it came from."""
    q = num(mc.reference_quantile)
    k = num(mc.reference_prior_members)
    qs = ", ".join(f"quantile_cont({col}, {q}) AS {ref}" for ref, col in SIGNALS.items())
    blend = ",\n       ".join(
        f"(coalesce(o.n, 0) * coalesce(o.{ref}, 0) + {k} * coalesce(c.{ref}, i.{ref}, a.{ref}, 0)) "
        f"/ greatest(coalesce(o.n, 0) + {k}, 1e-9) AS {ref}"
        for ref in SIGNALS
    )
    return f"""
WITH g AS (
    SELECT f.group_id, max(f.listed) AS listed, coalesce(max(gr.industry), '') AS industry,
           {size_band_sql("max(f.listed)", mc.size_bands)} AS size_band
    FROM {features} AS f LEFT JOIN {groups} AS gr ON gr.group_id = f.group_id GROUP BY f.group_id
),
f AS (SELECT f.*, g.industry, g.size_band FROM {features} AS f JOIN g ON g.group_id = f.group_id WHERE f.own_events > 0),
o AS (SELECT group_id, count(*) AS n, {qs} FROM f GROUP BY group_id),
c AS (SELECT industry, size_band, count(*) AS n, {qs} FROM f GROUP BY industry, size_band HAVING count(*) >= {int(mc.peer_min_members)}),
i AS (SELECT industry, count(*) AS n, {qs} FROM f GROUP BY industry HAVING count(*) >= {int(mc.peer_min_members)}),
a AS (SELECT count(*) AS n, {qs} FROM f)
SELECT g.group_id, g.industry, g.size_band, coalesce(o.n, 0) AS ref_members,
       CASE WHEN c.n IS NOT NULL THEN 'industry and size' WHEN i.n IS NOT NULL THEN 'industry' ELSE 'all groups' END AS peer_scope,
       coalesce(o.n, 0) * 1.0 / (coalesce(o.n, 0) + {k} + 1e-9) AS own_weight,
       {blend}
FROM g LEFT JOIN o ON o.group_id = g.group_id
LEFT JOIN c ON c.industry = g.industry AND c.size_band = g.size_band
LEFT JOIN i ON i.industry = g.industry
CROSS JOIN a
"""


def _ratio(x: str, ref: str, floor: float) -> str:
    return f"least(1.0, greatest(0.0, {x} / greatest({ref}, {num(floor)})))"


def _pct(x: str) -> str:
    return f"CAST(CAST(round(100 * {x}) AS INTEGER) AS VARCHAR) || '%'"


def _int(x: str) -> str:
    return f"CAST(CAST({x} AS BIGINT) AS VARCHAR)"


def _yuan(x: str) -> str:
    return f"printf('%.2f', {x})"


def fake_scores_sql(features: str, refs: str, colleagues: str, mc: ModelConfig, threshold: float) -> str:
    """Fake score, evidence state, confidence and reasons of every registered member.

    `colleagues(group_id, msisdn, colleague_ties)`: work-like ties with unregistered likely employees.
    """
    thr = num(threshold)
    weak = num(mc.reason_weak)
    return f"""
WITH r AS (
    SELECT f.*, g.ref_coloc, g.ref_time, g.ref_own_work, g.ref_members,
           coalesce(c.colleague_ties, 0) AS colleague_ties,
           -- share of the member's working-time calls and SMS that are with colleagues
           CASE WHEN f.graph_work_events > 0
                THEN (f.work_tie_events + coalesce(c.colleague_work_events, 0)) * 1.0 / f.graph_work_events ELSE 0 END AS work_focus,
           f.work_ties + coalesce(c.colleague_ties, 0)
               + {num(mc.key_person_ties)} * f.key_person_tie AS ties,
           coalesce(c.colleague_contacts, 0) AS colleague_contacts,
           coalesce(c.shared_contacts, 0) AS shared_contacts,
           -- share of the member's working-time calls and SMS that are with its shared work contacts
           CASE WHEN f.graph_work_events > 0
                THEN coalesce(c.shared_work_events, 0) * 1.0 / f.graph_work_events ELSE 0 END AS shared_focus,
           {_ratio("f.colocation", "g.ref_coloc", mc.colocation_floor)} AS r_colocation,
           least(1.0, f.work_records * 1.0 / {int(mc.colocation_min_records)}) AS colocation_reliability,
           {_ratio("f.time_similarity", "g.ref_time", mc.profile_floor)} AS r_time,
           f.own_events = 0 AND f.data_fee > 0
               AND f.data_fee >= {num(mc.data_line_share)} * (f.voice_fee + f.data_fee + f.sms_fee) AS data_line
    FROM {features} AS f JOIN {refs} AS g ON g.group_id = f.group_id
    LEFT JOIN {colleagues} AS c ON c.group_id = f.group_id AND c.msisdn = f.msisdn
),
e AS (
    SELECT *,
           -- ties with colleagues count by the share of working time they carry (an outsider's chance tie
           -- carries little of it); a work-like tie with the key person, one named person, counts whole
           1.0 - pow(1.0 - {num(mc.tie_evidence)},
                     (work_ties + colleague_ties) * least(1.0, work_focus / {num(mc.tie_focus_full)})
                     + {num(mc.key_person_ties)} * key_person_tie) AS e_ties,
           {num(mc.colocation_evidence)} * r_colocation * colocation_reliability AS e_colocation,
           -- work contacts it shares with other members (the company's clients, suppliers, switchboard), by the
           -- share of its working time they carry, as ties (a chance overlap carries little of a busy line's)
           1.0 - pow(1.0 - {num(mc.shared_contact_evidence)},
                     shared_contacts * least(1.0, shared_focus / {num(mc.tie_focus_full)})) AS e_shared,
           {num(mc.profile_evidence)} * r_time AS e_profile,
           CASE WHEN is_key_person THEN {num(mc.key_person_evidence)} ELSE 0.0 END AS e_key_person,
           own_events = 0 AND NOT data_line AS dormant,
           work_contacts + colleague_contacts + CASE WHEN key_person_tie > 0 THEN 1 ELSE 0 END AS n_colleagues
    FROM r
),
s AS (
    SELECT *,
           CASE WHEN dormant THEN 1.0
                WHEN data_line THEN 1.0 - {num(mc.data_line_evidence)}
                ELSE (1.0 - e_ties) * (1.0 - e_colocation) * (1.0 - e_shared) * (1.0 - e_profile) * (1.0 - e_key_person) END AS fake_score
    FROM e
),
v AS (
    SELECT *,
           fake_score >= {thr} AND days_observed < {int(mc.min_days_observed)} AS too_new,
           fake_score >= {thr} AND NOT dormant AND NOT data_line AND own_events < {int(mc.min_events)} AS too_quiet,
           fake_score >= {thr} AND NOT dormant AND NOT data_line AND other_active = 0 AND colleague_ties = 0 AS nobody_to_compare,
           -- calls, but none in working time and none with the group: nothing to compare with colleagues
           fake_score >= {thr} AND NOT dormant AND NOT data_line AND work_records = 0 AND members_contacted = 0
               AND colleague_contacts = 0 AS unseen_at_work
    FROM s
),
w AS (
    SELECT *,
           CASE WHEN too_new OR too_quiet OR nobody_to_compare OR unseen_at_work THEN 'insufficient' ELSE 'sufficient' END AS evidence,
           CASE WHEN dormant THEN least(1.0, days_observed * 1.0 / days_in_period)
                WHEN data_line THEN 1.0
                ELSE least(1.0, own_events * 1.0 / {int(mc.confident_events)}) END AS volume
    FROM v
)
SELECT group_id, msisdn, listed, fake_score,
       evidence = 'sufficient' AND fake_score >= {thr} AS is_suspect,
       evidence,
       CASE WHEN evidence = 'insufficient' THEN 0.0
            ELSE 0.5 + 0.5 * volume * CASE WHEN fake_score >= {thr} THEN (fake_score - {thr}) / greatest(1.0 - {thr}, 1e-9)
                                            ELSE ({thr} - fake_score) / greatest({thr}, 1e-9) END END AS confidence,
       e_ties, e_colocation, e_shared, e_profile, e_key_person, dormant, data_line,
       members_contacted, work_contacts, work_ties, colleague_contacts, colleague_ties, shared_contacts, key_person_tie, is_key_person, in_work_share, colocation,
       work_focus, shared_focus, work_records, own_events, own_work_share, data_fee, days_observed,
       CASE
       WHEN dormant THEN
            'dormant: no calls or SMS in the month'
            || CASE WHEN service_events > 0 THEN ' (only ' || {_int("service_events")} || ' with service codes)' ELSE '' END
            || CASE WHEN data_fee > 0 THEN '; bill is not data-only' ELSE '; no data use billed' END
            || CASE WHEN too_new THEN '; joined or activated ' || {_int("days_observed")} || ' days before month end, too recent to judge' ELSE '' END
       WHEN data_line THEN
            'data-only line (data card or IoT SIM): no calls or SMS, data billed ' || {_yuan("data_fee")} || ' yuan; in use, not dormant'
       ELSE concat_ws('; ',
            CASE WHEN is_key_person THEN 'the group''s key person' END,
            CASE WHEN ties > 0 THEN 'working-time contact with ' || {_int("n_colleagues")}
                     || ' colleague' || CASE WHEN n_colleagues > 1 THEN 's' ELSE '' END
                     || CASE WHEN key_person_tie > 0 THEN ' including the key person' ELSE '' END
                     || CASE WHEN colleague_contacts > 0 THEN ' (' || {_int("colleague_contacts")} || ' not registered)' ELSE '' END
                     -- flagged all the same: say why those ties do not clear it
                     || CASE WHEN fake_score >= {thr} THEN ', too little of its working time to vouch for it' ELSE '' END
                 WHEN listed > 1 AND members_contacted = 0 THEN 'no calls with other members'
                 WHEN listed > 1 THEN 'calls ' || {_int("members_contacted")} || ' member' || CASE WHEN members_contacted > 1 THEN 's' ELSE '' END
                     || ', not in working time as colleagues do' END,
            CASE WHEN shared_contacts > 0 THEN 'working-time calls with ' || {_int("shared_contacts")}
                     || CASE WHEN shared_contacts > 1 THEN ' numbers' ELSE ' number' END
                     || ' that other members also call for work (clients, suppliers, switchboard, colleagues)'
                     || CASE WHEN fake_score >= {thr} THEN ', too little of its working time to vouch for it' ELSE '' END END,
            CASE WHEN top_member_events >= {int(mc.reason_family_events)} AND top_member_work_share < {num(mc.reason_family_work_share)} AND ties = 0
                 THEN 'calls one member often (' || {_int("top_member_events")} || ' times), mostly evenings and rest days: family-like' END,
            CASE WHEN r_colocation * colocation_reliability >= {num(mc.reason_strong)} THEN 'at work in the group''s cells'
                 WHEN work_records > 0 AND r_colocation < {weak} AND other_active > 0 THEN 'not seen at the group''s workplaces in working hours'
                 WHEN work_records = 0 AND own_events > 0 THEN 'never seen on the network in working hours' END,
            CASE WHEN own_events > 0 AND own_work_share < {weak} * ref_own_work THEN 'calls mostly outside working hours ('
                     || {_pct("own_work_share")} || ' in working time, typical member ' || {_pct("ref_own_work")} || ')' END,
            CASE WHEN too_quiet THEN 'only ' || {_int("own_events")} || ' calls or SMS in the month: too few to judge' END,
            CASE WHEN too_new THEN 'joined or activated ' || {_int("days_observed")} || ' days before month end: too recent to judge' END,
            CASE WHEN unseen_at_work AND NOT too_quiet AND NOT too_new AND NOT nobody_to_compare
                 THEN 'no calls with the group and none in working hours: too little to judge' END,
            CASE WHEN nobody_to_compare AND NOT too_quiet AND NOT too_new THEN
                 CASE WHEN listed = 1 THEN 'the only member of the group: no colleague to compare with'
                      ELSE 'no other member of the group is active: no colleague to compare with' END END
       ) END AS reasons
FROM w
"""


def employee_scores_sql(candidates: str, refs: str, mc: ModelConfig) -> str:
    """Employee score of every candidate: the weighted signals relative to the group's reference, cut by
    scatter (contact_score), times the support floor min(1, members_contacted / employee_min_members)
    and the work gate min(1, work_share / employee_min_work_share) (score): one member's contact is a
    relation with that person, not yet with the group; contact mostly in the evenings and on rest days is
    a friend's or a relative's, not a colleague's."""
    w = mc.employee_weights
    fl = mc.employee_floors
    off_total = num(w["work"] + w["coupling"] + w["focus"])
    return f"""
WITH r AS (
    SELECT c.*,
           {_ratio("c.work_share", "g.ref_work", fl["work"])} AS r_work,
           least(1.0, greatest(0.0, (c.members_contacted - 1) / greatest(1.0, least(c.listed - 1, g.ref_k)))) AS r_coupling,
           {_ratio("c.focus", "g.ref_focus", fl["focus"])} AS r_focus,
           {_ratio("coalesce(c.colocation, 0)", "g.ref_coloc", fl["colocation"])} AS r_colocation,
           c.colocation IS NOT NULL AND c.work_records >= {int(mc.employee_min_work_records)} AS seen_at_work
    FROM {candidates} AS c JOIN {refs} AS g ON g.group_id = c.group_id
),
s AS (
    SELECT *,
           CASE WHEN seen_at_work
                THEN {num(w['work'])} * r_work + {num(w['coupling'])} * r_coupling + {num(w['focus'])} * r_focus + {num(w['colocation'])} * r_colocation
                ELSE ({num(w['work'])} * r_work + {num(w['coupling'])} * r_coupling + {num(w['focus'])} * r_focus) / {off_total}
           END AS base_score,
           -- scattered contacts: many members who do not call each other (a client, supplier or courier of many)
           {num(mc.scatter_penalty)} * (1.0 - least(1.0, coalesce(closure, 1.0) / {num(mc.closure_full)}))
               * least(1.0, greatest(0.0, members_contacted - {num(mc.scatter_from)}) / {num(mc.scatter_full - mc.scatter_from)}) AS scatter,
           -- support: contact with too few registered members is a relation with a person, not with the group
           least(1.0, members_contacted * 1.0 / {int(mc.employee_min_members)}) AS support,
           -- work gate: a colleague's calls with the group are mostly in working time, a friend's are not
           least(1.0, greatest(0.0, coalesce(work_share, 0.0)) / {num(mc.employee_min_work_share)}) AS work_gate
    FROM r
)
SELECT *, base_score * (1.0 - scatter) AS contact_score, base_score * (1.0 - scatter) * support * work_gate AS score FROM s
"""
