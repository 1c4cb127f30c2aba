"""Pure rendering of the month's report: values in, HTML and SVG out, no I/O.

Charts are drawn with matplotlib (SVG backend, text kept as text so the browser's fonts draw Chinese
names) and embedded as `data:` images, so the file needs no network and no script: an SVG shown as an
image cannot run code, whatever text the data put in it. Every text from the data that reaches the
HTML goes through `esc` (html.escape), so a group called `<script>...` or `=HYPERLINK(...)` is shown
as the characters it is made of.
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from collections.abc import Iterable, Sequence

import matplotlib

matplotlib.use("Agg", force=False)  # no display; only the SVG canvas is used

from matplotlib.figure import Figure  # noqa: E402

from transforms.market import uncalibrated_text  # noqa: E402

INK = "#1f2d3d"
BLUE = "#2f6db5"
LIGHT = "#9cbce3"
RED = "#c0392b"
GREEN = "#2e8b57"
GREY = "#8a96a3"

RC = {
    "svg.fonttype": "none",  # <text> elements: the browser draws the glyphs (CJK included)
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "svg.hashsalt": "groupscope",
}


def esc(v: object) -> str:
    """Text of a value for HTML: None as an empty cell, everything else escaped (quotes included)."""
    return "" if v is None else html.escape(str(v), quote=True)


def fmt_int(v) -> str:
    return "" if v is None else f"{int(v):,}"


def fmt_pct(v, digits: int = 1) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.{digits}%}"


def fmt_num(v, digits: int = 2) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    try:
        return f"{float(v):,.{digits}f}"
    except (TypeError, ValueError):
        return str(v)


# ---------------------------------------------------------------------------------------- charts

def _figure(w: float, h: float) -> Figure:
    return Figure(figsize=(w, h), dpi=96, layout="constrained")


def svg_bytes(fig: Figure, salt: str) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context(RC | {"svg.hashsalt": salt}), warnings.catch_warnings():
        # glyphs outside matplotlib's own font are measured approximately and drawn by the browser
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "groupscope"})
    return buf.getvalue()


def chart(fig: Figure, name: str, alt: str) -> str:
    """An <img> holding the figure as an SVG data URI (one chart of the report)."""
    data = base64.b64encode(svg_bytes(fig, name)).decode("ascii")
    return (
        f'<figure class="chart" data-chart="{esc(name)}"><img alt="{esc(alt)}" '
        f'src="data:image/svg+xml;base64,{data}"><figcaption>{esc(alt)}</figcaption></figure>'
    )


def no_data(name: str, what: str) -> str:
    return f'<p class="empty" data-empty="{esc(name)}">No {esc(what)} this month.</p>'


def _short(label: object, n: int = 28) -> str:
    s = "" if label is None else str(label)
    return s if len(s) <= n else s[: n - 1] + "…"


def histogram(values: Sequence[float], name: str, title: str, xlabel: str, bins: int = 20,
              color: str = BLUE, percent: bool = True) -> str:
    if not values:
        return no_data(name, title.lower())
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, 2.8)
        ax = fig.add_subplot()
        ax.hist(values, bins=bins, range=(0, 1) if percent else None, color=color, edgecolor="white")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("groups")
        if percent:
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


def share_bars(rows: Sequence[dict], name: str, title: str, limit: int = 12) -> str:
    """Horizontal bars of the share of suspected fake members, with the count, per label."""
    rows = [r for r in rows if r["listed"]][:limit]
    if not rows:
        return no_data(name, title.lower())
    rows = sorted(rows, key=lambda r: r["suspects"] / r["listed"])
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, max(1.8, 0.45 + 0.28 * len(rows)))
        ax = fig.add_subplot()
        shares = [r["suspects"] / r["listed"] for r in rows]
        y = range(len(rows))
        ax.barh(y, shares, color=RED, height=0.65)
        ax.set_yticks(list(y), [_short(r["label"], 22) for r in rows])
        for i, r in enumerate(rows):
            ax.text(shares[i], i, f"  {r['suspects']:,} of {r['listed']:,}", va="center", fontsize=8, color=INK)
        ax.set_xlim(0, max(shares) * 1.45 or 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("suspected fake members, share of registered members")
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


def stacked_groups(rows: Sequence[dict], name: str, title: str) -> str:
    """Likely employees per group, on-net (register them) and off-net (win them over)."""
    if not rows:
        return no_data(name, "potential members")
    rows = list(reversed(rows))
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, max(1.8, 0.5 + 0.26 * len(rows)))
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        on = [r["onnet"] for r in rows]
        off = [r["offnet"] for r in rows]
        ax.barh(y, on, color=BLUE, height=0.65, label="on-net, not registered")
        ax.barh(y, off, left=on, color=LIGHT, height=0.65, label="off-net (competitor)")
        ax.set_yticks(y, [_short(r["group_name"] or r["group_id"]) for r in rows])
        ax.set_xlabel("likely employees not registered")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


def trend(rows: Sequence[dict], name: str, title: str) -> str:
    if not rows:
        return no_data(name, "market share trend")
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, 2.8)
        ax = fig.add_subplot()
        x = [r["period"] for r in rows]
        ax.plot(x, [r["overall_share"] for r in rows], marker="o", color=BLUE, label="all groups' employees")
        ax.plot(x, [r["mean_share"] for r in rows], marker="s", color=GREEN, linestyle="--", label="mean of groups")
        for r in rows:
            if r["overall_share"] is not None:
                ax.annotate(f"{r['overall_share']:.1%}", (r["period"], r["overall_share"]), textcoords="offset points",
                            xytext=(0, -15), ha="center", fontsize=8, color=BLUE)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_ylabel("market share")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


def pyramid(rows: Sequence[dict], name: str, title: str) -> str:
    """Tiers top first as centred bars whose width is the number of groups."""
    if not rows:
        return no_data(name, "value tiers")
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, max(1.8, 0.6 + 0.42 * len(rows)))
        ax = fig.add_subplot()
        n = len(rows)
        widest = max(r["groups"] for r in rows) or 1
        for i, r in enumerate(rows):
            y = n - 1 - i
            w = max(r["groups"], widest * 0.04)
            ax.barh(y, w, left=-w / 2, color=matplotlib.colormaps["Blues"](0.9 - 0.6 * i / max(n - 1, 1)), height=0.8)
            ax.text(widest * 0.56, y, f"{_short(r['tier'], 20)}: {r['groups']:,} groups, revenue {r['revenue']:,.0f}",
                    ha="left", va="center", fontsize=8, color=INK)
        ax.set_xlim(-widest / 2 * 1.02, widest * 1.45)
        ax.set_axis_off()
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


GRID_CELLS = {  # value_grid label -> (current high?, potential high?)
    "重要 important": (True, True),
    "中等 medium": (True, False),
    "大 big": (False, True),
    "小 small": (False, False),
}


def grid_2x2(rows: Sequence[dict], name: str, title: str) -> str:
    if not rows:
        return no_data(name, "value grid")
    counts = {r["cell"]: r["groups"] for r in rows}
    with matplotlib.rc_context(RC):
        fig = _figure(4.4, 3.4)
        ax = fig.add_subplot()
        total = sum(counts.values()) or 1
        for cell, (cur_hi, pot_hi) in GRID_CELLS.items():
            x, y = int(cur_hi), int(pot_hi)
            k = counts.get(cell, 0)
            ax.add_patch(matplotlib.patches.Rectangle((x, y), 1, 1, color=matplotlib.colormaps["Blues"](0.15 + 0.7 * k / total),
                                                      ec="white", lw=3))
            ax.text(x + 0.5, y + 0.58, cell, ha="center", va="center", fontsize=10, color=INK)
            ax.text(x + 0.5, y + 0.38, f"{k:,} groups", ha="center", va="center", fontsize=9, color=INK)
        others = {c: k for c, k in counts.items() if c not in GRID_CELLS}
        ax.set_xlim(0, 2)
        ax.set_ylim(0, 2)
        ax.set_xticks([0.5, 1.5], ["low", "high"])
        ax.set_yticks([0.5, 1.5], ["low", "high"])
        ax.set_xlabel("current value")
        ax.set_ylabel("potential value")
        if others:
            ax.text(0, -0.35, "other: " + ", ".join(f"{_short(c, 16)} {k}" for c, k in others.items()), fontsize=8)
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


def reason_bars(rows: Sequence[dict], name: str, title: str, limit: int = 10) -> str:
    rows = [r for r in rows if r["rows"]][:limit]  # a file not read (0 rows counted) is listed, not drawn
    if not rows:
        return no_data(name, "quarantined rows")
    rows = list(reversed(rows))
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, max(1.8, 0.5 + 0.28 * len(rows)))
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        ax.barh(y, [int(r["rows"]) for r in rows], color=RED, height=0.65)
        ax.set_yticks(y, [_short(f"{r['source']}: {r['reason']}", 46) for r in rows])
        ax.set_xlabel("rows quarantined")
        ax.set_title(title, loc="left", fontsize=10, color=INK)
    return chart(fig, name, title)


# ---------------------------------------------------------------------------------------- HTML

def table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "", raw: bool = False) -> str:
    """An HTML table; cells are escaped unless `raw` (cells already rendered by this module)."""
    cell = (lambda v: v) if raw else esc
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
color:#1f2d3d;margin:0;background:#f4f6f9;font-size:14px}
header{background:#1f2d3d;color:#fff;padding:18px 32px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d4e0;font-size:13px}
nav{background:#fff;border-bottom:1px solid #dde3ea;padding:8px 32px;font-size:13px}
nav a{margin-right:14px;color:#2f6db5;text-decoration:none}
main{padding:16px 32px;max-width:1280px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:14px 20px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 8px}h3{font-size:14px;margin:14px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:10px 16px;min-width:150px}
.card b{display:block;font-size:22px}.card span{color:#5b6b7c;font-size:12px}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure.chart{margin:0;flex:1 1 520px;max-width:640px}figure.chart img{width:100%;height:auto}
figcaption{display:none}
table{border-collapse:collapse;font-size:12.5px;margin:4px 0 8px;width:100%}
th,td{border-bottom:1px solid #e6ebf0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f7;font-weight:600}td.n,th.n{text-align:right}
.bad{color:#c0392b;font-weight:600}.ok{color:#2e8b57}.warn{color:#b9770e;font-weight:600}
.note{color:#5b6b7c;font-size:12.5px}.empty{color:#5b6b7c;font-style:italic}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
.am{border-top:1px solid #e6ebf0;padding-top:6px}
"""


