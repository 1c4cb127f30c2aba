"""The `groupscope` command line: generate a synthetic operator, run a month, export the lists, evaluate
against a generator's ground truth, manage the reporting database, print the configuration.
Input tables and output lists: docs/contract.md. Exit status: 0 done, 2 a user or data error (one line
on stderr naming what to fix), 1 an unexpected failure (rerun with -v for the traceback), 130 interrupted."""

from __future__ import annotations

import argparse
import sys

from groupscope.config import ConfigError, defaults_yaml

# Exit statuses (README "Exit status"): one place, used by main() and the tests.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """A wrong argument found after parsing; str(e) is the one-line reason (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `groupscope run: --period: period must be YYYY-MM, got '2026-9'`."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _period(text: str) -> str:
    from groupscope.period import Period

    try:
        Period.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"period must be YYYY-MM, got {text!r}") from None
    return text


def _months(text: str) -> str:
    """A comma-separated list of distinct YYYY-MM months in calendar order (kept as the text generate reads)."""
    months = [m.strip() for m in text.split(",") if m.strip()]
    if not months:
        raise argparse.ArgumentTypeError("expected a comma-separated list of YYYY-MM months")
    for m in months:
        _period(m)
    if sorted(set(months)) != months:
        raise argparse.ArgumentTypeError(f"months must be distinct and in calendar order, got {text!r}")
    return ",".join(months)


def _number(text: str, parse, ok, expected: str):
    """An argparse type: `text` parsed by `parse` (int or float) and accepted when `ok(value)`."""
    try:
        v = parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'a whole number' if parse is int else 'a number'}, got {text!r}"
        ) from None
    if not ok(v):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return v


def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "a positive number")


def _positive_float(text: str) -> float:
    return _number(text, float, lambda v: v > 0, "a positive number")


def _non_negative(text: str) -> float:
    return _number(text, float, lambda v: v >= 0, "a number >= 0")


def _share(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v <= 1, "a share between 0 and 1")


