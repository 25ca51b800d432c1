"""``protect``: the command-line entry point. Each verb is a thin layer over a module."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from engine import __version__
from engine.errors import ProtectError


def _settings(args: argparse.Namespace, detection: bool = True, **extra):
    """Settings from ``--config``, the environment and the flags; with ``detection``, the
    ``[indicators]`` section is checked against the rule registry too (loads numba)."""
    from engine.config import Settings

    flags = {
        "bootstrap": getattr(args, "bootstrap", None),
        "web_port": getattr(args, "web_port", None),
        "web_host": getattr(args, "web_host", None),
        "analyst_port": getattr(args, "analyst_port", None),
        "checkpoint_dir": getattr(args, "checkpoint_dir", None),
        "partitions": getattr(args, "partitions", None),
        "group_id": getattr(args, "group_id", None),
        "log_level": getattr(args, "log_level", None),
        "reference_file": getattr(args, "reference", None),
        **extra,
    }
    settings = Settings.load(getattr(args, "config", None), **flags)
    if not detection:
        return settings
    # Detection makes case ids and identifier digests: keyed from here on (warns without a key).
    from engine import pseudonyms

    pseudonyms.configure(settings.pseudonym_key.reveal())
    return settings.check_detection()


def cmd_broker(args: argparse.Namespace) -> int:
    from engine.stream.broker import start_broker

    process = start_broker(args.port)
    print(
        f"embedded Kafka-protocol broker (Tansu) on 127.0.0.1:{args.port}; "
        "Ctrl-C or SIGTERM stops it"
    )
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()


def cmd_generate(args: argparse.Namespace) -> int:
    from engine.synthetic import generate

    summary = generate(
        Path(args.out),
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        progress=not args.quiet,
    )
    print(summary)
    if args.format == "parquet":  # the generator streams JSONL; convert, streaming again
        from engine.tools.backtest import write_parquet

        for kind in ("transactions", "profiles"):
            jsonl = summary.paths[kind]
            write_parquet(jsonl, jsonl.with_suffix(".parquet"), kind)
            jsonl.unlink()
            print(f"{kind}: {jsonl.with_suffix('.parquet')}")
    return 0


def cmd_produce(args: argparse.Namespace) -> int:
    from engine.tools.produce import produce

    sent = produce(
        _settings(args, detection=False),
        [Path(p) for p in args.files],
        topic=args.topic,
        progress=not args.quiet,
    )
    print(", ".join(f"{n:,} to {t}" for t, n in sent.items()))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from engine.tools.worker import run_worker

    # Until Faust installs its own handlers, SIGTERM means a clean exit (nothing consumed yet).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = _settings(args)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    run_worker(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.tools.demo import run_demo

    return run_demo(
        Path(args.out),
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        bootstrap=args.bootstrap,
    )


def cmd_backtest(args: argparse.Namespace) -> int:
    import time

    from engine.tools.backtest import backtest, write_alerts

    settings = _settings(args)
    started = time.perf_counter()
    result, _ = backtest(
        Path(args.transactions),
        Path(args.profiles) if args.profiles else None,
        settings,
        chunk=args.chunk,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - started
    out = Path(args.out)
    write_alerts(result.alerts, out)
    print(
        f"{result.transactions:,} transactions in {seconds:,.1f}s "
        f"({result.transactions / max(seconds, 1e-9):,.0f}/s), "
        f"{len(result.dead):,} dead letters, {len(result.alerts):,} alerts for "
        f"{len({a.customer_id for a in result.alerts}):,} customers → {out}"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.tools.evaluate import (
        evaluate,
        format_report,
        read_alerts,
        read_labels,
        write_report,
    )

    report = evaluate(
        read_labels(Path(args.labels)),
        read_alerts(Path(args.alerts)),
        prevalence=1 / args.prevalence,
        days=args.days,
    )
    print(format_report(report))
    if args.out:
        json_path, html_path = write_report(report, Path(args.out))
        print(f"\nreport: {json_path}\n        {html_path}")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from engine.tools.tune import run_tune

    return run_tune(args, _settings(args))


def cmd_export(args: argparse.Namespace) -> int:
    import asyncio

    from engine.cases.disclosure import export
    from engine.private_files import write_private
    from engine.stream.case_reader import latest_package

    settings = _settings(args, detection=False)
    package = asyncio.run(latest_package(settings, args.case_id, timeout=args.timeout))
    if package is None:
        raise ProtectError(
            f"no package for {args.case_id} on topic {settings.disclosures_topic!r} "
            f"at {settings.bootstrap}"
        )
    data = export(package, args.format)
    write_private(args.out, data)  # the report names the subject
    print(
        f"{args.case_id} version {package['version']} ({package['status']}): {args.format} report, "
        f"{len(data):,} bytes, validated → {args.out}"
    )
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    import time

    from engine import pseudonyms
    from engine.tools.offline_cases import assemble, read_alerts, read_profiles, run, summary

    # case ids are keyed pseudonyms: the same key as the workers gives the same ids
    pseudonyms.configure(_settings(args, detection=False).pseudonym_key.reveal())
    started = time.perf_counter()
    profiles = read_profiles(Path(args.profiles))
    assembly = assemble(read_alerts(Path(args.alerts)), profiles)
    out = Path(args.out) if args.out else None
    report = run(assembly, profiles, out, args.validate, progress=not args.quiet)
    print(summary(assembly, report, args.validate))
    print(f"{time.perf_counter() - started:,.1f}s" + (f", written to {out}" if out else ""))
    return 0 if report.ok else 1


def cmd_analyst_hash(args: argparse.Namespace) -> int:
    """Print an ``analysts`` entry; the password is read from the terminal (asked twice)
    or from stdin's first line, never from the command line (shell history, ps)."""
    import getpass

    from engine.analysts import hash_entry

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ProtectError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    print(hash_entry(args.name, password))  # ConfigError (a ProtectError) if too weak
    return 0


