"""`reproflow ... --help` a user can work from: every command of the argparse
tree has a description, every option a help text that shows its default, no
help ends in a traceback or starts TensorFlow, and the studies carry one
name everywhere (README, the CLI, the report, MLflow)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STUDIES = {"ids": "Study 1: GRU-SVM intrusion detection (ids)",
           "relu": "Study 2: ReLU as classifier (relu)",
           "nmr": "Study 3: MR-Ai NMR reconstruction (nmr)"}

# Run in a child, as a user's `reproflow` would: walks the tree, renders each
# option's help as --help shows it, and reports what it found as JSON.
WALK = r"""
import argparse, json, sys
from reproflow.cli import build_parser

def walk(parser, path):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, [*path, name])

found = []
for path, parser in walk(build_parser(), []):
    formatter = parser._get_formatter()
    options = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        shown = formatter._expand_help(action) if action.help else ""
        default = action.default
        options.append({"name": "/".join(action.option_strings) or action.dest, "help": shown,
                        "has_default": not (default is None or default is False or default is argparse.SUPPRESS)
                                       and not action.required, "default": repr(default)})
    found.append({"path": path, "description": parser.description or "", "options": options})
print(json.dumps({"commands": found, "tensorflow": "tensorflow" in sys.modules or "keras" in sys.modules}))
"""


def tree() -> dict:
    result = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def commands() -> list[dict]:
    return tree()["commands"]


def test_every_command_has_a_description(commands):
    missing = [" ".join(c["path"]) or "reproflow" for c in commands if len(c["description"].split()) < 5]
    assert not missing, f"commands without a description: {missing}"
    assert {tuple(c["path"]) for c in commands} >= {("nmr", "reconstruct"), ("ids", "predict"), ("kyoto", "synth"),
                                                    ("nmr", "quality")}


def test_every_option_has_help_that_shows_its_default(commands):
    no_help, no_default = [], []
    for command in commands:
        where = "reproflow " + " ".join(command["path"])
        for option in command["options"]:
            if len(option["help"].split()) < 2:
                no_help.append(f"{where} {option['name']}")
            elif option["has_default"] and "default" not in option["help"].lower():
                no_default.append(f"{where} {option['name']} (default {option['default']})")
    assert not no_help, f"options without help: {no_help}"
    assert not no_default, f"options whose help does not show the default: {no_default}"


def test_help_of_every_command_in_a_child_without_tensorflow(commands):
    """Each `reproflow ... --help` as a user runs it: exit 0, usage printed, no traceback; and the
    tree walk itself, which imports every command module, has not started TensorFlow."""
    assert not tree()["tensorflow"], "building the CLI imported TensorFlow or Keras"
    check = ("import runpy, sys\n"
             "sys.argv = ['reproflow', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('reproflow.cli', run_name='__main__')\n"
             "except SystemExit as end:\n    code = end.code\n"
             "print('TENSORFLOW' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'NO-TF')\n"
             "sys.exit(code)\n")
    for command in commands:
        result = subprocess.run([sys.executable, "-c", check, *command["path"], "--help"], capture_output=True,
                                text=True, timeout=120)
        shown = " ".join(["reproflow", *command["path"], "--help"])
        assert result.returncode == 0, f"{shown}: exit {result.returncode}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stdout + result.stderr, f"{shown}: {result.stderr[-2000:]}"
        assert "usage: reproflow" in result.stdout, shown
        assert result.stdout.rstrip().endswith("NO-TF"), f"{shown} imported TensorFlow"


def test_the_studies_are_named_the_same_everywhere():
    """README's table, `reproflow --help`, the report (its categories in the rule files and its page
    titles) and MLflow's experiment descriptions: each names every study, and only by its name."""
    help_text = subprocess.run([sys.executable, "-m", "reproflow.cli", "--help"], capture_output=True, text=True,
                               timeout=120).stdout
    rules = "\n".join(re.findall(r'"(Study [123][^"]*)"', "\n".join(
        p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))))
    pages = "\n".join(re.findall(r'"#? ?(Study [123][:,][^"]*)"', "\n".join(
        (REPO / "src/reproflow" / study / "report.py").read_text() for study in STUDIES)))
    places = {"README.md": (REPO / "README.md").read_text(), "reproflow --help": help_text,
              "the report's categories (workflow/rules)": rules, "the report's page titles": pages,
              "MLflow experiment descriptions (tracking.py)": (REPO / "src/reproflow/tracking.py").read_text()}
    places = {place: " ".join(text.split()) for place, text in places.items()}   # help wraps its lines
    missing = {place: [name for name in STUDIES.values() if name not in text] for place, text in places.items()}
    assert not any(missing.values()), f"study names missing: {missing}"
    for place, text in places.items():
        for number, rest in re.findall(r"Study ([123])[:,]( .{0,60})", text):
            canonical = list(STUDIES.values())[int(number) - 1]
            assert f"Study {number}:{rest}".startswith(canonical), \
                f"{place}: 'Study {number}:{rest[:50]}', expected '{canonical}'"


def test_ids_predict_help_names_what_it_reports():
    result = subprocess.run([sys.executable, "-m", "reproflow.cli", "ids", "predict", "--help"], capture_output=True,
                            text=True, timeout=120)
    assert "(default: 1024)" in result.stdout and "unparseable" in result.stdout
