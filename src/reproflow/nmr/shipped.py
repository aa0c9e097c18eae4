"""The trained weights shipped inside the package (`reproflow/nmr/weights/`),
so users can reconstruct without training, and the step that copies them
out of a workflow run together with a manifest (weights.json) that records
the config, the code and the MALT1 numbers that made them."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reproflow.data import sha256_file
from reproflow.errors import ReproflowError
from reproflow.nmr import paths, score

WEIGHTS = Path(__file__).with_name("weights")
MANIFEST = "weights.json"


def manifest(folder: str | Path = WEIGHTS) -> dict[str, Any]:
    """The manifest of a weights folder ({} when there is none)."""
    path = Path(folder) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def damping(folder: str | Path = WEIGHTS, default: float = 0.05) -> float:
    """The cascade damping base the weights were trained with."""
    return float(manifest(folder).get("damping", default))


def source_digest(root: str | Path = Path(__file__).parent) -> str:
    """SHA-256 over the package's NMR sources (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def git_state(repo: str | Path) -> dict[str, Any]:
    """HEAD of the checkout and the tracked files changed against it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout

    try:
        # not stripped: a status line starts with a space (" M path") when only the worktree changed
        changed = git("status", "--porcelain", "--untracked-files=all").splitlines()
        return {"commit": git("rev-parse", "HEAD").strip(), "uncommitted": sorted(line[3:] for line in changed)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "uncommitted": []}


def ship(run_dir: str | Path, *, architecture: str, command: str, repo: str | Path,
         source_root: str | Path | None = None, commit: str | None = None, out: str | Path = WEIGHTS,
         extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Copy a finished run's cascade stages and uncertainty networks into `out`
    with a manifest: the run's `nmr` config and config hash (from its
    results/nmr/metrics.json), its MALT1 and held-out numbers, the command, the
    commit (`commit` when the run's code is known to equal one, else the
    checkout's HEAD and its uncommitted files) and a digest of the NMR
    sources the run used (`source_root`)."""
    run_dir, out = Path(run_dir), Path(out)
    summary = json.loads((run_dir / paths.LAYOUT.metrics).read_text())
    nmr = summary["options"]
    stages = [run_dir / paths.model(architecture, k) for k in range(nmr["network"]["stages"])]
    sigmas = [run_dir / paths.sigma(m) for m in nmr["uncertainty"]["methods"]]
    missing = [str(p) for p in stages + sigmas if not p.exists()]
    if missing:
        raise ReproflowError(f"{run_dir}: the run lacks {missing}; expected a finished study 3 run")
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("stage*.keras"), *out.glob("sigma_*.keras"), *out.glob("sigma_*.calibration.json")]:
        old.unlink()
    files = {}
    calibrations = [score.calibration_path(p) for p in sigmas if score.calibration_path(p).exists()]
    for path, name in ([(p, p.name) for p in stages] + [(p, f"sigma_{p.stem}.keras") for p in sigmas]
                       + [(p, f"sigma_{p.name}") for p in calibrations]):
        shutil.copyfile(path, out / name)
        files[name] = sha256_file(path)
    info = {
        "architecture": architecture,
        "stages": len(stages),
        "damping": nmr["network"]["damping"],
        "sigma_methods": list(nmr["uncertainty"]["methods"]),
        "files_sha256": files,
        "command": command,
        "git": {"commit": commit, "uncommitted": []} if commit else git_state(repo),
        "nmr_source_sha256": source_digest(source_root or Path(__file__).parent),
        "config_hash": summary.get("config_hash"),
        "nmr_config": nmr,
        "results": {name: {"table": s.get("table"), "uncertainty": s.get("uncertainty")}
                    for name, s in summary.get("sets", {}).items()},
        **dict(extra or {}),
    }
    (out / MANIFEST).write_text(json.dumps(info, indent=2) + "\n")
    return info
