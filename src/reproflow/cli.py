"""reproflow: the command-line tools of the three studies the workflow reproduces.

  Study 1: GRU-SVM intrusion detection (ids)   reproflow kyoto synth, reproflow ids predict
  Study 2: ReLU as classifier (relu)           (the workflow only: make run)
  Study 3: MR-Ai NMR reconstruction (nmr)      reproflow nmr reconstruct, process, quality

(runs reach MLflow through the workflow's rule mlflow_publish, not a command).
Each command's --help says what it reads, writes and refuses.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
import textwrap

from reproflow import __version__
from reproflow.errors import ReproflowError

# Modules exposing `register(subparsers)`; each subcommand sets `func(args)`.
COMMAND_MODULES: list[str] = ["reproflow.ids.cli", "reproflow.nmr.cli"]


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped by paragraph (indented lines kept as written);
    each option's default after its help, unless the help already says it
    (or there is none to show)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines):
                paragraphs.append("\n".join(indent + line for line in lines))
            else:
                paragraphs.append(textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent,
                                                subsequent_indent=indent))
        return "\n\n".join(paragraphs)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default is argparse.SUPPRESS or not action.option_strings
                or "default" in text.lower()):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else "%(default)s"
        return f"{text} (default: {shown})"


def subparsers_of(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for sub in action.choices.values()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reproflow", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"reproflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    pending = subparsers_of(parser)
    while pending:   # one formatter for every subcommand's --help
        sub = pending.pop()
        sub.formatter_class = HelpFormatter
        pending += subparsers_of(sub)
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
    except OSError as error:   # a file the checks could not foresee (permissions, a full disk, a vanished file)
        where = f"{error.filename}: " if error.filename else ""
        print(f"reproflow: error: {where}{error.strerror or error}; check that the input exists and is readable and "
              "that the output's folder is writable, with space left", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
