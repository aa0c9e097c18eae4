"""DVC: its stages track the workflow's folders; reproduce the micro run,
push to a local remote, wipe, pull back."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from reproflow import paths
from reproflow.ids import paths as ids_paths
from reproflow.nmr import paths as nmr_paths
from reproflow.relu import paths as relu_paths
from workflow_utils import BIN, REPO, copy_workflow, env, git_init, serve_fixture_dataset

STUDY_PATHS = {"ids": ids_paths, "relu": relu_paths, "nmr": nmr_paths}
# what the stages keep (outs): the data, each study's folders, the report
TRACKED = [paths.RESOURCES, paths.DATASETS_CARD,
           *(path for module in STUDY_PATHS.values() for path in module.TRACKED["outs"]), paths.REPORT]


def entries(stage: dict, kind: str) -> list[str]:
    """The paths a stage lists under `kind` (outs, deps, metrics, plots), without their options."""
    return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in stage.get(kind, [])]


def test_stages_track_the_folders_the_rules_write():
    """dvc.yaml is written by hand; each study's stage keeps what its paths
    module says (reproflow.<study>.paths.TRACKED), the data stage the
    downloads and the data card, the report stage the report of them all."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert set(stages) == {"data", *STUDY_PATHS, "report"}
    assert entries(stages["data"], "outs") == [paths.RESOURCES, paths.DATASETS_CARD]
    for study, module in STUDY_PATHS.items():
        for kind, expected in module.TRACKED.items():
            assert entries(stages[study], kind) == list(expected), (study, kind)
        assert paths.RESOURCES in entries(stages[study], "deps")
    report = stages["report"]
    assert entries(report, "outs") == [paths.REPORT]
    # the report shows each study's metrics, tables and figures, not its work folder
    shown = [path for module in STUDY_PATHS.values()
             for path in (*module.TRACKED["metrics"], *module.TRACKED["outs"]) if path != module.WORK]
    assert sorted(entries(report, "deps")) == sorted([paths.DATASETS_CARD, *shown, "workflow/report"])


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
    assert paths.REPORT in before
    metrics = dvc(workdir, "metrics", "show")
    assert relu_paths.LAYOUT.metrics in metrics

    dvc(workdir, "push")
    shutil.rmtree(workdir / ".dvc/cache")
    for entry in TRACKED:
        path = workdir / entry
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert checksums(workdir) == {}

    dvc(workdir, "pull")
    assert checksums(workdir) == before
    assert "up to date" in dvc(workdir, "status").lower()
