"""DVC: reproduce the micro run, push to a local remote, wipe, pull back."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from workflow_utils import BIN, copy_workflow, env, git_init, serve_fixture_dataset

TRACKED = [
    "resources", "results/data/datasets.csv", "results/ids/work", "results/ids/tables",
    "results/relu/work", "results/relu/tables", "results/nmr/work", "results/nmr/figures",
    "results/nmr/tables", "results/report.html",
]


def dvc(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "dvc"), *args], cwd=workdir, env=env(), capture_output=True, text=True,
        timeout=1200,
    )
    assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    return result.stdout


def checksums(workdir: Path) -> dict[str, str]:
    sums = {}
    for entry in TRACKED:
        path = workdir / entry
        for file in sorted([path] if path.is_file() else path.rglob("*")):
            if file.is_file():
                sums[str(file.relative_to(workdir))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return sums


@pytest.mark.slow
def test_repro_push_wipe_pull(tmp_path, http_server):
    workdir = copy_workflow(tmp_path / "repo")
    serve_fixture_dataset(http_server, workdir)
    # one config file for the stages: the micro run plus the local fixture data
    config = yaml.safe_load((workdir / "config/micro.yaml").read_text())
    config.update(yaml.safe_load((workdir / "config/test.yaml").read_text()))
    (workdir / "config/test.yaml").write_text(yaml.safe_dump(config))
    stages = yaml.safe_load((workdir / "dvc.yaml").read_text())
    stages["vars"][0]["configfile"] = "config/test.yaml"
    (workdir / "dvc.yaml").write_text(yaml.safe_dump(stages, sort_keys=False))
    git_init(workdir)
    dvc(workdir, "init", "-q")
    dvc(workdir, "config", "core.analytics", "false")
    dvc(workdir, "remote", "add", "-d", "local", str(tmp_path / "remote"))

    dvc(workdir, "repro")
    before = checksums(workdir)
    assert any(name.startswith("resources/fixture/") for name in before)
    assert "results/report.html" in before
    metrics = dvc(workdir, "metrics", "show")
    assert "results/relu/metrics.json" in metrics

    dvc(workdir, "push")
    shutil.rmtree(workdir / ".dvc/cache")
    for entry in TRACKED:
        path = workdir / entry
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert checksums(workdir) == {}

    dvc(workdir, "pull")
    assert checksums(workdir) == before
    assert "up to date" in dvc(workdir, "status").lower()
