"""Run a command under an address-space cap and record its peak memory.

    python capped.py PEAK_FILE CAP_MB command ...

The cap (RLIMIT_AS) is inherited by the command and its children, so a
hostile file that makes a reader allocate without bound fails fast instead
of swapping; PEAK_FILE receives the largest resident set (MiB) among them.
"""

import resource
import subprocess
import sys

peak_file, cap_mb, *command = sys.argv[1:]
cap = int(cap_mb) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
status = subprocess.run(command, check=False).returncode
with open(peak_file, "w") as handle:
    handle.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
sys.exit(status)
