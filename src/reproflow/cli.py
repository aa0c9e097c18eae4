"""`reproflow` command line: each study module registers its subcommands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from reproflow import __version__
from reproflow.errors import ReproflowError

# Modules exposing `register(subparsers)`; each subcommand sets `func(args)`.
COMMAND_MODULES: list[str] = ["reproflow.ids.cli", "reproflow.nmr.cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reproflow", description=__doc__)
    parser.add_argument("--version", action="version", version=f"reproflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        args.func(args)
    except ReproflowError as error:
        print(f"reproflow: error: {error}", file=sys.stderr)
        return 1
    except MemoryError:
        print("reproflow: error: out of memory; the input is larger than this machine (or its memory limit) "
              "can hold", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
