"""Benchmark: CS-IST, 200 iterations on a 256 x 2048 echo spectrum (target <= 1 s on 2 cores).

Usage: python benchmarks/nmr_ist.py [--spectrum Malt.ft2] [--repeats 5] [--iterations 200]
Without --spectrum a simulated 128 x 1024-point spectrum (256 x 2048 after zero fill) is used.
"""

from __future__ import annotations

import argparse
import json
import time

import nmr_speed  # its spectrum (this folder is on sys.path when a benchmark runs)
import numpy as np

from reproflow.nmr import ist, metrics, ve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectrum", help="NMRPipe 2D spectrum (e.g. MALT1 Malt.ft2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    reference = nmr_speed.reference(args.spectrum)
    cut = metrics.MALT1_CUT if args.spectrum else None
    echo = ve.echo(reference)
    ist.reconstruct(echo, "echo", 5)  # warm up the FFT plans
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        rebuilt = ist.reconstruct(echo, "echo", args.iterations)
        times.append(time.perf_counter() - start)
    print(json.dumps({"shape": list(reference.shape), "iterations": args.iterations,
                      "seconds_median": float(np.median(times)), "seconds_min": min(times),
                      **metrics.quality(reference, rebuilt, cut=cut)}, indent=2))


if __name__ == "__main__":
    main()
