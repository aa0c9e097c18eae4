"""Benchmark: CS-IST, 200 iterations on a 256 x 2048 echo spectrum (target <= 1 s on 2 cores).

Usage: python benchmarks/nmr_ist.py [--spectrum Malt.ft2] [--repeats 5] [--iterations 200]
Without --spectrum a simulated 128 x 1024-point spectrum (256 x 2048 after zero fill) is used.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from reproflow.nmr import io, ist, metrics, simulate, ve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectrum", help="NMRPipe 2D spectrum (e.g. MALT1 Malt.ft2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    if args.spectrum:
        reference = io.read_spectrum(args.spectrum).data.astype(np.float64)
        cut = metrics.MALT1_CUT
    else:
        reference = simulate.simulate_set(0, 1, simulate.SimConfig(n1=128, n2=1024, peaks=1024), 0.5)["reference"][0]
        cut = None
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
