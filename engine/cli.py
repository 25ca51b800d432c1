"""``protect``: the command-line entry point. Each verb is a thin layer over a module."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from engine import __version__
from engine.errors import ProtectError


def _settings(args: argparse.Namespace, **extra):
    from engine.config import Settings

    flags = {
        "bootstrap": getattr(args, "bootstrap", None),
        "web_port": getattr(args, "web_port", None),
        "web_host": getattr(args, "web_host", None),
        "checkpoint_dir": getattr(args, "checkpoint_dir", None),
        "partitions": getattr(args, "partitions", None),
        "group_id": getattr(args, "group_id", None),
        "log_level": getattr(args, "log_level", None),
        "reference_file": getattr(args, "reference", None),
        **extra,
    }
    return Settings.load(getattr(args, "config", None), **flags)


def cmd_broker(args: argparse.Namespace) -> int:
    from engine.broker import start_broker

    process = start_broker(args.port)
    print(f"embedded Kafka-protocol broker (Tansu) on 127.0.0.1:{args.port}; Ctrl-C or SIGTERM stops it")
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()


def cmd_generate(args: argparse.Namespace) -> int:
    from engine.synthetic import generate

    summary = generate(Path(args.out), customers=args.customers, days=args.days, seed=args.seed,
                       progress=not args.quiet)
    print(summary)
    return 0


def cmd_produce(args: argparse.Namespace) -> int:
    from engine.produce import produce

    sent = produce(_settings(args), [Path(p) for p in args.files], topic=args.topic, progress=not args.quiet)
    print(", ".join(f"{n:,} to {t}" for t, n in sent.items()))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from engine.app import run_worker

    # Until Faust installs its own handlers, SIGTERM means a clean exit (nothing consumed yet).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = _settings(args)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run_worker(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.demo import run_demo

    return run_demo(Path(args.out), customers=args.customers, days=args.days, seed=args.seed,
                    bootstrap=args.bootstrap)


def cmd_backtest(args: argparse.Namespace) -> int:
    from engine.backtest import backtest
    from engine.firehose import encode_alert

    settings = _settings(args)
    result, state = backtest(Path(args.transactions), Path(args.profiles) if args.profiles else None, settings)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as handle:
        for alert in result.alerts:
            handle.write(encode_alert(alert) + b"\n")
    print(f"{result.transactions:,} transactions, {len(result.dead):,} dead letters, "
          f"{len(result.alerts):,} alerts for {len({a.customer_id for a in result.alerts}):,} customers → {out}")
    return 0


def cmd_indicators(args: argparse.Namespace) -> int:
    from indicators.catalogue import catalogue_markdown, catalogue_text

    print(catalogue_markdown() if args.markdown else catalogue_text(), end="")
    return 0


def _kafka_flags(p: argparse.ArgumentParser, bootstrap_default: str | None = None) -> None:
    p.add_argument("--bootstrap", default=bootstrap_default, help="Kafka HOST:PORT (env PROTECT_BOOTSTRAP)")
    p.add_argument("--config", help="TOML settings file (env PROTECT_CONFIG)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="protect", description=(
        "Project Protect streaming engine: FINTRAC human-trafficking ML indicators over Kafka."))
    parser.add_argument("--version", action="version", version=f"protect {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("broker", help="run the embedded Kafka-protocol broker in the foreground")
    p.add_argument("--port", type=int, default=9092)
    p.set_defaults(func=cmd_broker)

    p = verbs.add_parser("generate", help="write a synthetic population with planted trafficking rings")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default="out/data")
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
    p.add_argument("--checkpoint-dir", help="where partition checkpoints are written (default ./state)")
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

    p = verbs.add_parser("backtest", help="run the same detector over JSONL files")
    p.add_argument("--transactions", required=True)
    p.add_argument("--profiles")
    p.add_argument("--out", required=True, help="alerts JSONL to write")
    p.add_argument("--config")
    p.add_argument("--reference")
    p.set_defaults(func=cmd_backtest)

    p = verbs.add_parser("indicators", help="list the indicator catalogue (every PP and PK id)")
    p.add_argument("--markdown", action="store_true", help="the analyst's catalogue page (docs/catalogue.md)")
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
