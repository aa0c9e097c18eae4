"""Peak memory and time of hostile cases, for docs/reliability.md.

    PYTHONPATH=src:tests python tests/bad_inputs/measure.py bomb claims laughs

Runs every case whose id contains one of the words, as the test does, and
prints its exit status, peak resident memory (the cap), wall time, the size
of its input files and what the test would call wrong.
"""

import importlib
import sys
import tempfile
import time
from pathlib import Path

from bad_inputs.hostile import HERE, problems, run_case
from workflow_utils import copy_workflow, env

words = sys.argv[1:]
cases = [case for module in sorted(p.stem for p in HERE.glob("hostile_*.py"))
         for case in importlib.import_module(f"bad_inputs.{module}").CASES]
workflow = None
for case in cases:
    if not any(word in case.id for word in words):
        continue
    if case.runner == "snakemake" and workflow is None:
        workflow = copy_workflow(Path(tempfile.mkdtemp()) / "workflow")
    folder = Path(tempfile.mkdtemp()) / "case"
    start = time.monotonic()
    outcome = run_case(case, folder, workflow, env())
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"{case.id}: status {outcome.status}, peak {outcome.peak_mb:.0f} MiB (cap {case.memory_mb}), "
          f"{time.monotonic() - start:.1f} s, input {size} bytes, problems {problems(case, outcome, folder, workflow)}")
