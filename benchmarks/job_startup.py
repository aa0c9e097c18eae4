"""Benchmark: what each Snakemake job pays before it does any work.

Usage: .venv/bin/python benchmarks/job_startup.py [--repeats 3] [--configfile config/config.yaml]
       [--out FILE.json]

Every rule of the workflow runs a script from scripts/ through Snakemake's
`script:` directive: Snakemake writes the script with a preamble (unpickle the
`snakemake` object: `snakemake.iocontainers`, `snakemake.logging`) and starts
a fresh `python` on it. Before the job's function runs, that process pays the
interpreter start, the preamble and the imports the script makes, at module
level and inside `main()` (the training scripts import their job module there,
after `limit_threads`).

Per rule (workflow/rules/*.smk, `rule NAME:` ... `script: "PATH"`), a fresh
interpreter runs exactly those statements: the preamble's imports, then every
`import` / `from ... import` statement of the script (found with `ast`, in
source order, wherever it stands), then the import statements inside the
package functions the script imports (the job function's own first lines,
for example `from reproflow.nmr import models` in a training job); it does not
run `main()`. Measured, median of `--repeats` processes:

  process_s   wall seconds of the whole child process, from `subprocess` start
              to exit (interpreter start, imports, interpreter teardown):
              what a job of that rule pays before its first line of work
  cpu_s       CPU seconds (user + system) of that process: on a loaded
              machine wall seconds grow with the load, CPU seconds much less,
              so the totals below are given in both
  preamble_s  the preamble's imports, inside the child
  tf_s        TensorFlow and Keras, when the script's imports load them
  mlflow_s    MLflow, when they load it (after TensorFlow: only its own share)
  rest_s      every other import of the script (reproflow, NumPy, SciPy, ...)

TensorFlow and MLflow are imported first, on their own, only where a probe
process showed that the script's imports load them, so that their cost can be
told apart from the rest (the total is the same either way). `loads` lists the
heavy packages the imports leave in `sys.modules`.

The run's total start-up is `process_s` x the rule's number of jobs in the
default run, from `snakemake -n` with `--configfile` (a dry run in this
repository: it writes nothing but Snakemake's own .snakemake/ folder).
Imports made deeper down, in the helpers a job function calls while it
works (for example matplotlib where a figure is drawn), are not counted.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nmr_bench import ROOT, children_cpu  # this folder is on sys.path when a benchmark runs

# the packages whose import is a visible share of a job's start
HEAVY = ("tensorflow", "keras", "mlflow", "matplotlib", "pandas", "sklearn", "scipy", "nmrglue", "requests", "h5py")
PREAMBLE = "import pickle\nfrom snakemake.logging import logger\nfrom snakemake.iocontainers import Snakemake\n"
CHILD = """
import json, sys, time
def clock():
    return time.perf_counter()
t0 = clock()
exec(compile({preamble!r}, "preamble", "exec"))
t1 = clock()
if {tf!r}:
    import tensorflow, keras
t2 = clock()
if {mlflow!r}:
    import mlflow
