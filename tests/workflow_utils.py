"""Run the real workflow in a scratch copy of the checkout."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import tarfile
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# the local mirror of the public data files, beside the checkout (never committed)
SHARED_DATA = Path(os.environ.get("REPROFLOW_SHARED_DATA", REPO.parent / "shared" / "data"))
BIN = Path(sys.executable).parent
# src and pyproject.toml only as DVC dependencies: jobs import the installed package
WORKFLOW_PARTS = [
    "Snakefile", "workflow", "scripts", "config", "envs", "dvc.yaml", ".dvcignore", "src",
    "pyproject.toml",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_workflow(dest: Path) -> Path:
    """A fresh checkout-like folder: the workflow without results or resources."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, dest / part)
    return dest


def env(**extra: str) -> dict[str, str]:
    """The test's environment with the venv first on PATH and no outside MLflow."""
    environ = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"
    environ.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1", TF_CPP_MIN_LOG_LEVEL="2")
    environ.update(extra)
    return environ


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: float = 1200):
    """Run the real snakemake CLI in `workdir`; output captured (text)."""
    result = subprocess.run(
        [str(BIN / "snakemake"), *args], cwd=workdir, env=env(),
        capture_output=True, text=True, timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
    return result


def serve_fixture_dataset(server, workdir: Path) -> dict[str, bytes]:
    """Put a small dataset on the local server and register it in the copy.

    One plain file with a published checksum, one tar.gz archive without
    (recorded on first download, then extracted).
    """
    sample = b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(2000))
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as archive:
        for name, data in {"a.txt": b"alpha\n", "sub/b.txt": b"beta\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    files = {"sample.csv": sample, "bundle.tar.gz": bundle.getvalue()}
    (server.root / "fixture").mkdir()
    for name, data in files.items():
        (server.root / "fixture" / name).write_bytes(data)

    registry = yaml.safe_load((workdir / "config/datasets.yaml").read_text())
    registry["datasets"]["fixture"] = {
        "description": "test fixture", "licence": "CC0", "citation": "reproflow tests",
        "files": {
            "sample.csv": {
                "urls": [f"{server.url}/fixture/sample.csv"],
                "sha256": hashlib.sha256(sample).hexdigest(), "size": len(sample),
            },
            "bundle.tar.gz": {
                "urls": [f"{server.url}/fixture/bundle.tar.gz"],
                "sha256": None, "size": None, "extract": True,
            },
        },
    }
    (workdir / "config/test-registry.yaml").write_text(yaml.safe_dump(registry))
    (workdir / "config/test.yaml").write_text(yaml.safe_dump({
        "registry": "config/test-registry.yaml",
        "download": {"datasets": ["fixture"], "backoff_s": 0.05},
    }))
    return files


def git_init(workdir: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=workdir, check=True, capture_output=True, text=True,
        ).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "fixture")
    return git("rev-parse", "HEAD")


def hold_sqlite_lock(db: Path) -> subprocess.Popen:
    """A real second process holding SQLite's exclusive lock on `db` until killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         "db = sqlite3.connect(sys.argv[1]); db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)\n"
         "time.sleep(3600)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def merged_config(workdir: Path, configs: list[str]) -> dict:
    """config/config.yaml with the --configfile files over it, as Snakemake merges them."""
    def merge(base: dict, over: dict) -> dict:
        return {**base, **{k: merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
                           for k, v in over.items()}}

    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    for name in (c for c in configs if c != "--configfile"):
        config = merge(config, yaml.safe_load((workdir / name).read_text()) or {})
    return config


def expected_child_runs(jobs: Mapping[str, int], config: dict) -> Counter:
    """MLflow child runs per rule tag, from {rule: jobs}: one per configuration.
    A training job of studies 1 and 3 trains several; study 2's training rules
    (`relu_train_<protocol>_<kind>`) all publish as `relu_train`."""
    from reproflow.relu import plan as relu_plan

    ids, nmr = config["ids"], config["nmr"]
    per_job = {"ids_train": 2, "ids_train_search": 2 * len(ids["clean"]["learning_rates"]),
               "nmr_train_stage": nmr["network"]["stages"], "nmr_train_sigma": len(nmr["uncertainty"]["methods"])}
    expected = Counter({rule: count * per_job.get(rule, 1) for rule, count in jobs.items()})
    for rule, count in jobs.items():
        if rule.startswith("relu_train_"):
            protocol, kind = rule.removeprefix("relu_train_").split("_", 1)
            expected["relu_train"] += count * len(relu_plan.configurations(config["relu"], protocol, kind))
    return expected
