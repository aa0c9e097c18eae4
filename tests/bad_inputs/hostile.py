"""Hostile inputs: cases generated at test time, each through a real entry point.

A case writes its input files into an empty folder (`make`), runs one real
entry point in a child process under a memory cap (`capped.py`): a
`reproflow` CLI command, a package function a rule's script calls
(`entry.py`), or `snakemake -n` on a copy of the workflow, and checks what a
user would: the exit status, a message naming the file (and line or key) and
what was expected, no traceback, every file in the folder unchanged (inputs
keep their SHA-256, no output or partial file left: only `may_create` may
appear), peak memory under the cap.

Case lists live in `hostile_<area>.py` beside this file (a `CASES` list each);
`tests/test_hostile_inputs.py` collects them all.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The failure classes of issue 14 (docs/reliability.md lists each with its count)
CLASSES = {
    "output is an input": "an output path that is, links to or lies inside an input",
    "unusable output path": "an output path that is a folder, under a file, read-only or unwritable",
    "non-finite or out-of-range number": "NaN, infinities, overflowing or out-of-range values in options, "
                                         "configs, records, headers and arrays; training that diverges",
    "corrupt, partial or foreign file": "truncated, corrupt or foreign files: models and their sidecars, "
                                        "run manifests, lockfiles, raw NMR data, configs",
    "data path": "an input that is a folder, a dangling link, a pipe, or a folder without the data",
    "encoding": "UTF-8 BOM, UTF-16/32, CR-only line endings, NUL, zero-width or control characters",
    "non-string key": "config keys YAML reads as numbers, booleans or null",
    "bounded resources": "decompression bombs, duplicate archive members, YAML alias bombs, huge lines, "
                         "sizes claimed by headers or options past the file or memory",
    "dry-run knowable": "config errors `snakemake -n` refuses: dates, day lists, NMR tiles, sizes",
    "NMR data contradicting the request": "echo/anti-echo data against --mode, both halves, extracted regions",
    "ids predict report": "what `reproflow ids predict` reports on the user's own traffic",
}
PYTHON = sys.executable
TRACEBACK = "Traceback (most recent call last)"


@dataclass(frozen=True)
class Case:
    """One hostile input. Strings in `argv`, `kwargs` and `expect` may hold
    `{tmp}` (the case's folder) and, for `runner="snakemake"`, `{workflow}`."""

    id: str
    klass: str                                # the failure class it belongs to (docs/reliability.md)
    make: Callable[[Path], None]              # writes the inputs into the folder
    expect: Sequence[str]                     # substrings of the message (case-insensitive)
    runner: str = "cli"                       # "cli" | "entry" | "snakemake"
    argv: Sequence[str] = ()                  # cli: reproflow arguments; snakemake: its arguments
    entry: str = ""                           # entry: "module:function"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    status: int = 1                           # expected exit status (0 for a reported success)
    memory_mb: int = 1500                     # address-space cap (RLIMIT_AS)
    may_create: Sequence[str] = ()            # globs (relative to the folder) allowed to appear
    timeout: float = 120


def fill(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, Mapping):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill(v, names) for v in value]
    return value


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: SHA-256 (or 'link -> target', 'dir')} of everything under `folder`."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            out[rel] = "dir"
        elif path.is_file():
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            out[rel] = digest.hexdigest()
    return out


@dataclass
class Outcome:
    status: int
    output: str
    peak_mb: float
    before: dict[str, str]
    after: dict[str, str]


def run_case(case: Case, folder: Path, workflow: Path | None = None, env: Mapping[str, str] | None = None) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    case.make(folder)
    names = {"tmp": str(folder), "workflow": str(workflow or "")}
    if case.runner == "cli":
        command = [PYTHON, "-m", "reproflow.cli", *fill(list(case.argv), names)]
        cwd = folder
    elif case.runner == "entry":
        command = [PYTHON, str(HERE / "entry.py"), case.entry, json.dumps(fill(dict(case.kwargs), names))]
        cwd = folder
    elif case.runner == "snakemake":
        assert workflow is not None, "a snakemake case needs the workflow copy"
        command = [str(Path(PYTHON).parent / "snakemake"), "-n", "--cores", "1", *fill(list(case.argv), names)]
        cwd = workflow
    else:
        raise AssertionError(f"unknown runner {case.runner}")
    before = snapshot(folder)
    peak_file = folder.parent / f".{folder.name}.peak"
    result = subprocess.run([PYTHON, str(HERE / "capped.py"), str(peak_file), str(case.memory_mb), *command],
                            cwd=cwd, env=dict(env or os.environ), capture_output=True, text=True,
                            errors="replace", timeout=case.timeout)
    peak = float(peak_file.read_text()) if peak_file.exists() else float("nan")
    return Outcome(result.returncode, result.stdout + result.stderr, peak, before, snapshot(folder))


def problems(case: Case, outcome: Outcome, folder: Path, workflow: Path | None = None) -> list[str]:
    """What a user would call wrong with the outcome; empty when it is right."""
    names = {"tmp": str(folder), "workflow": str(workflow or "")}
    found = []
    if outcome.status != case.status:
        found.append(f"exit status {outcome.status}, expected {case.status}")
    if TRACEBACK in outcome.output:
        found.append("a traceback reached the user")
    text = outcome.output.lower()
    found += [f"message lacks {want!r}" for want in fill(list(case.expect), names) if want.lower() not in text]
    changed = [p for p, digest in outcome.before.items() if outcome.after.get(p) != digest]
    found += [f"input {p} changed or removed" for p in changed]
    created = [p for p in outcome.after if p not in outcome.before
               and not any(fnmatch.fnmatch(p, glob) for glob in case.may_create)]
    found += [f"left {p} behind" for p in created]
    if not outcome.peak_mb <= case.memory_mb:
        found.append(f"peak memory {outcome.peak_mb:.0f} MiB, cap {case.memory_mb} MiB")
    return found