t3 = clock()
exec(compile({imports!r}, {script!r}, "exec"), {{"__name__": "__job__"}})
t4 = clock()
print(json.dumps({{"preamble_s": t1 - t0, "tf_s": t2 - t1, "mlflow_s": t3 - t2, "rest_s": t4 - t3,
                  "loads": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def rule_scripts(rules_dir: Path) -> dict[str, Path]:
    """rule name -> script, from the rule files."""
    found: dict[str, Path] = {}
    for smk in sorted(rules_dir.glob("*.smk")):
        rule = None
        lines = smk.read_text().splitlines()
        for number, line in enumerate(lines):
            if match := re.match(r"rule (\w+):", line):
                rule = match.group(1)
            elif line.strip() == "script:" and rule:
                found[rule] = (smk.parent / lines[number + 1].strip().strip("\"'")).resolve()
    return found


def import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    nodes = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    return sorted(nodes, key=lambda node: node.lineno)


def function_imports(node: ast.ImportFrom) -> list[ast.Import | ast.ImportFrom]:
    """The imports inside the bodies of the reproflow functions that `node` imports
    (a job function importing Keras or matplotlib when it starts)."""
    if not (node.module or "").startswith("reproflow"):
        return []
    source = ROOT / "src" / Path(*node.module.split("."))
    source = source / "__init__.py" if source.is_dir() else source.with_suffix(".py")
    if not source.exists():
        return []
    names = {alias.name for alias in node.names}
    found = []
    for definition in ast.parse(source.read_text(), str(source)).body:
        if isinstance(definition, ast.FunctionDef) and definition.name in names:
            found += import_nodes(definition)
    return found


def script_imports(script: Path) -> str:
    """Every import statement of the script, in source order, then those inside
    the job functions it imports, as source text."""
    nodes = import_nodes(ast.parse(script.read_text(), str(script)))
    nested = [inner for node in nodes if isinstance(node, ast.ImportFrom) for inner in function_imports(node)]
    return "\n".join(ast.unparse(node) for node in [*nodes, *nested]) + "\n"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # as the Makefile runs the workflow
    env.update(TF_CPP_MIN_LOG_LEVEL="2", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_child(script: Path, imports: str, tf: bool, mlflow: bool) -> dict:
    code = CHILD.format(preamble=PREAMBLE, tf=tf, mlflow=mlflow, imports=imports, script=str(script),
                        heavy=HEAVY)
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(), capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{script}: its imports failed:\n{done.stderr[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_s": wall, "cpu_s": cpu}


def measure(script: Path, repeats: int) -> dict:
    imports = script_imports(script)
    probe = run_child(script, imports, tf=False, mlflow=False)
    tf = "tensorflow" in probe["loads"] or "keras" in probe["loads"]
    mlflow = "mlflow" in probe["loads"]
    runs = [run_child(script, imports, tf, mlflow) for _ in range(repeats)]
    row = {key: statistics.median(run[key] for run in runs)
           for key in ("process_s", "cpu_s", "preamble_s", "tf_s", "mlflow_s", "rest_s")}
    row["process_s_all"] = [round(run["process_s"], 3) for run in runs]
    row["loads"] = probe["loads"]
    return row


def job_counts(configfile: str) -> dict[str, int]:
    """Jobs per rule in the dry run of the default workflow ("Job stats")."""
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--configfile", configfile],
                          cwd=ROOT, env=child_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{done.stderr[-2000:]}")
    text = done.stdout + done.stderr
    table = text.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            counts[parts[0]] = int(parts[1])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    load_before = os.getloadavg()
    counts = job_counts(args.configfile)
    scripts = rule_scripts(ROOT / "workflow" / "rules")
    # interpreter + preamble, no script imports
    baselines = [run_child(ROOT / "scripts", "", False, False) for _ in range(args.repeats)]
    baseline = {key: statistics.median(run[key] for run in baselines) for key in ("process_s", "cpu_s", "preamble_s")}
    rows = {}
    for rule, script in scripts.items():
        if counts.get(rule):
            rows[rule] = {"script": str(script.relative_to(ROOT)), "jobs": counts[rule], **measure(script, args.repeats)}

    print(f"python + preamble alone: {baseline['process_s']:.2f} s wall, {baseline['cpu_s']:.2f} CPU s "
          f"(preamble imports {baseline['preamble_s']:.2f} s)")
    print("| rule | jobs | process s | CPU s | preamble s | TF/Keras s | MLflow s | rest s | x jobs: CPU s | loads |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rule, row in sorted(rows.items(), key=lambda item: -item[1]["cpu_s"] * item[1]["jobs"]):
        print(f"| {rule} | {row['jobs']} | {row['process_s']:.2f} | {row['cpu_s']:.2f} | {row['preamble_s']:.2f} | "
              f"{row['tf_s']:.2f} | {row['mlflow_s']:.2f} | {row['rest_s']:.2f} | {row['cpu_s'] * row['jobs']:.0f} | "
              f"{', '.join(row['loads'])} |")

    def total(key: str) -> float:
        return sum(row[key] * row["jobs"] for row in rows.values())

    jobs = sum(row["jobs"] for row in rows.values())
    print(f"{jobs} script jobs; start-up summed over them: {total('process_s'):.0f} s wall, {total('cpu_s'):.0f} "
          f"CPU s (in-process imports: TensorFlow/Keras {total('tf_s'):.0f} s, MLflow {total('mlflow_s'):.0f} s, "
          f"the rest {total('rest_s'):.0f} s, the preamble {total('preamble_s'):.0f} s); on 2 cores the CPU "
          f"seconds take at least {total('cpu_s') / 2:.0f} s of the run's wall time")
    print(f"load average (1, 5, 15 min) before {load_before}, after {os.getloadavg()}")
    if args.out:
        args.out.write_text(json.dumps({
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "loadavg_before_after": [load_before, os.getloadavg()],
            "repeats": args.repeats, "baseline": baseline, "rules": rows,
            "totals_s": {key: total(key) for key in ("process_s", "cpu_s", "preamble_s", "tf_s", "mlflow_s", "rest_s")},
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