def _floats2(text: str) -> tuple[float, float]:
    parts = [_share(x) for x in text.split(",")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or parts[0] > parts[1]:
        raise argparse.ArgumentTypeError(f"expected LO,HI with LO <= HI, got {text!r}")
    return parts[0], parts[1]


def _add_output_options(p: argparse.ArgumentParser, top: bool) -> None:
    """-v / -q / --log-json, accepted before or after the subcommand."""
    d = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("-v", "--verbose", action="count", help="more detail (-vv: also libraries' debug output)",
                   **({"default": 0} if top else d))
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings, errors and the final result", **d)
    p.add_argument("--log-json", action="store_true",
                   help="log records as JSON lines on stderr (also GROUPSCOPE_LOG_FORMAT=json)", **d)


def _add_variety_flags(g: argparse.ArgumentParser) -> None:
    """A real operator's variety (groupscope.synth.params): each flag defaults to SynthParams' default."""
    v = g.add_argument_group("a real operator's variety (defaults: SynthParams; --tidy switches all of it off)")
    v.add_argument("--tidy", action="store_true", help="no field staff, data lines, messaging users, tiny groups or holidays")
    v.add_argument("--field-staff", type=_non_negative, help="factor on each industry's share of field staff (0: none; default 1)")
    v.add_argument("--data-lines", type=_floats2, help="LO,HI share of a group's lines that are data cards / IoT SIMs")
    v.add_argument("--messaging-share", type=_share, help="share of employees who rarely phone colleagues (default 0.25)")
    v.add_argument("--tiny-groups", type=_share, help="probability a small business is a group of 1-3 lines (default 0.45)")
    v.add_argument("--holidays", choices=["national", "none"], help="national calendar with make-up days (default) or Mon-Fri")
    v.add_argument("--churn", type=_share, help="monthly share of home lines closed (default 0.006)")
    v.add_argument("--activations", type=_share, help="monthly share of home lines newly activated (default 0.006)")
    v.add_argument("--churn-free-months", type=_share, help="probability a month has no closure at all (default 0.15)")
    v.add_argument("--survey-error", type=_non_negative, help="relative error (sd) of surveyed headcounts (default 0.15)")
    v.add_argument("--survey-share", type=_share, help="share of active groups surveyed a month (default 0.12)")
    v.add_argument("--ports", type=_non_negative, help="factor on number-porting rates (0: no ports; default 1)")
    v.add_argument("--offnet-people", type=_non_negative, help="off-net people outside the companies per subscriber (default 0.7)")
    v.add_argument("--max-groups", type=_positive_int, help="at most this many registered groups")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="groupscope", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_output_options(ap, top=True)
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("generate", help="write a synthetic operator's landing zone and its ground truth")
    g.add_argument("--out", required=True, help="LANDING folder to (re)create")
    g.add_argument("--truth", help="ground-truth folder (default: LANDING_truth beside LANDING)")
    g.add_argument("--months", required=True, type=_months, help="comma-separated YYYY-MM list, in calendar order")
    g.add_argument("--subscribers", type=_positive_int, default=20_000, help="home-carrier subscribers (at least 200)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--faults", action="store_true", help="inject malformed rows (quarantined) and files; "
                   "the file faults block `run` by default: see docs/faults.example.yaml")
    g.add_argument("--fault-kinds", help="comma-separated subset of fault kinds (default: all)")
    g.add_argument("--offnet-share", type=_floats2, default=(0.30, 0.60), help="LO,HI share of employees off-net")
    g.add_argument("--fake-share", type=_floats2, default=(0.05, 0.15), help="LO,HI share of fake members")
    g.add_argument("--activity", type=_positive_float, default=1.0, help="calling-rate multiplier (> 0)")
    g.add_argument("--gbk-sources", help="comma-separated tables written in GBK "
                   "(run them with sources.encodings.TABLE: gbk in the config)")
    g.add_argument("--cdr-format", default="mixed", choices=["mixed", "csv", "csv.gz", "parquet"])
    _add_variety_flags(g)

    r = sub.add_parser("run", help="the whole monthly pipeline for one period")
    r.add_argument("--landing", required=True, help="LANDING folder")
    r.add_argument("--period", required=True, type=_period, help="YYYY-MM")
    r.add_argument("--config", help="YAML config file (default: $GROUPSCOPE_CONFIG or ./groupscope.yaml)")
    r.add_argument("--work-dir", help="override work_dir from the config")
    r.add_argument("--db", help="SQLAlchemy URL of the reporting database (default: embedded DuckDB in work_dir)")

    v = sub.add_parser("evaluate", help="compare a period's results with a generator's ground truth")
    v.add_argument("--truth", required=True, help="ground-truth folder written by generate")
    v.add_argument("--period", required=True, type=_period, help="YYYY-MM: the month to evaluate (run it first)")
    v.add_argument("--config", help="YAML config file (default: $GROUPSCOPE_CONFIG or ./groupscope.yaml)")
    v.add_argument("--work-dir", help="override work_dir from the config")
    v.add_argument("--strict", action="store_true", help="exit 1 when a measure misses its bar")

    e = sub.add_parser("export", help="write one of the downloadable lists")
    e.add_argument(
        "list", choices=["fake-members", "potential-members", "group-summary", "quarantine", "prospect-groups", "worklist"]
    )
    e.add_argument("--period", required=True, type=_period, help="YYYY-MM: the month whose list to write (run it first)")
    e.add_argument(
        "--out", required=True,
        help="CSV file to write; for worklist without --account-manager, a folder of one file per account manager",
    )
    e.add_argument("--account-manager", help="worklist: only this account manager's groups, into the file --out")
    e.add_argument("--config", help="YAML config file (default: $GROUPSCOPE_CONFIG or ./groupscope.yaml)")
    e.add_argument("--work-dir", help="override work_dir from the config")
    e.add_argument("--db", help="SQLAlchemy URL of the reporting database (default: embedded DuckDB in work_dir)")

    d = sub.add_parser("db", help="reporting database: migrate, set up the BI and account-manager roles")
    d.add_argument("action", choices=["upgrade", "grant", "add-account-manager"],
                   help="upgrade: apply migrations; grant: create the read-only BI role and the account-manager "
                   "role with row-level security (PostgreSQL); add-account-manager: let --role act for --account-manager")
    d.add_argument("--role", help="database role of an account manager (add-account-manager)")
    d.add_argument("--account-manager", help="account_manager_id (add-account-manager)")
    d.add_argument("--config")
    d.add_argument("--work-dir")
    d.add_argument("--db", help="SQLAlchemy URL of the reporting database (default: embedded DuckDB in work_dir)")

    b = sub.add_parser("bench", help="time the whole month on a generated operator, and the pair edge build against peers")
    b.add_argument("--subscribers", type=int, default=120_000, help="size of the operator (120000: about 10M CDR rows of a month, 1500000: about 100M)")
    b.add_argument("--period", type=_period, default="2026-10")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--cdr-format", default="parquet", choices=["mixed", "csv", "csv.gz", "parquet"])
    b.add_argument("--cache", default="bench_cache", help="folder of generated operators (reused) and work folders")
    b.add_argument("--out", default="bench.json", help="JSON file of every figure")
    b.add_argument("--peers", default="duckdb,polars,pandas", help="comma-separated peers of the edge build")
    b.add_argument("--readme", help="rewrite this README's performance section from the results")
    b.add_argument("--from-json", help="do not measure: render --readme from this earlier JSON (or several, comma-separated)")
    b.add_argument("--config", help="YAML config file (engine, memory limit)")

    _campaign_parsers(sub)

    c = sub.add_parser("config", help="print every configuration key with its default and meaning")
    c.add_argument("--check", help="validate this config file and exit")
    for p in sub.choices.values():  # every subcommand, also those added above by other sections
        _add_output_options(p, top=False)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # the command line as given, for records
    from groupscope import console

    verbosity = -1 if args.quiet else min(args.verbose, 2)
    console.setup_logging(verbosity, json_lines=args.log_json or None)
    log = console.get_logger("cli")
    import time

    t0 = time.perf_counter()
    try:
        rc = _dispatch(args)
    except KeyboardInterrupt:
        print(f"groupscope {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if rc == EXIT_OK and args.command != "config":
        log.info("groupscope %s: done in %.1f s", args.command, time.perf_counter() - t0,
                 extra={"command": args.command, "seconds": round(time.perf_counter() - t0, 3), "status": rc})
    return rc


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's or the data's problem: one line, exit status 2."""
    from groupscope.errors import StopRun
    from groupscope.reporting.db import ReportingDbError

    return (ConfigError, StopRun, ValueError, ReportingDbError, FileNotFoundError, FileExistsError, PermissionError,
            NotADirectoryError, IsADirectoryError)


def check_out(path: str | None, option: str, folder: bool = False) -> None:
    """A path a command will write (a file, or with `folder` a folder it creates): UsageError (one line, exit
    2) before any work when it cannot be, e.g. under an existing file or a file where a folder is named."""
    import os
    from pathlib import Path

    if path is None:
        return
    p = Path(path)
    want = "folder" if folder else "file"
    if p.exists() and p.is_dir() != folder:
        raise UsageError(f"{option} {path}: {'a file' if folder else 'a folder'} is there, expected a {want}")
    above = p if folder else p.parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if above.exists() and not above.is_dir():
        raise UsageError(f"{option} {path}: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: no permission to write in {above}")


def _check_outputs(args) -> None:
    """Every output path of the command line, checked before any work."""
    cmd, action = args.command, getattr(args, "action", None)
    if cmd == "generate":
        check_out(args.out, "--out", folder=True)
        check_out(args.truth, "--truth", folder=True)
    elif cmd == "export":
        check_out(args.out, "--out", folder=args.list == "worklist" and args.account_manager is None)
    elif cmd == "bench":
        check_out(args.out, "--out")
        check_out(args.cache, "--cache", folder=True)
    elif cmd == "campaign" and action == "assign":
        check_out(args.out, "--out", folder=True)
    elif cmd == "campaign" and action == "show":
        check_out(args.targets_out, "--targets-out")


def _dispatch(args) -> int:
    try:
        _check_outputs(args)
        if args.command == "generate":
            from groupscope.synth.generate import main_generate

            return main_generate(args)
        if args.command == "run":
            from groupscope.config import load_config
            from pipelines.run import run_period

            cfg = load_config(args.config, work_dir=args.work_dir)
            summary = run_period(cfg, args.landing, args.period, args.db)
            print(summary.splitlines()[-1] if args.quiet else summary)
            return 0
        if args.command == "evaluate":
            from groupscope.config import load_config
            from pipelines.evaluate import evaluate, misses, report

            cfg = load_config(args.config, work_dir=args.work_dir)
            m = evaluate(cfg, args.truth, args.period)
            print(report(m))
            missed = misses(m)
            if missed:
                print(f"{len(missed)} measure(s) miss their bar: {'; '.join(missed)}", file=sys.stderr)
            return EXIT_FAILURE if args.strict and missed else EXIT_OK
        if args.command == "export":
            from groupscope.config import load_config
            from pipelines.export import export_list, export_worklists

            cfg = load_config(args.config, work_dir=args.work_dir)
            if args.list == "worklist" and args.account_manager is None:
                files = export_worklists(cfg, args.period, args.out, args.db)
                print(f"wrote {len(files)} worklists ({sum(files.values())} rows) to {args.out}")
                return 0
            if args.account_manager is not None and args.list != "worklist":
                raise UsageError("--account-manager applies to the worklist only")
            n = export_list(cfg, args.list, args.period, args.out, args.db, args.account_manager)
            print(f"wrote {n} rows to {args.out}")
            return 0
        if args.command == "db":
            from groupscope.config import load_config
            from groupscope.reporting import db

            cfg = load_config(args.config, work_dir=args.work_dir)
            eng = db.make_engine(cfg, args.db)
            db.upgrade(eng, cfg)
            if args.action == "grant":
                db.grant_access(eng, cfg)
                print(f"roles {cfg.reporting.bi_role} (all rows) and {cfg.reporting.am_role} (own groups) "
                      f"can read schema {cfg.reporting.schema_name}; row-level security on")
            elif args.action == "add-account-manager":
                if not args.role or not args.account_manager:
                    raise ValueError("add-account-manager needs --role and --account-manager")
                db.add_account_manager_role(eng, cfg, args.role, args.account_manager)
                print(f"role {args.role} sees the groups of account manager {args.account_manager}")
            else:
                print(f"reporting schema at revision {db.current_revision(eng, cfg)}")
            return 0
        if args.command == "bench":
            import json
            import shlex
            from pathlib import Path

            from groupscope.errors import StopRun
            from pipelines import bench

            if args.subscribers < 200:
                raise ValueError("--subscribers must be at least 200")
            if args.from_json:  # one JSON, or several separated by commas (e.g. the 10M and the 100M run)
                r = [json.loads(Path(f).read_text()) for f in args.from_json.split(",") if f]
                r = r[0] if len(r) == 1 else r
            else:
                unknown = set(args.peers.split(",")) - set(bench.PEERS) - {""}
                if unknown:
                    raise ValueError(f"unknown peer(s) {', '.join(sorted(unknown))}; known: {', '.join(bench.PEERS)}")
                try:
                    r = bench.bench(
                        args.subscribers, Path(args.cache), Path(args.out), args.period, args.seed, args.cdr_format,
                        args.config, tuple(p for p in args.peers.split(",") if p),
                        command="groupscope " + " ".join(shlex.quote(a) for a in args.argv),
                    )
                except bench.ChildFailed as e:  # the month itself failed (e.g. out of memory): one line, exit 2
                    raise StopRun(f"the measured month did not finish: {e}") from None
            for x in r if isinstance(r, list) else [r]:
                print(bench.text_report(x))
            if args.readme:
                bench.update_readme(Path(args.readme), r)
                print(f"performance section of {args.readme} rewritten")
            return 0
        if args.command in ("campaign", "generate-feedback"):
            return _run_campaign(args)
        if args.command == "config":
            if args.check:
                from groupscope.config import load_config

                load_config(args.check)
                print(f"{args.check}: valid")
                return 0
            sys.stdout.write(defaults_yaml())
            return 0
    except _user_errors() as e:
        print(f"groupscope {args.command}: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a bug or an environment failure: one line, traceback with -v
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"groupscope {args.command}: unexpected {type(e).__name__}: {_one_line(e)} (rerun with -v for the "
              "traceback)", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_FAILURE


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) if str(e) else type(e).__name__
    if isinstance(e, OSError) and e.filename and str(e.filename) not in text:
        text = f"{e.strerror or text}: {e.filename}"
    return text


def _campaign_parsers(sub) -> None:
    """`groupscope campaign create|select|assign|feedback|evaluate|list|show` and `generate-feedback`."""
    from transforms.campaigns import CRITERIA

    def common(p):
        p.add_argument("--config")
        p.add_argument("--work-dir")
        p.add_argument("--db", help="SQLAlchemy URL of the reporting database (default: embedded DuckDB in work_dir)")

    cp = sub.add_parser("campaign", help="win-over (策反) campaigns: create, select, assign, feedback, evaluate")
    cs = cp.add_subparsers(dest="action", required=True)
    c = cs.add_parser("create", help="create a campaign on a period's potential-member results")
    c.add_argument("--name", required=True)
    c.add_argument("--period", required=True, type=_period, help="YYYY-MM whose results to select from")
    c.add_argument("--criterion", action="append", default=[], metavar="KEY=VALUE",
                   help="selection criterion, repeatable; keys: "
                   + "; ".join(f"{k}: {v[1]}" for k, v in CRITERIA.items()).replace("%", "%%"))
    c.add_argument("--offer-cost", required=True, type=float, help="cost per approached target, yuan")
    c.add_argument("--budget", required=True, type=float, help="budget for approached targets, yuan")
    c.add_argument("--capacity", required=True, type=int, help="targets one account manager can work")
    c.add_argument("--holdout", type=float, default=0.1, help="share of targets held out to measure uplift (0..0.5)")
    c.add_argument("--seed", type=int, default=1, help="seed of tie-breaks and of the hold-out draw")
    c.add_argument("--id", help="campaign id (default CMP-<period>-NNN)")
    common(c)
    for name, text in (("select", "select the campaign's targets"), ("assign", "assign targets, write worklists")):
        a = cs.add_parser(name, help=text)
        a.add_argument("campaign_id")
        if name == "assign":
            a.add_argument("--out", help="folder of the worklists (default work_dir/exports/campaigns/ID)")
        common(a)
    f = cs.add_parser("feedback", help="take a month's campaign_feedback from the landing zone")
    f.add_argument("--landing", required=True)
    f.add_argument("--period", required=True, type=_period)
    common(f)
    e = cs.add_parser("evaluate", help="evaluate a campaign (or --all) with the following months' bills")
    e.add_argument("campaign_id", nargs="?")
    e.add_argument("--all", action="store_true", help="every approached campaign with a later month loaded")
    e.add_argument("--through", type=_period, help="last month of bills to count (default: latest loaded)")
    e.add_argument("--tranches", type=int, default=5, help="tranches of targets by rank (marginal efficiency)")
    common(e)
    lst = cs.add_parser("list", help="list campaigns")
    common(lst)
    s = cs.add_parser("show", help="a campaign's settings, cut-off, assignment, feedback and evaluation")
    s.add_argument("campaign_id")
    s.add_argument("--targets-out", help="also write every target (hold-out included, clear numbers) to this CSV")
    common(s)

    g = sub.add_parser("generate-feedback", help="synthetic operator: simulate a campaign's outcome from the truth "
                       "(feedback, ports, subscribers and bills of the converted numbers)")
    g.add_argument("--landing", required=True, help="LANDING written by generate")
    g.add_argument("--truth", help="ground-truth folder (default: LANDING_truth beside LANDING)")
    g.add_argument("--targets", required=True, help="targets CSV from: groupscope campaign show ID --targets-out FILE")
    g.add_argument("--months", required=True, type=_months, help="comma-separated months after the campaign's: the first gets "
                   "the feedback, every one the new subscribers' bills")
    g.add_argument("--seed", type=int, default=1)


def _run_campaign(args) -> int:
    if args.command == "generate-feedback":
        from groupscope.synth.campaigns import simulate_campaign

        months = [x.strip() for x in args.months.split(",") if x.strip()]
        print(simulate_campaign(args.landing, args.targets, months, args.truth, args.seed).text())
        return 0
    from groupscope.config import load_config
    from pipelines import campaigns as pc

    cfg = load_config(args.config, work_dir=args.work_dir)
    if args.action == "create":
        cid = pc.create_campaign(cfg, args.name, args.period, args.criterion, args.offer_cost, args.budget,
                                 args.capacity, args.holdout, args.seed, args.id, args.db)
        print(cid)
    elif args.action == "select":
        r = pc.select_campaign(cfg, args.campaign_id, args.db)
        print(f"campaign {r['campaign_id']}: {r['targets']} targets ({r['holdout']} hold-out) of {r['candidates']} "
              f"candidates ({r['excluded_recent']} numbers of recent campaigns left out); cut-off at rank "
              f"{r['cutoff_rank']} by {r['cutoff_reason']}")
    elif args.action == "assign":
        r = pc.assign_campaign(cfg, args.campaign_id, args.out, args.db)
        print(f"campaign {r['campaign_id']}: {r['owner']} targets to their group's owner, {r['balanced']} balanced, "
              f"{r['unassigned']} unassigned; {r['files']} worklists in {r['worklists']}")
    elif args.action == "feedback":
        r = pc.feedback_campaigns(cfg, args.landing, args.period, args.db)
        print(f"period {r['period']}: {r['read']} feedback rows, {r['applied']} applied, {r['quarantined']} quarantined "
              f"({r['quarantined_contract']} by the contract checks, {r['quarantined_references']} by the campaign "
              f"check); campaigns {', '.join(r['campaigns']) or 'none'}")
    elif args.action == "evaluate":
        if args.all == (args.campaign_id is not None):
            raise ValueError("give a campaign id or --all")
        if args.all:
            done = pc.evaluate_all(cfg, args.db, args.tranches)
            print("\n".join(f"{k}: evaluated through {v}" for k, v in done.items()) or "no campaign to evaluate")
        else:
            ev = pc.evaluate_campaign(cfg, args.campaign_id, args.through, args.tranches, args.db)
            print(f"campaign {args.campaign_id}, bills through {ev['evaluated_through'].iloc[0]}")
            print(pc.evaluation_text(ev))
            for path in ev.attrs.get("reports", []):
                print(f"report updated: {path}")
    elif args.action == "list":
        rows = pc.list_campaigns(cfg, args.db)
        for r in rows:
            print(f"{r['campaign_id']:<20}{r['period']:<9}{r['status']:<11}{r['targets'] or 0:>7} targets  {r['name']}")
        if not rows:
            print("no campaigns")
    elif args.action == "show":
        print(pc.show_campaign(cfg, args.campaign_id, args.db))
        if args.targets_out:
            n = pc.export_targets(cfg, args.campaign_id, args.targets_out, args.db)
            print(f"wrote {n} targets to {args.targets_out}")
    return 0


def entry() -> None:
    """Console entry point. Ends the process without interpreter teardown: with Great Expectations and
    the DuckDB SQLAlchemy driver both loaded, DuckDB's bindings print spurious leak reports at teardown
    (nothing is lost: output is flushed and every database connection is closed by then)."""
    import logging
    import os

    rc = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


if __name__ == "__main__":
    entry()
