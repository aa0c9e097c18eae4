"""The micro config on a real one-node SLURM cluster with the SLURM profile,
logging to an MLflow tracking server on PostgreSQL.

It installs Debian packages and starts daemons as root, so outside CI it is
opt-in (REPROFLOW_SLURM_TEST=1). Under CI (REPROFLOW_CI=1, set by .ci/run) it
always runs and fails, never skips, when a part cannot start, saying which.
See docs/reliability.md, "A real SLURM cluster".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from workflow_utils import BIN, REPO, free_port

SLURM_DIR = REPO / "tests" / "slurm"
TRACKING_SERVER = REPO / "scripts" / "tracking_server.sh"
IN_CI = os.environ.get("REPROFLOW_CI") == "1"
ENABLED = IN_CI or os.environ.get("REPROFLOW_SLURM_TEST") == "1"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not ENABLED,
        reason="starts a real SLURM cluster as root (apt-get, daemons): set REPROFLOW_SLURM_TEST=1",
    ),
]


def run(*args: str, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    started = time.monotonic()
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    print(f"$ {' '.join(args)}  # exit {result.returncode} after {time.monotonic() - started:.0f} s")
    print(result.stdout)
    print(result.stderr)
    return result


def must(result: subprocess.CompletedProcess, part: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"{part} failed (exit {result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")


def test_micro_run_on_a_one_node_slurm_cluster_with_a_tracking_server(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the SLURM test needs root: cluster.sh installs packages and starts daemons")
    if shutil.which("apt-get") is None:
        pytest.fail("the SLURM test needs a Debian/Ubuntu machine (apt-get)")
    # PostgreSQL runs as `postgres`, which cannot enter pytest's private tmp_path
    state = Path(tempfile.mkdtemp(prefix="reproflow-tracking-"))
    state.chmod(0o755)
    server_env = {
        "TRACKING_STATE": str(state), "TRACKING_PORT": str(free_port()),
        "TRACKING_PG_PORT": str(free_port()), "MLFLOW": str(BIN / "mlflow"),
    }
    cluster = str(SLURM_DIR / "cluster.sh")
    try:
        must(run(str(TRACKING_SERVER), "start", timeout=600, env=server_env),
             "the MLflow tracking server (scripts/tracking_server.sh start)")
        uri = run(str(TRACKING_SERVER), "uri", timeout=30, env=server_env).stdout.strip()
        must(run(cluster, "start", timeout=900), "the SLURM cluster (tests/slurm/cluster.sh start)")
        micro = run(str(SLURM_DIR / "run_micro.sh"), str(tmp_path / "wf"), timeout=3600,
                    env={"MLFLOW_TRACKING_URI": uri, "REPROFLOW_VENV": str(BIN.parent)})
        must(micro, "the micro run on SLURM (tests/slurm/run_micro.sh)")
        assert "all checks passed" in micro.stdout
        assert "all tracking checks passed" in micro.stdout
    finally:
        # what start added goes again: packages, configs, database, state
        purged = run(cluster, "purge", timeout=600)
        stopped = run(str(TRACKING_SERVER), "stop", timeout=120, env=server_env)
        shutil.rmtree(state, ignore_errors=True)
    must(purged, "removing the cluster (tests/slurm/cluster.sh purge)")
    must(stopped, "stopping the tracking server (scripts/tracking_server.sh stop)")
