"""Study 1's training jobs train several configurations in one process
(`reproflow.ids.jobs.train_jobs`): a configuration trained second gives the
files and numbers it gives in a process of its own, and a batch killed after
its first configuration, rerun, does not retrain that one (it resumes after
its last epoch) and ends with the numbers of an uninterrupted batch.

Each batch runs in a fresh `python` (as Snakemake starts a job), on the small
real dataset the hostile-input cases use (three synthetic days through the
parse, transform and dataset steps)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bad_inputs.hostile_jobs import ids_files, ids_options

ROOT = Path(__file__).resolve().parents[1]
TIMING = ("seconds",)   # wall-clock fields: the only ones that may differ


def configuration(folder: Path, arm: str, seed: int) -> dict[str, Any]:
    options = {**ids_options(), "units": 8, "epochs": 2, "batch_size": 64}
    out = folder / f"{arm}-seed{seed}"
    return {"data": str(folder / "dataset.npz"), "info": str(folder / "dataset.json"),
            "out": {"model_dir": str(out / "model"), "metrics": str(out / "metrics.json"),
                    "history": str(out / "history.csv"), "run": str(out / "run.json")},
            "protocol": "clean", "feature_set": "all", "arm": arm, "seed": seed, "purpose": "final",
            "options": options, "backup_dir": str(folder / "checkpoints" / f"{arm}-seed{seed}"),
            "transform": str(folder / "fitted.json"), "search_files": [str(folder / "search.json")]}


def dataset(folder: Path) -> None:
    """The three days' dataset, and a learning-rate search result to take the rate from."""
    ids_files(folder)
    (folder / "search.json").write_text(json.dumps({"learning_rate": 0.01, "val": {
        "accuracy": 0.9, "balanced_accuracy": 0.9, "f1": 0.9, "roc_auc": 0.9}}))


def start_batch(configurations: list[dict[str, Any]], log: Path) -> subprocess.Popen:
    code = ("import json, logging, sys\nlogging.basicConfig(level=logging.INFO)\n"
            "from reproflow.runtime import limit_threads\nlimit_threads(1)\n"
            "from reproflow.ids.jobs import train_jobs\ntrain_jobs(json.loads(sys.argv[1]))\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT / "src")}
    with open(log, "ab") as handle:
        return subprocess.Popen([sys.executable, "-c", code, json.dumps(configurations)], cwd=ROOT, env=env,
                                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def run_batch(configurations: list[dict[str, Any]], log: Path) -> None:
    assert start_batch(configurations, log).wait(timeout=600) == 0, log.read_text()[-3000:]


def without_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if not any(t in k for t in TIMING)}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def results(config: dict[str, Any]) -> tuple[Any, list[dict[str, str]]]:
    metrics = json.loads(Path(config["out"]["metrics"]).read_text())
    with open(config["out"]["history"], newline="") as handle:
        history = [without_timing(row) for row in csv.DictReader(handle)]
    return without_timing(metrics), history


def test_a_configuration_trained_second_gives_the_numbers_of_its_own_process(tmp_path):
    dataset(tmp_path)
    alone, batch = tmp_path / "alone", tmp_path / "batch"
    for folder in (alone, batch):
        folder.mkdir()
        for name in ("dataset.npz", "dataset.json", "fitted.json", "search.json"):
            (folder / name).symlink_to(tmp_path / name)
    second = configuration(alone, "gru_softmax", 1)
    run_batch([second], tmp_path / "alone.log")
    batched = [configuration(batch, "gru_svm", 0), configuration(batch, "gru_softmax", 1)]
    run_batch(batched, tmp_path / "batch.log")
    metrics, history = results(batched[1])
    assert metrics["test"]["accuracy"] > 0 and len(history) == 2
    assert (metrics, history) == results(second)
    # all checkpoints removed once the batch is done: a rerun trains afresh
    assert not list((batch / "checkpoints").glob("*/checkpoint"))


def test_a_killed_batch_rerun_does_not_retrain_its_finished_configurations(tmp_path):
    dataset(tmp_path)
    configs = [configuration(tmp_path, "gru_svm", 0), configuration(tmp_path, "gru_softmax", 0)]
    log = tmp_path / "batch.log"
    process = start_batch(configs, log)
    first, second = (Path(c["out"]["metrics"]) for c in configs)
    deadline = time.monotonic() + 600
    while not first.exists():   # the first configuration is done: kill the batch in the second
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not second.exists(), "the batch ended before it could be killed"
    uninterrupted = results(configs[0])
    for config in configs:   # Snakemake removes every output of a killed job
        for path in config["out"].values():
            subprocess.run(["rm", "-rf", path], check=True)
    rerun_log = tmp_path / "rerun.log"
    run_batch(configs, rerun_log)
    text = rerun_log.read_text()
    assert "resuming after epoch 2 of 2" in text, text[-3000:]   # the first: scored again, not trained
    assert results(configs[0]) == uninterrupted
    assert second.exists()
