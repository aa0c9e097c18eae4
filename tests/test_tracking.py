"""MLflow tracking against a real SQLite store."""

import os
import socket
import subprocess
import sys

import pytest

from reproflow import tracking
from reproflow.cli import main
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
        run.log_params({"model": {"hidden": 512, "dropout": 0.1}})
        for epoch in range(3):
            run.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
    tracking.end_parent_run(parent)

    client = tracking.client()
    child = client.get_run(run.run_id)
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


def test_a_locked_store_loses_nothing_and_the_journal_relogs(store, caplog):
    tracking.init_store(["relu"])
    parent = tracking.start_parent_run("relu", "relu-test", {"config_hash": "a"})
    (store / "model.txt").write_text("weights")
    with tracking.child_run("relu", parent, "ffnn-relu", {"rule": "relu_train"},
                            journal_dir=store / "journal") as run:
        run.log_params({"epochs": 3})
        run.log_metric("loss", 1.0, step=0)
        holder = hold_sqlite_lock(store / "results/mlflow/mlflow.db")
        try:
            for epoch in (1, 2):  # the first call waits for SQLite's timeout, then the run goes offline
                run.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
            run.log_artifact(store / "model.txt")
        finally:
            holder.kill()
            holder.wait()
    assert "did not answer" in caplog.text and f"reproflow mlflow relog {run.journal}" in caplog.text

    client = tracking.client()
    assert client.get_run(run.run_id).info.status == "RUNNING"  # the end never reached the store
    assert [m.step for m in client.get_metric_history(run.run_id, "loss")] == [0]
    assert tracking.pending_journals(store) == []  # not under <results>/<study>/mlflow_journal
    assert main(["mlflow", "pending", "--results", str(store)]) == 0

    assert main(["mlflow", "relog", str(run.journal)]) == 0
    finished = client.get_run(run.run_id)
    assert finished.info.status == "FINISHED"
    assert finished.data.params == {"epochs": "3"}
    history = client.get_metric_history(run.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert [a.path for a in client.list_artifacts(run.run_id)] == ["model.txt"]
    # sent once: a second relog sends nothing more
    tracking.relog(run.journal)
    assert len(client.get_metric_history(run.run_id, "loss")) == 3


def test_an_unreachable_server_journals_the_whole_run(store, monkeypatch, caplog):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    journals = store / "results/relu/mlflow_journal"
    with tracking.child_run("relu", "f" * 32, "ffnn-softmax", {"rule": "relu_train"},
                            uri=f"http://127.0.0.1:{free_port()}", journal_dir=journals) as run:
        run.log_metrics({"accuracy": 0.5}, step=0)
    assert run.run_id is None and "did not answer" in caplog.text
    assert tracking.pending_journals(store / "results") == [run.journal]

    tracking.init_store(["relu"])
    assert main(["mlflow", "relog", "--results", str(store / "results"), "--uri", tracking.tracking_uri()]) == 0
    [logged] = tracking.client().search_runs([tracking.client().get_experiment_by_name("relu").experiment_id])
    assert logged.info.run_name == "ffnn-softmax" and logged.info.status == "FINISHED"
    assert logged.data.tags[tracking.PARENT_TAG] == "f" * 32
    assert logged.data.metrics == {"accuracy": 0.5}
    assert tracking.pending_journals(store / "results") == []


def test_a_failing_job_ends_its_run_failed(store):
    tracking.init_store(["ids"])
    with pytest.raises(ValueError), tracking.child_run("ids", None, "job", {}, journal_dir=store / "j") as run:
        raise ValueError("training diverged")
    assert tracking.client().get_run(run.run_id).info.status == "FAILED"


KILLED_JOB = """
import os, signal
from reproflow import tracking
run = tracking.RunLog.start("ids", None, "train/seed0", {}, tracking.tracking_uri(), "j")
run.log_metrics({"loss": 0.5}, step=1)
print(run.run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_rerun_of_a_killed_job_ends_its_run_killed(store):
    """A job killed unseen (SIGKILL, a cluster's time limit) leaves its run
    RUNNING; the job's next run ends it KILLED, and only it."""
    tracking.init_store(["ids"])
    killed = subprocess.run([sys.executable, "-c", KILLED_JOB], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    killed_id = killed.stdout.split()[0]
    with tracking.child_run("ids", None, "train/seed1", {}, journal_dir=store / "j"):
        pass  # another job's run: not touched
    live = tracking.RunLog.start("ids", None, "train/seed0", {}, tracking.tracking_uri(), store / "j")
    client = tracking.client()
    assert client.get_run(killed_id).info.status == "KILLED"
    assert client.get_run(killed_id).info.end_time >= client.get_run(killed_id).info.start_time
    assert client.get_metric_history(killed_id, "loss")[0].value == 0.5

    # a run whose process is alive on this host is left alone, although it has not ended
    with tracking.child_run("ids", None, "train/seed0", {}, journal_dir=store / "j") as rerun:
        pass
    assert client.get_run(live.run_id).info.status == "RUNNING"
    assert client.get_run(rerun.run_id).info.status == "FINISHED"
    # the killed run's journal holds its end and is all in the store
    journals = list((store / "j").glob("*.jsonl"))
    assert len(journals) == 4 and all(tracking.unsent(tracking.read_journal(p)) is None for p in journals)


def test_a_param_logged_twice_with_two_values_is_a_bug_not_an_outage(store):
    tracking.init_store(["ids"])
    with pytest.raises(tracking.mlflow.exceptions.MlflowException), \
            tracking.child_run("ids", None, "job", {}, journal_dir=store / "j") as run:
        run.log_params({"lr": 1e-5})
        run.log_params({"lr": 1e-6})
    assert run.online


def test_journal_errors_name_the_file_and_line(store, capsys):
    journal = store / "broken.jsonl"
    start = '{"seq": 1, "op": "start", "uri": "sqlite:///x.db", "run_id": "x"}'
    journal.write_text(start + '\nnot json\n{"seq": 3, "op": "end", "status": "FINISHED", "time": 1}\n')
    assert main(["mlflow", "relog", str(journal)]) == 1
    assert f"{journal}, line 2: not a journal record" in capsys.readouterr().err
    # a torn last line (a job killed mid-write) is tolerated
    journal.write_text(start + '\n{"seq": 2, "op": "metr')
    assert tracking.unsent(tracking.read_journal(journal)) is None
    assert main(["mlflow", "relog", str(store / "missing.jsonl")]) == 1
    assert "missing.jsonl: cannot read the MLflow journal" in capsys.readouterr().err


def test_a_corrupt_journal_does_not_fail_the_end_of_a_run(tmp_path):
    """The Snakefile's onsuccess (say_pending_journals) reads every journal:
    one it cannot read is named with its line, beside the pending ones, and
    nothing raises, so a run whose jobs all succeeded still succeeds."""
    from reproflow.journal import journal_report

    journals = tmp_path / "results" / "relu" / "mlflow_journal"
    journals.mkdir(parents=True)
    start = '{"seq": 1, "op": "start", "uri": "sqlite:///x.db", "run_id": "x"}\n'
    (journals / "a.jsonl").write_text(start + '{"seq": 2, "op": "offline", "first_unsent": 2}\n')
    (journals / "b.jsonl").write_bytes(start.encode() + b"\xff\xfe junk\n{}\n")
    (journals / "c.jsonl").mkdir()
    lines = journal_report(tmp_path / "results")
    assert lines[0].startswith("1 run(s) did not reach the MLflow store")
    assert f"{journals / 'b.jsonl'}, line 2: not UTF-8 text" in lines[1]
    assert f"{journals / 'c.jsonl'}: is a folder" in lines[2]
    assert tracking.pending_journals(tmp_path / "results") == [journals / "a.jsonl"]