def _cards(d) -> str:
    t = d.totals
    purity = (t["listed"] - t["suspects"]) / t["listed"] if t.get("listed") else None
    low = sum(1 for p in d.purity if p < 0.8)
    share = d.market_trend[-1]["overall_share"] if d.market_trend else None
    calls = sum(a["verify"] + a["register"] + a["win"] for a in d.account_managers)
    failed = [c for c in d.checks if not c["success"]]
    items = [
        (fmt_int(t.get("groups")), "active groups"),
        (fmt_int(t.get("listed")), "registered members"),
        (fmt_int(t.get("suspects")), "suspected fake members"),
        (fmt_pct(purity), "purity (real / registered)"),
        (fmt_int(low), "groups with purity below 80%"),
        (fmt_pct(share), "market share (contract formula, data lines as members)"),
        (fmt_pct(d.staff_share), "market share of employees (data lines left out)"),
        (fmt_int(calls), "calls in the worklists"),
        (fmt_int(len(failed)), "data checks not passed"),
    ]
    return '<div class="cards">' + "".join(f"<div class=card><b>{esc(v)}</b><span>{esc(k)}</span></div>" for v, k in items) + "</div>"


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{esc(sid)}"><h2>{esc(title)}</h2>{body}</section>'


def _quality(d) -> str:
    rows = []
    for s in d.sources:
        read, q, lost = int(s["rows_read"] or 0), int(s["quarantined"] or 0), int(s.get("not_read") or 0)
        if lost:  # a file not read is in the quarantine as a file, its rows uncounted
            verdict = f'<span class="bad">no: {lost} file{"s" if lost > 1 else ""} unreadable, rows unknown</span>'
        elif read == int(s["accepted"] or 0) + q:
            verdict = '<span class="ok">yes</span>'
        else:
            verdict = '<span class="bad">NO</span>'
        rows.append((esc(s["source"]), fmt_int(s["files"]), fmt_int(read), fmt_int(s["accepted"]), fmt_int(q),
                     fmt_pct(q / read if read else 0, 2), verdict))
    acc = table(["source", "files", "rows read", "accepted", "quarantined", "quarantined %", "read = accepted + quarantined"],
                rows, "accounting", raw=True) if rows else no_data("accounting", "source files")
    reasons = table(["source", "reason", "rows"],
                    [(r["source"], r["reason"], fmt_int(r["rows"]) if r["rows"] else "whole file")
                     for r in d.quarantine_reasons[:25]]) \
        if d.quarantine_reasons else '<p class="note">No row was quarantined.</p>'
    more = (f'<p class="note">{len(d.quarantine_reasons) - 25} more reasons: '
            f'<code>groupscope export quarantine --period {esc(d.period)}</code> lists every row.</p>'
            if len(d.quarantine_reasons) > 25 else "")
    body = (
        '<p class="note">Every row read is either accepted or quarantined with a reason; quarantined rows are in the '
        f'restricted schema and in <code>groupscope export quarantine --period {esc(d.period)} --out FILE.csv</code>.</p>'
        + acc + '<div class="row">' + reason_bars(d.quarantine_reasons, "quarantine_reasons", "Quarantined rows by reason")
        + f"<div style='flex:1 1 420px'><h3>Quarantine reasons</h3>{reasons}{more}</div></div>"
    )
    return _section("accounting", "Row accounting per source", body)


