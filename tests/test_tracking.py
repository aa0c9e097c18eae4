"""MLflow at the edge: run manifests published to a real SQLite store."""

import json
import os
import socket
import subprocess

import pytest

from reproflow import tracking
from reproflow.errors import ReproflowError
from reproflow.manifest import RunRecord, read_manifest, recording
from workflow_utils import hold_sqlite_lock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def test_telemetry_is_off():
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_default_store_is_sqlite_under_results(store):
    uri = tracking.tracking_uri()
    assert uri == f"sqlite:///{store / 'results/mlflow/mlflow.db'}"
    ids = {name: tracking.experiment_id(tracking.client(), name) for name in ("relu", "ids")}
    assert (store / "results/mlflow/mlflow.db").exists()
    # idempotent: a second call finds the same experiments
    assert {name: tracking.experiment_id(tracking.client(), name) for name in ("relu", "ids")} == ids
    location = tracking.client().get_experiment(ids["relu"]).artifact_location
    assert location == (store / "results/mlflow/artifacts/relu").as_uri()


def test_environment_overrides_the_store(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/elsewhere/other.db")
    assert tracking.tracking_uri() == f"sqlite:///{store}/elsewhere/other.db"
    tracking.experiment_id(tracking.client(), "relu")
    assert (store / "elsewhere/other.db").exists()
    assert not (store / "results").exists()


def write_study(folder, seeds=(0, 1)) -> dict[str, list[str]]:
    """Manifests of two training jobs and a summary, as the relu jobs write them."""
    folder.mkdir(parents=True, exist_ok=True)
    manifests = {"relu_train": [], "relu_summary": [str(folder / "summary.json")]}
    for seed in seeds:
        (folder / f"metrics{seed}.json").write_text(json.dumps({"seed": seed}))
        with recording(folder / f"run{seed}.json", [], f"clean/wdbc/ffnn-relu/seed{seed}",
                       {"protocol": "clean", "seed": str(seed), "dataset.wdbc.sha256": "f" * 64}) as run:
            run.log_params({"model": {"hidden": 512, "dropout": 0.1}, "seed": seed})
            run.log_history([{"step": s, "epoch": s + 1, "loss": 1.0 / (s + 1), "fold": 0.0} for s in range(3)],
                            "step", skip=("epoch",))
            run.log_metrics({"test_accuracy": 0.9 + seed / 100})
            run.log_dataset("wdbc", "f" * 64, folder / f"metrics{seed}.json")
            run.log_artifact(folder / f"metrics{seed}.json")
        manifests["relu_train"].append(str(folder / f"run{seed}.json"))
    (folder / "table.csv").write_text("a,b\n1,2\n")
    with recording(folder / "summary.json", [], "summary") as run:
        run.log_metrics({"clean.wdbc.ffnn-relu.test_accuracy_mean": 0.905})
        run.log_artifact(folder / "table.csv")
    return manifests


def publish(manifests, config_hash="abc123", **options):
    return tracking.publish(study="relu", run_name="test", manifests=manifests, summary_rule="relu_summary",
                            config_hash=config_hash, **options)


def runs_of(client, study="relu"):
    return client.search_runs([client.get_experiment_by_name(study).experiment_id])


def test_publish_makes_a_parent_and_a_child_per_job_with_tags(store):
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
                   check=True)
    published = publish(write_study(store / "jobs"))
    client = tracking.client()
    parent = client.get_run(published["parent"])
    assert parent.info.status == "FINISHED" and parent.info.run_name == "relu-test"
    assert parent.data.metrics == {"clean.wdbc.ffnn-relu.test_accuracy_mean": 0.905}
    assert [a.path for a in client.list_artifacts(parent.info.run_id, "summary")] == ["summary/table.csv"]
    assert len(runs_of(client)) == 4  # the parent, two training jobs, the summary
    child = client.get_run(published["children"]["relu_train:clean/wdbc/ffnn-relu/seed1"])
    tags = child.data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id and child.info.status == "FINISHED"
    assert tags["git_commit"] == tracking.git_commit() and len(tags["git_commit"]) == 40
    assert (tags["config_hash"], tags["snakemake_rule"], tags["protocol"], tags["seed"]) == \
        ("abc123", "relu_train", "clean", "1")
    assert tags["dataset.wdbc.sha256"] == "f" * 64 and tags["study_run"] == "relu-test"
    assert child.data.params == {"model.hidden": "512", "model.dropout": "0.1", "seed": "1"}
    assert [(m.step, m.value) for m in client.get_metric_history(child.info.run_id, "loss")] == \
        [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert child.data.metrics["test_accuracy"] == 0.91
    assert [d.dataset.name for d in child.inputs.dataset_inputs] == ["wdbc"]
    assert [a.path for a in client.list_artifacts(child.info.run_id)] == ["metrics1.json"]
    experiment = client.get_experiment_by_name("relu")
    assert experiment.tags["mlflow.note.content"] == tracking.STUDY_DESCRIPTIONS["relu"]


def test_publishing_again_never_duplicates_a_run(store):
    manifests = write_study(store / "jobs")
    first = publish(manifests)
    client = tracking.client()
    # unchanged manifests: the same runs, re-tagged with the current config hash
    second = publish(manifests, config_hash="def456")
    assert second == first and len(runs_of(client)) == 4
    assert {r.data.tags["config_hash"] for r in runs_of(client)} == {"def456"}
    assert len(client.get_metric_history(first["parent"], "clean.wdbc.ffnn-relu.test_accuracy_mean")) == 1
    # one job rerun: its run is replaced (with its logged models), the others kept
    experiment = client.get_experiment_by_name("relu").experiment_id
    key = "relu_train:clean/wdbc/ffnn-relu/seed1"
    client.create_logged_model(experiment, name="model", source_run_id=first["children"][key])
    rerun = write_study(store / "jobs", seeds=(1,))
    third = publish({"relu_train": [manifests["relu_train"][0], *rerun["relu_train"]],
                     "relu_summary": rerun["relu_summary"]})
    assert third["parent"] == first["parent"] and third["children"][key] != first["children"][key]
    assert third["children"]["relu_train:clean/wdbc/ffnn-relu/seed0"] == first["children"]["relu_train:clean/wdbc/ffnn-relu/seed0"]
    assert len(runs_of(client)) == 4
    assert client.get_run(first["children"][key]).info.lifecycle_stage == "deleted"
    assert not client.search_logged_models([experiment])


def test_a_locked_store_fails_publish_and_a_rerun_publishes_everything(store):
    manifests = write_study(store / "jobs")
    tracking.experiment_id(tracking.client(), "relu")
    holder = hold_sqlite_lock(store / "results/mlflow/mlflow.db")
    try:
        with pytest.raises(ReproflowError, match="did not take the 'relu' runs.*run snakemake again") as error:
            publish(manifests)
    finally:
        holder.kill()
        holder.wait()
    assert str(store / "results/mlflow/mlflow.db") in str(error.value)
    published = publish(manifests)
    runs = runs_of(tracking.client())
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert set(published["children"]) == {"relu_train:clean/wdbc/ffnn-relu/seed0",
                                          "relu_train:clean/wdbc/ffnn-relu/seed1", "relu_summary:summary"}


def test_an_unreachable_server_fails_publish_naming_it(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ReproflowError, match=f"MLflow store {uri} did not take"):
        publish(write_study(store / "jobs"), uri=uri)


def test_a_manifest_naming_a_missing_output_is_refused_before_the_store(store):
    manifests = write_study(store / "jobs")
    (store / "jobs/metrics0.json").unlink()
    with pytest.raises(ReproflowError, match="run0.json: run manifest names .*metrics0.json, which does not exist"):
        publish(manifests)
    assert not (store / "results").exists()


def test_a_corrupt_manifest_is_named_with_its_key(store):
    path = store / "run.json"
    path.write_text(json.dumps({**RunRecord("x").as_dict(), "metrics": [{"step": 0, "time": 1,
                                                                        "values": {"loss": "high"}}]}))
    with pytest.raises(ReproflowError, match=r"run.json: run manifest metrics\[0\] value 'loss' is 'high'"):
        read_manifest(path)
    path.write_text(json.dumps({**RunRecord("x").as_dict(), "format": "other"}))
    with pytest.raises(ReproflowError, match="key 'format' is 'other'"):
        read_manifest(path)


def test_a_param_logged_twice_with_two_values_is_a_bug(store):
    run = RunRecord("job")
    run.log_params({"lr": 1e-5})
    with pytest.raises(ReproflowError, match="param 'lr' logged as '1e-05' and as 1e-06"):
        run.log_params({"lr": 1e-6})


def test_a_failing_job_writes_no_manifest(store):
    with pytest.raises(ValueError), recording(store / "run.json", [], "job") as run:
        run.log_metrics({"loss": 1.0})
        raise ValueError("training diverged")
    assert not (store / "run.json").exists()
