"""Benchmark (a look): where σ networks fall short, signal points against
the others, on the sets a `benchmarks/nmr_calibration.py --workdir DIR` run
left in DIR (its data/*.npz and reconstructions.npz: sigma_val, the shipped
held-out test set, MALT1).

For each σ network (the shipped one of --method, and any .keras or
best-epoch .npz given) and set: coverage of ±1.96 σ over all points and
signal points (`evaluate.calibration`, as the pipeline scores it; MALT1 on
`metrics.MALT1_CUT`), coverage on the other points, median |error| / σ on
signal points, and the RMS error and RMS σ on signal points over max.

    python benchmarks/nmr_calibration.py --threads 1 --methods ist_echo --tiles 4096 --epochs 1 --workdir /tmp/cal
    python benchmarks/nmr_sigma_signal.py --workdir /tmp/cal --method ist_echo /tmp/cal/backup/ist_echo/best1.npz
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nmr_bench  # this folder is on sys.path when a benchmark runs

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SETS = ("sigma_val", "test", "malt1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--method", default="ist_echo", choices=("network_echo", "ist_echo", "ist_nus"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("networks", nargs="*", help=".keras or best*.npz σ networks (width 50)")
    args = nmr_bench.parse_args(parser)
    import numpy as np

    from reproflow.nmr import evaluate, jobs, metrics, models, shipped

    work = Path(args.workdir)
    with np.load(work / "reconstructions.npz", allow_pickle=False) as saved:
        cached = {key: saved[key] for key in saved.files}
    nets = {"shipped": models.load(str(shipped.WEIGHTS / f"sigma_{args.method}.keras"))}
    for path in args.networks:
        nets[path] = (nmr_bench.npz_weights(models.uncertainty_net(50), path) if path.endswith(".npz")
                      else models.load(path))
    print("| σ network | set | coverage all | coverage signal | coverage other | median abs(error)/σ, signal "
          "| RMS error / RMS σ, signal (of max) |")
    print("|---|---|---|---|---|---|---|")
    for label, model in nets.items():
        for name in SETS:
            arrays = jobs.load_npz(work / "data" / f"{name}.npz")
            inputs, mus = jobs.method_arrays(args.method, arrays,
                                             {m: cached[f"{name}/{m}"] for m in ("echo", "nus")},
                                             {"echo": cached[f"{name}/network"]})
            rows = []
            for reference, mu, method_input in zip(arrays["reference"], mus, inputs):
                sigma = models.uncertainty(model, method_input)
                reference, mu, sigma = metrics.crop(metrics.cut_for(name), reference, mu, sigma)
                signal = metrics.selected(*metrics.normalise_pair(reference, mu))
                z = np.abs(reference - mu) / sigma
                scale = float(reference.max())
                rows.append([*evaluate.calibration(reference, mu, sigma).values(), np.mean(z[~signal] <= evaluate.Z95),
                             np.median(z[signal]), np.sqrt(np.mean((reference - mu)[signal] ** 2)) / scale,
                             np.sqrt(np.mean(sigma[signal] ** 2)) / scale])
            a = np.mean(rows, axis=0)
            print(f"| {label} | {name} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} | {a[3]:.2f} | {a[4]:.2e} / {a[5]:.2e} |",
                  flush=True)


if __name__ == "__main__":
    main()