def _checks(d) -> str:
    n = len(d.checks)
    failed = [c for c in d.checks if not c["success"]]
    blocking = [c for c in failed if c["severity"] == "blocking"]
    link = (f'<a href="{esc(d.data_docs_href)}">Great Expectations Data Docs</a> (suites and validation runs)'
            if d.data_docs_href else "no Data Docs were built for this work directory")
    lines = [
        f"<p>{n - len(failed):,} of {n:,} checks passed; {len(blocking)} blocking and "
        f"{len(failed) - len(blocking)} warnings not passed. Details: {link}.</p>"
    ]
    if failed:
        lines.append(table(["source", "check", "severity", "observed"],
                           [(c["source"], c["expectation"], c["severity"], c["observed"]) for c in failed]))
    passed = [c for c in d.checks if c["success"]]
    if passed:
        lines.append(f"<details><summary>{len(passed)} checks passed</summary>"
                     + table(["source", "check", "severity", "observed"],
                             [(c["source"], c["expectation"], c["severity"], c["observed"]) for c in passed])
                     + "</details>")
    return _section("quality", "Data quality", "".join(lines))


def _padding(d) -> str:
    t = d.totals
    body = (
        '<p class="note">A registered member is a suspected fake when its calls do not look like a colleague\'s '
        "(few contacts with other members, little in working hours, not in the same cells, or dormant). "
        "Purity = real members / registered members.</p>"
        '<div class="row">'
        + histogram(d.purity, "purity", "Purity of groups", "purity (real / registered members)", color=GREEN)
        + share_bars(d.suspects_by_industry, "suspects_industry", "Suspected fake members by industry")
        + share_bars(d.suspects_by_region, "suspects_region", "Suspected fake members by region")
        + "</div><h3>Most padded groups</h3>"
        + (table(["group", "industry", "region", "account manager", "registered", "suspected fake", "purity"],
                 [(g["group_name"] or g["group_id"], g["industry"], g["region"],
                   f"{g['account_manager_name'] or ''} ({g['account_manager_id'] or '-'})",
                   fmt_int(g["listed_members"]), fmt_int(g["suspect_members"]), fmt_pct(g["purity"]))
                  for g in d.padded_groups], "padded")
           if d.padded_groups else '<p class="note">No group has a suspected fake member this month.</p>')
        + "<h3>Lowest purity (groups of 10 or more registered members)</h3>"
        + (table(["group", "industry", "region", "account manager", "registered", "suspected fake", "purity"],
                 [(g["group_name"] or g["group_id"], g["industry"], g["region"],
                   f"{g['account_manager_name'] or ''} ({g['account_manager_id'] or '-'})",
                   fmt_int(g["listed_members"]), fmt_int(g["suspect_members"]), fmt_pct(g["purity"]))
                  for g in d.lowest_purity], "lowest")
           if d.lowest_purity else '<p class="note">No group of that size has a suspected fake member.</p>')
        + f'<p class="note">{fmt_int(t.get("suspects"))} suspected of {fmt_int(t.get("listed"))} registered members; '
        f"every one with its reasons in <code>groupscope export fake-members --period {esc(d.period)}</code>.</p>"
    )
    return _section("padding", "Padded groups: suspected fake members", body)


