"""Hostile inputs generated at test time (tests/bad_inputs/hostile*.py), each
through its real entry point: refused with a message naming the file or key,
no traceback, nothing written over or left behind, memory under a cap."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

import pytest

from bad_inputs.hostile import CLASSES, HERE, Case, problems, run_case
from workflow_utils import copy_workflow, env

MODULES = sorted(p.stem for p in HERE.glob("hostile_*.py"))
CASES: list[Case] = [case for name in MODULES for case in importlib.import_module(f"bad_inputs.{name}").CASES]


@pytest.fixture(scope="session")
def workflow_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("hostile-workflow"))


def test_cases_are_many_distinct_and_classified():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert len(CASES) >= 60, f"only {len(CASES)} hostile cases"
    unknown = {case.id: case.klass for case in CASES if case.klass not in CLASSES}
    assert not unknown, f"cases of no known class: {unknown}"
    assert set(CLASSES) == {case.klass for case in CASES}, "a class without a case"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_case(case: Case, tmp_path: Path, request: pytest.FixtureRequest):
    workflow = request.getfixturevalue("workflow_copy") if case.runner == "snakemake" else None
    folder = tmp_path / "case"
    outcome = run_case(case, folder, workflow, env())
    found = problems(case, outcome, folder, workflow)
    assert not found, f"{case.id}: {found}\n--- output ---\n{outcome.output[-3000:]}"