def cmd_indicators(args: argparse.Namespace) -> int:
    from indicators.catalogue import catalogue_markdown, catalogue_text

    print(catalogue_markdown() if args.markdown else catalogue_text(), end="")
    return 0


def _kafka_flags(p: argparse.ArgumentParser, bootstrap_default: str | None = None) -> None:
    p.add_argument(
        "--bootstrap", default=bootstrap_default, help="Kafka HOST:PORT (env PROTECT_BOOTSTRAP)"
    )
    p.add_argument("--config", help="TOML settings file (env PROTECT_CONFIG)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protect",
        description=(
            "Project Protect streaming engine: FINTRAC human-trafficking ML indicators over Kafka."
        ),
    )
    parser.add_argument("--version", action="version", version=f"protect {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("broker", help="run the embedded Kafka-protocol broker in the foreground")
    p.add_argument("--port", type=int, default=9092)
    p.set_defaults(func=cmd_broker)

    p = verbs.add_parser(
        "generate", help="write a synthetic population with planted trafficking rings"
    )
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default="out/data")
    p.add_argument(
        "--format",
        choices=("jsonl", "parquet"),
        default="jsonl",
        help="transactions and profiles as JSONL (default) or Parquet with the contract's columns",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = verbs.add_parser("produce", help="send JSONL files to their topics keyed by customer_id")
    _kafka_flags(p)
    p.add_argument("files", nargs="+", help="transactions*.jsonl / profiles*.jsonl")
    p.add_argument("--topic", help="topic for every file (default: from the file name)")
    p.add_argument("--partitions", type=int, help="partitions for topics created here")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_produce)

    p = verbs.add_parser("worker", help="run the engine (a Faust worker) until SIGTERM")
    _kafka_flags(p)
    p.add_argument("--web-port", type=int, help="port for /metrics and /health (default 6066)")
    p.add_argument("--web-host", help="interface for the web server (default 127.0.0.1)")
    p.add_argument("--analyst-port", type=int, help="port for the analyst view (default 6080)")
    p.add_argument(
        "--checkpoint-dir",
        help="where partition checkpoints are written "
        "(default $XDG_STATE_HOME/protect, else ~/.local/state/protect)",
    )
    p.add_argument("--partitions", type=int, help="partitions for topics the worker creates")
    p.add_argument("--group-id", help="consumer group (default protect-engine)")
    p.add_argument("--reference", help="reference list file replacing shipped lists by name")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    p.set_defaults(func=cmd_worker)

    p = verbs.add_parser("demo", help="broker + synthetic data + engine end to end, with a summary")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default="out/demo")
    p.add_argument("--bootstrap", help="use this Kafka instead of starting the embedded broker")
    p.set_defaults(func=cmd_demo)

    p = verbs.add_parser("backtest", help="run the same detector over JSONL or Parquet files")
    p.add_argument(
        "--transactions", required=True, help="transactions .jsonl or .parquet (contract columns)"
    )
    p.add_argument("--profiles", help="profiles .jsonl or .parquet")
    p.add_argument("--out", required=True, help="alerts JSONL to write")
    p.add_argument("--config", help="TOML settings file (env PROTECT_CONFIG)")
    p.add_argument("--reference", help="reference list file replacing shipped lists by name")
    p.add_argument(
        "--chunk", type=int, default=50_000, help="transactions per batch (default 50,000)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_backtest)

    p = verbs.add_parser(
        "evaluate", help="detection quality of alerts against labels (table, JSON, HTML)"
    )
    p.add_argument(
        "--labels",
        required=True,
        help="labels.csv (customer_id, role, business_model, ring_id, "
        "first_activity, lookalike_type)",
    )
    p.add_argument("--alerts", required=True, help="alerts JSONL (CONTRACT section 4)")
    p.add_argument("--out", help="folder for evaluation.json and evaluation.html")
    p.add_argument(
        "--prevalence",
        type=float,
        default=2000.0,
        help="one ring member per N customers for the implied precision (default 2,000)",
    )
    p.add_argument("--days", type=float, help="days the data covers (adds per-30-day volumes)")
    p.set_defaults(func=cmd_evaluate)

    p = verbs.add_parser(
        "tune", help="sweep settings over labelled data; write the chosen ones as TOML"
    )
    p.add_argument("--transactions", required=True, help="transactions .jsonl or .parquet")
    p.add_argument("--profiles", help="profiles .jsonl or .parquet")
    p.add_argument("--labels", required=True, help="labels.csv")
    p.add_argument(
        "--sweep",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="a setting and its values, repeatable: constellation.score_threshold=6,7,8 · "
        "constellation.weights.PP-16=2,3 · PP-16.min_senders=4,5,6",
    )
    p.add_argument(
        "--mode",
        choices=("grid", "one-at-a-time"),
        default="grid",
        help="grid: every combination (default); one-at-a-time: vary one key, others at base",
    )
    p.add_argument(
        "--max-false-per-10k",
        type=float,
        default=10.0,
        help="choose the highest recall with at most this many falsely alerted customers per "
        "10,000 outside the rings (default 10)",
    )
    p.add_argument("--out", required=True, help="TOML file to write with the chosen settings")
    p.add_argument("--report", help="folder for tune.json (every setting's numbers)")
    p.add_argument("--config", help="base TOML settings (env PROTECT_CONFIG)")
    p.add_argument("--reference", help="reference list file replacing shipped lists by name")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_tune)

    p = verbs.add_parser(
        "export", help="write a case's FINTRAC STR JSON or goAML XML from the disclosures topic"
    )
    _kafka_flags(p)
    p.add_argument("case_id", metavar="CASE_ID", help="e.g. CASE-B152FC5E757AE341")
    p.add_argument("--format", choices=("fintrac", "goaml"), required=True)
    p.add_argument(
        "--out", required=True, help="file to write (validated against the official schema first)"
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to read the topic (default 60)"
    )
    p.set_defaults(func=cmd_export)

    p = verbs.add_parser(
        "cases",
        help="assemble a backtest's alerts into cases and packages, "
        "as the worker does; optionally validate every export",
    )
    p.add_argument("--alerts", required=True, help="alerts JSONL (protect backtest --out)")
    p.add_argument(
        "--profiles", required=True, help="profiles .jsonl or .parquet (protect generate)"
    )
    p.add_argument("--out", help="folder for CASE.package.json, CASE.fintrac.json, CASE.goaml.xml")
    p.add_argument(
        "--validate",
        action="store_true",
        help="validate both exports of every case against the official schemas; "
        "exit 1 if any fails (the list is in OUT/validation.json)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_cases)

    p = verbs.add_parser(
        "analyst-hash",
        help="print an `analysts` entry (NAME:scrypt$...) for a password read from the "
        "terminal or stdin (at least 12 characters)",
    )
    p.add_argument("name", help="the analyst's sign-in name, e.g. j.analyst")
    p.set_defaults(func=cmd_analyst_hash)

    p = verbs.add_parser("indicators", help="list the indicator catalogue (every PP and PK id)")
    p.add_argument(
        "--markdown", action="store_true", help="the analyst's catalogue page (docs/catalogue.md)"
    )
    p.set_defaults(func=cmd_indicators)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ProtectError as exc:
        print(f"protect {args.verb}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