def _potential(d) -> str:
    t = d.totals
    body = (
        f"<p>{fmt_int(t.get('onnet_unregistered'))} of our own subscribers look like employees of a group without "
        f"being registered, and about {fmt_num(t.get('offnet'), 0)} employees use another carrier.</p>"
        '<div class="row">' + stacked_groups(d.potential_groups, "potential", "Groups with most potential members")
        + "<div style='flex:1 1 420px'>"
        + (table(["group", "account manager", "on-net", "off-net", "total"],
                 [(g["group_name"] or g["group_id"], g["account_manager_id"], fmt_int(g["onnet"]), fmt_int(g["offnet"]),
                   fmt_int(g["total"])) for g in d.potential_groups]) if d.potential_groups else "")
        + "</div></div>"
    )
    return _section("potential", "Potential members", body)


def _market(d) -> str:
    rows = [(r["period"], fmt_int(r["groups"]), fmt_pct(r["overall_share"]), fmt_pct(r["mean_share"]),
             fmt_int(r["gained"]) if r.get("compared") else "", fmt_int(r["lost"]) if r.get("compared") else "")
            for r in d.market_trend]
    body = (
        '<p class="note">Market share of a group: our subscribers among its estimated employees (real members, '
        "unregistered on-net employees, and off-net employees detected in the call graph times the survey-calibrated "
        "correction coefficient).</p>"
        '<div class="row">'
        + histogram(d.market_share, "market_share", "Market share of groups", "market share")
        + trend(d.market_trend, "market_trend", "Market share month over month")
        + "</div>"
        + table(["period", "groups", "share of all employees", "mean share", "groups gaining > 0.5 pt",
                 "groups losing > 0.5 pt"], rows)
        + ('<p class="note">Only one month is loaded: the trend starts with the next month.</p>'
           if len(d.market_trend) < 2 else "")
        + _calibration(d.calibration)
    )
    return _section("market", "Market share", body)


