"""`python -m core <command>`: each area of the product registers its commands from its own module.

A command module exposes `register(subparsers)`, adding parsers whose `func` default is a
function `(args) -> int` exit code. The settings are read from the environment once, here, and reach
every command as `args.settings`. Heavy imports happen inside the command functions so that `--help`
and unrelated commands stay fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from core.config import Settings
from core.runtime import configure_torch

# Order here is the order in `--help`.
COMMAND_MODULES = ("core.cli.classifier", "core.cli.segmentation", "core.cli.explain", "core.cli.triage", "core.cli.knowledge", "core.cli.quiz",
                   "core.cli.cases", "core.cli.users")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="DermaDesk command-line tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.settings = Settings.from_env()
    configure_torch(args.settings)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
