"""scripts/tracking_server.sh: a real MLflow server on a real PostgreSQL,
bound to this machine only, serving the artifacts jobs upload."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from reproflow import tracking
from reproflow.manifest import recording
from workflow_utils import BIN, REPO, free_port

SCRIPT = REPO / "scripts" / "tracking_server.sh"
HAVE_POSTGRES = bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_POSTGRES and os.geteuid() != 0,
        reason="needs PostgreSQL (apt-get install postgresql), which the script installs only as root",
    ),
]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (/proc/net/tcp, tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.fixture
def server():
    # PostgreSQL runs as `postgres` under root, which cannot enter pytest's private tmp_path
    state = Path(tempfile.mkdtemp(prefix="reproflow-tracking-test-"))
    state.chmod(0o755)
    env = {**os.environ, "TRACKING_STATE": str(state), "TRACKING_PORT": str(free_port()),
           "TRACKING_PG_PORT": str(free_port()), "MLFLOW": str(BIN / "mlflow"), "TRACKING_WORKERS": "1"}

    def script(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600)

    started = script("start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield state, env, script
    finally:
        stopped = script("stop")
        shutil.rmtree(state, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_a_run_with_an_artifact_goes_through_the_server_into_postgresql(server, tmp_path):
    state, env, script = server
    uri = script("uri").stdout.strip()
    assert uri == f"http://127.0.0.1:{env['TRACKING_PORT']}"
    # both listen on the loopback address only (0100007F is 127.0.0.1)
    assert listening_addresses(int(env["TRACKING_PORT"])) == {"0100007F"}
    assert listening_addresses(int(env["TRACKING_PG_PORT"])) == {"0100007F"}
    assert (state / "pgpass").stat().st_mode & 0o077 == 0

    artifact = tmp_path / "confusion.csv"
    artifact.write_text("1,0\n0,1\n")
    with recording(tmp_path / "run.json", [], "job") as run:
        run.log_params({"epochs": 2})
        run.log_metric("loss", 0.5, step=0)
        run.log_artifact(str(artifact))
    with recording(tmp_path / "summary.json", [], "summary") as run:
        run.log_metrics({"accuracy": 0.5})
    published = tracking.publish(study="relu", run_name="test", summary_rule="relu_summary", config_hash="x", uri=uri,
                                 manifests={"relu_train": [tmp_path / "run.json"], "relu_summary": [tmp_path / "summary.json"]})
    parent = published["parent"]

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("relu")
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.info.status for run in runs) == ["FINISHED", "FINISHED", "FINISHED"]
    child = client.get_run(published["children"]["relu_train:job"])
    assert child.data.tags.get("mlflow.parentRunId") == parent
    assert [item.path for item in client.list_artifacts(child.info.run_id)] == ["confusion.csv"]
    # the server stored it in its artifact folder; the run itself is in PostgreSQL
    stored = list((state / "artifacts").rglob("confusion.csv"))
    assert [path.read_text() for path in stored] == ["1,0\n0,1\n"]
    assert not list(state.rglob("*.db"))

    # stop ends both; start again finds the same runs in the same database
    assert script("stop").returncode == 0
    assert script("status").returncode == 1
    assert not listening_addresses(int(env["TRACKING_PORT"]))
    assert script("start").returncode == 0
    assert len(MlflowClient(uri).search_runs([experiment.experiment_id])) == 3
