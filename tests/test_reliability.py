"""Faults injected into real processes: a download, a training job and the
whole workflow killed with SIGKILL (in study 1's training, in a batch of
study 2's), the MLflow store locked by another
process, and two studies run side by side on one MLflow store and DVC cache.
docs/reliability.md lists what each test shows."""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient

from reproflow import paths
from reproflow.ids import paths as ids_paths
from reproflow.relu import paths as relu_paths
from workflow_utils import BIN, copy_workflow, env, git_init, hold_sqlite_lock, snakemake

IDS_JOB = {"protocol": "paper", "features": "all", "arm": "gru_svm", "seed": 0}
IDS_TARGET = ids_paths.TRAIN_METRICS.format(**IDS_JOB)
# Study 1 at micro scale with epochs long enough (about a second each) to be killed mid-epoch
IDS_KILL_CONFIG = {
    "run_name": "kill",
    "studies": ["ids"],
    "ids": {"synth": {"days": 3, "rows_per_day": 4000}, "units": 32, "epochs": 6},
}


def start(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """A process in its own session, so killing its group kills its children too."""
    with open(log, "w") as out:
        return subprocess.Popen(args, cwd=cwd, env=env(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def wait_for(condition, process: subprocess.Popen, log: Path, timeout: float = 900):
    """Poll `condition()` until it returns a truthy value; fail if the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"process ended ({process.returncode}) before the fault:\n{log.read_text()[-4000:]}")
        time.sleep(0.05)
    kill_group(process)
    raise AssertionError(f"timed out waiting:\n{log.read_text()[-4000:]}")


def test_download_killed_mid_transfer_resumes(http_server, tmp_path):
    data = np.random.default_rng(0).bytes(6_000_000)  # written to .part in 1 MiB blocks
    (http_server.root / "big.bin").write_bytes(data)
    http_server.slow("/big.bin", chunk=256 * 1024, delay_s=0.05)
    dest = tmp_path / "resources/big.bin"
    fetch = ("import sys; from pathlib import Path; from reproflow.download import FileSpec, fetch\n"
             f"fetch(FileSpec('demo', 'big.bin', ({http_server.url + '/big.bin'!r},), "
             f"{hashlib.sha256(data).hexdigest()!r}, {len(data)}), Path({str(dest)!r}))")
    part = dest.with_name("big.bin.part")
    process = start([sys.executable, "-c", fetch], tmp_path, tmp_path / "first.log")
    wait_for(lambda: part.exists() and part.stat().st_size >= 2_000_000, process, tmp_path / "first.log")
    kill_group(process)
    kept = part.stat().st_size
    assert 2_000_000 <= kept < len(data) and not dest.exists()

    http_server.fast("/big.bin")
    subprocess.run([sys.executable, "-c", fetch], cwd=tmp_path, env=env(), check=True, timeout=120)
    assert dest.read_bytes() == data and not part.exists()
    # the second process asked only for the bytes the first had not written
    assert http_server.requests[-1] == ("/big.bin", f"bytes={kept}-", 206)


def comparable(metrics: dict) -> dict:
    """A training job's metrics without wall times."""
    if isinstance(metrics, dict):
        return {k: comparable(v) for k, v in metrics.items() if "seconds" not in k}
    if isinstance(metrics, list):
        return [comparable(v) for v in metrics]
    return metrics


def assert_close(ours, reference, path="metrics"):
    """Equal, floats within a relative 1e-6 (the stateful GRU's float sums differ in the last bits)."""
    if isinstance(reference, dict):
        assert ours.keys() == reference.keys(), path
        for key in reference:
            assert_close(ours[key], reference[key], f"{path}.{key}")
    elif isinstance(reference, list):
        assert len(ours) == len(reference), path
        for index, (a, b) in enumerate(zip(ours, reference)):
            assert_close(a, b, f"{path}[{index}]")
    elif isinstance(reference, float):
        assert math.isclose(ours, reference, rel_tol=1e-6, abs_tol=1e-9) or (math.isnan(ours) and math.isnan(reference)), \
            f"{path}: {ours} != {reference}"
    else:
        assert ours == reference, path


def checkpoint_epochs(workdir: Path) -> int:
    states = list(workdir.glob(ids_paths.CHECKPOINTS.format(config_hash="*") + "/**/checkpoint/state.json"))
    return max((json.loads(s.read_text())["epochs_done"] for s in states), default=0)


KILL_CONFIGS = ["--configfile", "config/micro.yaml", "config/kill.yaml"]


def straight_and_started(tmp_path: Path, kill_config: dict, target: str
                         ) -> tuple[dict[str, Path], subprocess.Popen, Path]:
    """Two copies of the workflow on the micro config + `kill_config`: `target` made
    in "straight"; snakemake started on it in "killed" (the process, its log)."""
    runs = {}
    for name in ("straight", "killed"):
        workdir = copy_workflow(tmp_path / name)
        (workdir / "config/kill.yaml").write_text(yaml.safe_dump(kill_config))
        git_init(workdir)
        runs[name] = workdir
    snakemake(runs["straight"], "--cores", "2", target, *KILL_CONFIGS)
    log = tmp_path / "killed.log"
    return runs, start([str(BIN / "snakemake"), "--cores", "2", target, *KILL_CONFIGS], runs["killed"], log), log


@pytest.mark.slow
def test_snakemake_killed_mid_epoch_resumes_training_to_the_same_metrics(tmp_path):
    configs = KILL_CONFIGS
    runs, process, log = straight_and_started(tmp_path, IDS_KILL_CONFIG, IDS_TARGET)
    workdir = runs["killed"]
    wait_for(lambda: checkpoint_epochs(workdir) >= 2, process, log)
    time.sleep(0.3)  # into the next epoch
    kill_group(process)  # snakemake and its job, mid-epoch
    done = checkpoint_epochs(workdir)
    assert 2 <= done < IDS_KILL_CONFIG["ids"]["epochs"], "the job ended before it could be killed"
    # nothing of the killed job looks complete, and snakemake plans to run it again
    assert not (workdir / IDS_TARGET).exists()
    assert not list((workdir / ids_paths.TRAIN_DIR.format(**IDS_JOB)).glob("*"))
    plan = snakemake(workdir, "-n", IDS_TARGET, *configs).stdout
    assert "rule ids_train:" in plan

    # a SIGKILLed snakemake leaves its lock; it says so, and --unlock lifts it (as for any killed run)
    locked = snakemake(workdir, "--cores", "2", IDS_TARGET, *configs, check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stderr
    snakemake(workdir, "--unlock", *configs)
    snakemake(workdir, "--cores", "2", IDS_TARGET, *configs)
    train_log = (workdir / ids_paths.LAYOUT.log(ids_paths.TRAIN_JOB_LOG.format(**IDS_JOB))).read_text()
    assert f"resuming after epoch {done} of {IDS_KILL_CONFIG['ids']['epochs']}" in train_log
    resumed = json.loads((workdir / IDS_TARGET).read_text())
    straight = json.loads((runs["straight"] / IDS_TARGET).read_text())
    assert [row["epoch"] for row in resumed["history"]] == [1, 2, 3, 4, 5, 6]
    assert_close(comparable(resumed), comparable(straight))
    # the checkpoint is gone once the job is done: a later rerun trains afresh
    assert checkpoint_epochs(workdir) == 0
    # no MLflow run of a killed job: runs are made only by the publish job, from finished jobs' manifests
    db = workdir / "results/mlflow/mlflow.db"
    assert not db.exists() or not MlflowClient(f"sqlite:///{db}").search_runs(
        [e.experiment_id for e in MlflowClient(f"sqlite:///{db}").search_experiments()])
    manifest = json.loads((workdir / IDS_TARGET).with_name("run.json").read_text())
    # the resumed job's manifest holds every epoch, those before the kill too
    steps = sorted({item["step"] for item in manifest["metrics"] if "train_accuracy" in item["values"]})
    assert steps == [1, 2, 3, 4, 5, 6]
    # every file the run left is whole: JSON parses, arrays load
    for path in (workdir / "results").rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                [arrays[key] for key in arrays.files]
    assert not list((workdir / "results").rglob("*.part"))


# Study 2 at micro scale, one (protocol, data set): its two configurations in one job, with
# enough epochs (90 per configuration, tens of ms each) to be killed inside the second
RELU_KILL_CONFIG = {
    "run_name": "kill",
    "studies": ["relu"],
    "protocols": ["clean"],
    "relu": {"heads": ["softmax", "relu"], "folds": 2, "epochs": 30},
}
RELU_TARGET = "results/relu/metrics.json"
RELU_CONFIGS = ("ffnn-softmax/seed0", "ffnn-relu/seed0")  # the job's order


def relu_checkpoints(workdir: Path) -> list[Path]:
    return list((workdir / "results/relu/work/checkpoints").glob("*/clean/wdbc"))


def relu_progress(workdir: Path) -> tuple[bool, int]:
    """Whether the first configuration finished; the second's epochs done."""
    folders = relu_checkpoints(workdir)
    if not folders:
        return False, 0
    state = folders[0] / RELU_CONFIGS[1] / "checkpoint/state.json"
    epochs = json.loads(state.read_text())["epochs_done"] if state.exists() else 0
    return (folders[0] / RELU_CONFIGS[0] / "finished.json").exists(), epochs


@pytest.mark.slow
def test_snakemake_killed_in_a_relu_batch_resumes_it_to_the_same_metrics(tmp_path):
    configs = KILL_CONFIGS
    runs, process, log = straight_and_started(tmp_path, RELU_KILL_CONFIG, RELU_TARGET)
    workdir = runs["killed"]
    wait_for(lambda: relu_progress(workdir)[0] and relu_progress(workdir)[1] >= 3, process, log)
    kill_group(process)  # snakemake and its job, inside the second configuration's training
    first_done, done = relu_progress(workdir)
    total = 3 * RELU_KILL_CONFIG["relu"]["epochs"]  # 2 folds and the final model
    assert first_done and 3 <= done < total, "the job ended before it could be killed"
    assert not (workdir / RELU_TARGET).exists()
    plan = snakemake(workdir, "-n", "--rerun-incomplete", RELU_TARGET, *configs).stdout
    assert "rule relu_train_clean_tabular:" in plan

    snakemake(workdir, "--unlock", *configs)
    # the first configuration's files were written before the kill: Snakemake reruns an
    # incomplete job only when told (workflow/profiles/default does), deleting them first
    snakemake(workdir, "--cores", "2", "--rerun-incomplete", RELU_TARGET, *configs)
    train_log = (workdir / "logs/relu/train/clean/wdbc.log").read_text()
    assert f"{RELU_CONFIGS[0]}: finished before the job was stopped" in train_log  # not trained again
    assert f"resuming after epoch {done} of {total}" in train_log
    for config in RELU_CONFIGS:
        job = f"results/relu/work/clean/wdbc/{config}"
        resumed, straight = (json.loads((run / job / "metrics.json").read_text()) for run in (workdir, runs["straight"]))
        assert resumed == straight, config  # bit for bit
        assert (workdir / job / "folds.csv").read_text() == (runs["straight"] / job / "folds.csv").read_text()
        # the manifest holds every epoch, those before the kill too
        manifest = json.loads((workdir / job / "run.json").read_text())
        assert sorted({item["step"] for item in manifest["metrics"] if "loss" in item["values"]}) == list(range(total))
    assert json.loads((workdir / RELU_TARGET).read_text()) == json.loads((runs["straight"] / RELU_TARGET).read_text())
    # the checkpoints are gone once the job is done: a later rerun trains afresh
    assert not relu_checkpoints(workdir)
    assert not list((workdir / "results").rglob("*.part")) and not list((workdir / "results").rglob(".*partial*"))


@pytest.mark.slow
def test_a_locked_mlflow_store_loses_no_run(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "config/locked.yaml").write_text(yaml.safe_dump({"run_name": "locked", "studies": ["relu"]}))
    configs = ["--configfile", "config/micro.yaml", "config/locked.yaml"]
    git_init(workdir)
    # the store exists; then another process locks it for the whole run
    db = workdir / "results/mlflow/mlflow.db"
    create = f"from reproflow import tracking; tracking.experiment_id(tracking.client('sqlite:///{db}'), 'relu')"
    subprocess.run([sys.executable, "-c", create], cwd=workdir, env=env(), check=True, timeout=300)
    holder = hold_sqlite_lock(db)
    try:
        result = snakemake(workdir, "--cores", "2", *configs, check=False)
    finally:
        holder.kill()
        holder.wait()
    # every job's results are there; only the publish job failed, naming the store and saying to rerun
    assert result.returncode != 0
    assert json.loads((workdir / relu_paths.LAYOUT.metrics).read_text())
    publish_log = (workdir / paths.log("mlflow", "relu_publish")).read_text()
    assert f"MLflow store sqlite:///{db} did not take the 'relu' runs" in publish_log
    assert "run snakemake again" in publish_log and "Traceback" not in publish_log
    assert not (workdir / relu_paths.LAYOUT.published).exists()
    # the next run reruns the publish job only
    planned = snakemake(workdir, "-n", "--quiet", "rules", *configs).stdout
    assert "mlflow_publish" in planned and "relu_train" not in planned and "relu_summary" not in planned
    snakemake(workdir, "--cores", "2", *configs)

    client = MlflowClient(f"sqlite:///{db}")
    parent_id = json.loads((workdir / relu_paths.LAYOUT.published).read_text())["parent"]
    runs = client.search_runs([client.get_experiment_by_name("relu").experiment_id])
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent_id]
    every_job = dict.fromkeys(("protocol", "dataset", "model", "head", "seed"), "*")
    job_metrics = sorted(workdir.glob(relu_paths.JOB_METRICS.format(**every_job)))
    assert len(children) == len(job_metrics) + 1 and len(runs) == len(children) + 1  # the summary's, one parent
    assert {run.info.status for run in runs} == {"FINISHED"}
    # each training run in MLflow carries the numbers its job wrote to disk, and its artifacts
    logged = sorted(run.data.metrics["test_accuracy"] for run in children
                    if run.data.tags["snakemake_rule"] == "relu_train")
    assert logged == sorted(json.loads(p.read_text())["test"]["accuracy"] for p in job_metrics)
    assert all(client.list_artifacts(run.info.run_id) for run in children)


def dvc_repo(workdir: Path, cache: Path, cores: int, studies: list[str]) -> Path:
    """A workflow checkout as a DVC repo on the micro config, its cache in `cache`."""
    copy_workflow(workdir)
    config = yaml.safe_load((workdir / "config/micro.yaml").read_text())
    config.update(run_name=f"concurrent-{cores}", studies=studies)
    (workdir / "config/concurrent.yaml").write_text(yaml.safe_dump(config))
    stages = yaml.safe_load((workdir / "dvc.yaml").read_text())
    stages["vars"] = [{"configfile": "config/concurrent.yaml"},
                      {"snakemake": f"snakemake --profile workflow/profiles/default --cores {cores}"}]
    (workdir / "dvc.yaml").write_text(yaml.safe_dump(stages, sort_keys=False))
    git_init(workdir)
    for args in (["init", "-q"], ["config", "core.analytics", "false"], ["cache", "dir", str(cache)]):
        subprocess.run([str(BIN / "dvc"), *args], cwd=workdir, env=env(), check=True, capture_output=True)
    return workdir


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("cores", [2, 4])
def test_two_studies_at_once_share_one_mlflow_store_and_dvc_cache(tmp_path, cores):
    """`dvc repro relu` and `dvc repro nmr` in two checkouts at the same time,
    one MLflow store (MLFLOW_TRACKING_URI) and one DVC cache between them."""
    store, cache = tmp_path / "shared/mlflow.db", tmp_path / "shared/dvc-cache"
    store.parent.mkdir()
    repos = {study: dvc_repo(tmp_path / study, cache, cores, [study]) for study in ("relu", "nmr")}
    environ = env(MLFLOW_TRACKING_URI=f"sqlite:///{store}")
    processes = {
        study: subprocess.Popen([str(BIN / "dvc"), "repro", study], cwd=repo, env=environ,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for study, repo in repos.items()
    }
    for study, process in processes.items():
        output = process.communicate(timeout=1500)[0]
        assert process.returncode == 0, f"dvc repro {study}:\n{output[-6000:]}"

    client = MlflowClient(f"sqlite:///{store}")
    for study, repo in repos.items():
        assert json.loads((repo / paths.Study(study).metrics).read_text())
        # every job's run is in the store, finished, once, under its study's parent
        published = json.loads((repo / paths.Study(study).published).read_text())
        manifests = [p for p in (repo / paths.Study(study).results).rglob("*run.json")]
        parent_id = published["parent"]
        experiment = client.get_experiment_by_name(study).experiment_id
        runs = client.search_runs([experiment])
        children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent_id]
        assert len(runs) == len(children) + 1 and client.get_run(parent_id).info.status == "FINISHED"
        assert len(children) == len(manifests) == len(published["children"])
        assert {run.info.status for run in children} == {"FINISHED"}
        assert sorted(run.info.run_id for run in children) == sorted(published["children"].values())
        assert len({run.data.tags["reproflow.job"] for run in children}) == len(children)  # each run is one job's
        for run in children:
            for artifact in client.list_artifacts(run.info.run_id):
                if not artifact.is_dir:
                    local = Path(client.download_artifacts(run.info.run_id, artifact.path, str(tmp_path / "dl")))
                    assert local.stat().st_size == artifact.file_size
        assert "up to date" in subprocess.run([str(BIN / "dvc"), "status", study], cwd=repo, env=env(),
                                              capture_output=True, text=True, check=True).stdout.lower()
    # the shared cache is whole: every object's content matches its name
    objects = [p for p in (cache / "files/md5").rglob("*") if p.is_file()]
    assert objects
    for path in objects:
        digest = path.parent.name + path.name.removesuffix(".dir")
        if path.name.endswith(".dir"):
            entries = json.loads(path.read_text())
            assert all((cache / "files/md5" / e["md5"][:2] / e["md5"][2:]).is_file() for e in entries)
        else:
            assert md5(path) == digest, path
