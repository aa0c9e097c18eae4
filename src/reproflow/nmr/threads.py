"""The thread budget of this process's NMR computations (FFTs, NumPy inference)."""

from __future__ import annotations

import os

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def budget() -> int:
    """A workflow job's thread budget (`runtime.limit_threads` sets OMP_NUM_THREADS), else one per core."""
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return min(CORES, int(limit)) if limit.isdigit() and int(limit) > 0 else CORES