def _calibration(cal: list[dict]) -> str:
    """The month's correction coefficients per scope, with what the run warns about: an uncalibrated
    method, surveys left out as implausible."""
    if not cal:
        return ""

    def coef(c, loo) -> str:
        if c is None:
            return "uncalibrated"
        return f"{c:.2f}" + (f" (leave-one-out {loo:.1f} pt)" if loo is not None else "")

    rows = [(r["scope"], fmt_int(r["surveys"]), fmt_int(r["surveys_excluded"] or 0), coef(r["coefficient"], r["loo_mae_pp"]),
             coef(r["rule_coefficient"], r["rule_loo_mae_pp"])) for r in cal]
    glob = next((r for r in cal if r["scope"] == "global"), cal[0])
    notes = []
    if glob["status"] != "calibrated":
        text = uncalibrated_text(glob["status"], glob["surveys"])
        notes.append(text[0].upper() + text[1:] + ".")
    if glob["surveys_excluded"]:
        notes.append(f"{fmt_int(glob['surveys_excluded'])} survey(s) left out as implausible (a headcount the group's "
                     "calls cannot belong to, analytics.survey_max_ratio); the run's log names them: have them corrected.")
    return (
        "<h3>Correction coefficients</h3>"
        + "".join(f'<p class="warn">{esc(n)}</p>' for n in notes)
        + table(["scope", "surveys used", "surveys left out", "score-based", "10 % rule"], rows)
    )


def _value(d) -> str:
    body = (
        '<p class="note">Value scores 0-100 from AHP-weighted indicators (current: revenue, real size, purity, '
        "spread; potential: headroom, growth, share gap). Important = high current and high potential value.</p>"
        '<div class="row">' + pyramid(d.pyramid, "pyramid", "Value pyramid of groups")
        + grid_2x2(d.grid, "grid", "Current x potential value (groups)") + "</div>"
    )
    return _section("value", "Value", body)


# The campaign view's columns as the report shows them: heading and format (rates as `groupscope campaign
# evaluate` prints them: a percentage; ROI with two decimals; money in yuan); other columns as they are.
CAMPAIGN_FORMATS = {
    "campaign_id": ("campaign", str), "campaign_name": ("name", str), "period": ("month", str),
    "status": ("status", str), "level_key": ("account manager", str), "evaluated_through": ("bills through", str),
    "targets": ("targets", fmt_int), "contacted": ("contacted", fmt_int), "converted": ("converted", fmt_int),
    "conversion_rate": ("conversion", fmt_pct), "billed_rate": ("billed", fmt_pct),
    "revenue": ("revenue (yuan)", fmt_num), "cost": ("cost (yuan)", fmt_num), "roi": ("ROI", fmt_num),
    "uplift": ("uplift over hold-out", fmt_pct),
}


