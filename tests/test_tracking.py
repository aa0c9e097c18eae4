"""MLflow tracking against a real SQLite store."""

import os
import subprocess

import pytest

from reproflow import tracking


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def test_telemetry_is_off():
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_default_store_is_sqlite_under_results(store):
    uri = tracking.tracking_uri()
    assert uri == "sqlite:///results/mlflow/mlflow.db"
    ids = tracking.init_store(["relu", "ids"])
    assert (store / "results/mlflow/mlflow.db").exists()
    # idempotent: a second call finds the same experiments
    assert tracking.init_store(["relu", "ids"]) == ids
    location = tracking.client().get_experiment(ids["relu"]).artifact_location
    assert location == (store / "results/mlflow/artifacts/relu").as_uri()


def test_environment_overrides_the_store(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/elsewhere/other.db")
    assert tracking.tracking_uri() == f"sqlite:///{store}/elsewhere/other.db"
    tracking.init_store(["relu"])
    assert (store / "elsewhere/other.db").exists()
    assert not (store / "results").exists()


def test_child_runs_nest_under_the_parent_with_tags(store):
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"],
        check=True,
    )
    tracking.init_store(["relu"])
    tags = tracking.run_tags(config_hash="abc123", rule="relu_train", datasets={"wdbc": "f" * 64},
                             protocol="clean")
    parent = tracking.start_parent_run("relu", "relu-test", tags)
    with tracking.child_run("relu", parent, "ffnn-softmax", tags) as run:
        tracking.log_params({"model": {"hidden": 512, "dropout": 0.1}})
        for epoch in range(3):
            tracking.mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
    tracking.end_parent_run(parent)

    client = tracking.client()
    child = client.get_run(run.info.run_id)
    assert child.data.tags["mlflow.parentRunId"] == parent
    assert child.data.tags["git_commit"] == tracking.git_commit()
    assert len(child.data.tags["git_commit"]) == 40
    assert child.data.tags["dataset.wdbc.sha256"] == "f" * 64
    assert child.data.params["model.hidden"] == "512"
    assert [m.step for m in client.get_metric_history(child.info.run_id, "loss")] == [0, 1, 2]
    assert client.get_run(parent).info.status == "FINISHED"


def test_parent_run_creates_a_missing_experiment(store):
    tracking.init_store([])
    parent = tracking.start_parent_run("nmr", "nmr-test", {"config_hash": "a"})
    tracking.end_parent_run(parent, tags={"config_hash": "b"})
    run = tracking.client().get_run(parent)
    experiment = tracking.client().get_experiment(run.info.experiment_id)
    assert experiment.name == "nmr"
    assert experiment.artifact_location == (store / "results/mlflow/artifacts/nmr").as_uri()
    # the parent carries the config hash of the results that closed it
    assert run.data.tags["config_hash"] == "b"
