"""Sizes claimed by files, checked before anything is allocated.

A header can claim any size; `check_allocation` refuses one that memory
cannot hold (what the machine has free, and the process's address-space
limit, e.g. a cluster job's) before the array is made, so a hostile file
ends in a message naming it instead of an out-of-memory kill.
"""

from __future__ import annotations

import resource
from pathlib import Path

from reproflow.errors import ReproflowError


def _meminfo_bytes(path: str, field: str) -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_memory() -> int | None:
    """Bytes this process can still allocate: free memory, and what its
    address-space limit leaves; None when neither is known."""
    limits = []
    if (free := _meminfo_bytes("/proc/meminfo", "MemAvailable")) is not None:
        limits.append(free)
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and (used := _meminfo_bytes("/proc/self/status", "VmSize")) is not None:
        limits.append(max(soft - used, 0))
    return min(limits) if limits else None


def check_allocation(nbytes: int, what: str, share: float = 0.8) -> None:
    """Refuse allocating `nbytes` for `what` (it names the file and the claim)
    when it is more than `share` of the memory available."""
    available = available_memory()
    if available is not None and nbytes > share * available:
        raise ReproflowError(f"{what}: {nbytes} bytes, more than the {int(share * available)} bytes of memory "
                             "this process can use; refusing to allocate them")
