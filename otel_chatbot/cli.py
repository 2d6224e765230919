"""``otel-chatbot``: the command line, one subcommand per entry of :data:`COMMANDS`.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``. Those modules import only the standard library at the top and the
rest inside ``run``, so ``otel-chatbot --help`` stays fast and a missing optional
dependency of one command never breaks the others. Adding a command is adding a row.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from otel_chatbot.version import __version__


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "otel_chatbot.demo.command",
        "run the example chatbot on a local Bedrock stand-in, instrumented and under load; no Docker, AWS or collector",
    ),
    Command(
        "top",
        "otel_chatbot.top.command",
        "a live terminal monitor of a process's /stats view (OTEL_CHATBOT_STATS_PORT): routes, models, cache, failover",
    ),
    Command(
        "health",
        "otel_chatbot.health.command",
        "check a deployment (app, chat round trip, collector, Prometheus, Tempo, stats); exit 0 healthy, 1 degraded, "
        "2 unhealthy",
    ),
)


def _load(command: Command) -> ModuleType:
    return importlib.import_module(command.module)


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otel-chatbot", description="OpenTelemetry distro for FastAPI chatbots on AWS Bedrock."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in commands:
        module = _load(command)
        sub = subparsers.add_parser(command.name, help=command.help, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