def _campaign_table(columns: list[str], rows: list[list], cls: str = "") -> str:
    def cell(col, v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        fmt = CAMPAIGN_FORMATS.get(col, (col, lambda x: fmt_num(x) if isinstance(x, float) else x))[1]
        return fmt(v)

    return table([CAMPAIGN_FORMATS.get(c, (c,))[0] for c in columns],
                 [[cell(c, v) for c, v in zip(columns, r)] for r in rows], cls)


def _campaigns(d) -> str:
    c = d.campaigns
    if c is None:
        return ""
    if not c["rows"]:
        return _section("campaigns", "Campaign results", '<p class="note">No campaign has results yet.</p>')
    body = _campaign_table(c["columns"], c["rows"], "campaigns")
    if c["total"] > len(c["rows"]):
        body += f'<p class="note">First {len(c["rows"])} of {c["total"]} rows.</p>'
    if c.get("am_rows"):
        body += ("<details><summary>Per account manager</summary>"
                 + _campaign_table(c["am_columns"], c["am_rows"]) + "</details>")
    return _section("campaigns", "Campaign results", body)


def _who_to_call(d) -> str:
    if not d.account_managers:
        return _section("calls", "Who to call", no_data("calls", "account managers"))
    summary = table(
        ["account manager", "region", "groups", "suspected fake", "verify", "register (on-net)", "win over (off-net)",
         "most padded group"],
        [(f"{a['name'] or ''} ({a['id']})", a["region"], fmt_int(a["groups"]), fmt_int(a["suspects"]),
          fmt_int(a["verify"]), fmt_int(a["register"]), fmt_int(a["win"]),
          (f"{a['worst_group']['group_name'] or a['worst_group']['group_id']}: {a['worst_group']['suspect_members']} "
           f"suspected, purity {fmt_pct(a['worst_group']['purity'])}") if a["worst_group"] else "")
         for a in d.account_managers],
        "ams",
    )
    parts = [
        '<p class="note">Verify: ask the group whether the member works there (likely fake). Register: our subscriber '
        "calls colleagues but is not in the group. Win over: a competitor's user in contact with many members. "
        f"Numbers are masked here; each account manager's full list is "
        f"<code>groupscope export worklist --period {esc(d.period)} --account-manager ID --out FILE.csv</code>.</p>",
        summary,
    ]
    parts.append('<p class="note">Each account manager\'s first calls, most likely first (score, then members '
                 "in contact); click a name to open the list.</p>")
    for i, a in enumerate(d.account_managers):
        calls = table(["group", "action", "number", "score", "members in contact", "why"],
                      [(c["group_name"] or c["group_id"], c["action"], c["number_masked"], fmt_num(c["score"], 2),
                        fmt_int(c.get("members_contacted")), c["detail"]) for c in a["calls"]], "calls")
        parts.append(
            f'<details class="am" data-am="{esc(a["id"])}"{" open" if i == 0 else ""}><summary>{esc(a["name"] or "")} '
            f"({esc(a['id'])}): first {len(a['calls'])} of {fmt_int(a['verify'] + a['register'] + a['win'])} calls"
            f"</summary>{calls}</details>"
        )
    return _section("calls", "Who to call, per account manager", "".join(parts))


def render_report(d) -> str:
    """The whole HTML document for a `pipelines.report.ReportData`."""
    sections = [
        _padding(d), _who_to_call(d), _potential(d), _market(d), _value(d), _campaigns(d), _quality(d), _checks(d),
    ]
    nav_items = [("padding", "Padded groups"), ("calls", "Who to call"), ("potential", "Potential members"),
                 ("market", "Market share"), ("value", "Value")]
    if d.campaigns is not None:
        nav_items.append(("campaigns", "Campaigns"))
    nav_items += [("accounting", "Row accounting"), ("quality", "Data quality")]
    nav = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t in nav_items)
    months = ", ".join(d.periods_loaded)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>groupscope report {esc(d.period)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>groupscope: group customers, {esc(d.period)}</h1>"
        f"<p>Generated {esc(d.generated_at)} from {esc(d.database)}; months loaded: {esc(months)}</p></header>"
        f"<nav>{nav}</nav><main>{_cards(d)}{''.join(sections)}</main></body></html>\n"
    )
