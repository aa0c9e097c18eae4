"""Every rule's entry function and every `reproflow` subcommand has at least
one hostile-input case (tests/bad_inputs/hostile_*.py): a new script or
command without one fails here."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

from reproflow.cli import build_parser

from test_hostile_inputs import CASES

REPO = Path(__file__).resolve().parents[1]
# imports of a rule's script that are plumbing, not the job
PLUMBING = {"reproflow.runtime", "reproflow.config", "reproflow.outputs"}
NO_FILE_INPUT = {"reproflow.data:datasets_card_html": "renders the rows datasets_card returned",
                 "reproflow.tracking:tracking_uri": "the store's URI from MLFLOW_TRACKING_URI or the config"}
# entry functions a CLI command calls as it is: its CLI cases walk them
THROUGH_CLI = {"reproflow.ids.synth:write_days": ("kyoto", "synth")}


def rule_scripts() -> list[str]:
    """The scripts the rules run (`script:` in workflow/rules/*.smk)."""
    found = set()
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        found.update(re.findall(r'script:\s*\n?\s*"\.\./\.\./(scripts/[\w]+\.py)"', rules.read_text()))
    return sorted(found)


def entry_functions(script: str) -> set[str]:
    """module:function of every reproflow function the script imports, plumbing aside, and of
    every function it calls on a module it imports whole (`from reproflow import tracking`)."""
    tree = ast.parse((REPO / script).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    functions = {f"{node.module}:{alias.name}" for node in imports
                 if (node.module or "").startswith("reproflow.") and node.module not in PLUMBING
                 for alias in node.names}
    modules = {alias.asname or alias.name: f"reproflow.{alias.name}" for node in imports
               if node.module == "reproflow" for alias in node.names}
    functions |= {f"{modules[node.func.value.id]}:{node.func.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and isinstance(node.func.value, ast.Name) and node.func.value.id in modules
                  and modules[node.func.value.id] not in PLUMBING}
    return functions


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        return [path]
    return [leaf for action in actions for name, sub in action.choices.items()
            for leaf in leaf_commands(sub, (*path, name))]


def test_rule_scripts_are_found():
    scripts = rule_scripts()
    assert "scripts/ids_train.py" in scripts and "scripts/nmr_summary.py" in scripts, scripts
    assert "reproflow.tracking:publish" in entry_functions("scripts/mlflow_publish.py")
    assert len(scripts) >= 20, scripts


def test_every_rule_entry_function_has_a_hostile_case():
    walked = {case.entry for case in CASES if case.runner == "entry"}
    cli = [tuple(case.argv) for case in CASES if case.runner == "cli"]
    missing = {}
    for script in rule_scripts():
        functions = entry_functions(script)
        assert functions, f"{script}: no reproflow entry function found"
        for function in functions - walked - set(NO_FILE_INPUT):
            through = THROUGH_CLI.get(function)
            if through is None or not any(argv[: len(through)] == through for argv in cli):
                missing[script] = function
    assert not missing, f"rule entry functions without a hostile case: {missing}"


def test_every_cli_command_has_a_hostile_case():
    commands = leaf_commands(build_parser())
    assert ("nmr", "reconstruct") in commands and ("kyoto", "synth") in commands, commands
    cli = [tuple(case.argv) for case in CASES if case.runner == "cli"]
    missing = [" ".join(c) for c in commands if not any(argv[: len(c)] == c for argv in cli)]
    assert not missing, f"reproflow commands without a hostile case: {missing}"
