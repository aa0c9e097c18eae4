"""Benchmark: one 256 x 2048 echo reconstruction by a K-stage cascade
(default 5, all tiles batched; target <= 3 s on 2 cores).

Usage: python benchmarks/nmr_network.py [--architecture wnn_bf|wnn] [--stages 5] [--repeats 3]
Untrained weights: the cost does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from reproflow.nmr import models, ve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--architecture", default="wnn_bf", choices=models.ARCHITECTURES)
    parser.add_argument("--stages", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shape", type=int, nargs=2, default=(256, 2048))
    args = parser.parse_args()
    stages = models.prepare([models.wnn2d(args.architecture) for _ in range(args.stages)])
    echo = ve.echo(np.random.default_rng(0).normal(size=args.shape))
    models.cascade(stages, echo)  # warm up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        models.cascade(stages, echo)
        times.append(time.perf_counter() - start)
    print(json.dumps({"architecture": args.architecture, "stages": args.stages, "shape": list(args.shape),
                      "seconds_median": float(np.median(times)), "seconds_min": min(times)}, indent=2))


if __name__ == "__main__":
    main()
