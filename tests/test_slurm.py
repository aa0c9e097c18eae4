"""The micro config on a real one-node SLURM cluster with the SLURM profile.

Opt-in: it installs Debian packages and starts daemons as root, so it runs only
with REPROFLOW_SLURM_TEST=1 (see docs/reliability.md, "A real SLURM cluster").
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from workflow_utils import REPO

SLURM_DIR = REPO / "tests" / "slurm"
ENABLED = os.environ.get("REPROFLOW_SLURM_TEST") == "1"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not ENABLED,
        reason="starts a real SLURM cluster as root (apt-get, daemons): set REPROFLOW_SLURM_TEST=1",
    ),
]


def run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    print(result.stdout)
    print(result.stderr)
    return result


def test_micro_run_on_a_one_node_slurm_cluster(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("REPROFLOW_SLURM_TEST=1 needs root: cluster.sh installs packages and starts daemons")
    if shutil.which("apt-get") is None:
        pytest.fail("REPROFLOW_SLURM_TEST=1 needs a Debian/Ubuntu machine (apt-get)")
    cluster = str(SLURM_DIR / "cluster.sh")
    started = run(cluster, "start", timeout=900)
    try:
        assert started.returncode == 0, f"cluster.sh start failed:\n{started.stdout}\n{started.stderr}"
        micro = run(str(SLURM_DIR / "run_micro.sh"), str(tmp_path / "wf"), timeout=3600)
        assert micro.returncode == 0, (
            f"run_micro.sh failed ({micro.returncode}):\n{micro.stdout[-6000:]}\n{micro.stderr[-6000:]}"
        )
        assert "all checks passed" in micro.stdout
    finally:
        stopped = run(cluster, "stop", timeout=300)
    assert stopped.returncode == 0, f"cluster.sh stop failed:\n{stopped.stdout}\n{stopped.stderr}"
