"""The pSQ scale: what `reproflow nmr quality` values mean, measured on
held-out simulated spectra never trained on.

Spectra: the shipped run's simulation (`shipped.manifest()["nmr_config"]`:
256 x 512, 256 peaks), varied in quality like its test set (`vary`: SNR
30-3000, peaks x0.5-2; `--snr` widens it), a seed no set of that run used.
For each spectrum and method (network echo with the shipped cascade, IST
echo and IST 50% NUS with 200 iterations) the reconstruction's RMSD against
the reference (`metrics.quality`) and its pSQ as the command computes it
(`score.sigma_spectrum` + `score.psq`, the shipped uncertainty networks).
Prints Spearman's rank correlation of pSQ with RMSD (per method, pooled)
and the RMSD for pSQ quartiles of the pool, as JSON.

Usage: python benchmarks/nmr_psq_scale.py [--spectra 24] [--seed 90000] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np
from scipy import stats

from reproflow.nmr import ist, metrics, numpy_net, score, shipped, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectra", type=int, default=24)
    parser.add_argument("--seed", type=int, default=90000)
    parser.add_argument("--snr", type=float, nargs=2, default=None, help="SNR range (default: the test set's)")
    parser.add_argument("--out")
    args = parser.parse_args()
    options = shipped.manifest()["nmr_config"]
    vary = dict(options["vary"])
    if args.snr:
        vary["snr"] = list(args.snr)
    cfg = simulate.SimConfig.from_config(options["simulation"])
    arrays = simulate.simulate_set(args.seed, args.spectra, cfg, options["nus_fraction"], vary)
    cascade = [numpy_net.load(p) for p in sorted(shipped.WEIGHTS.glob("stage*.keras"))]
    sigma_nets = {key: numpy_net.load(shipped.WEIGHTS / f"sigma_{key}.keras")
                  for key in ("network_echo", "ist_echo", "ist_nus")}
    rows = []
    for index, reference in enumerate(arrays["reference"]):
        schedule = simulate.schedule_indices(arrays["schedules"][index])
        for method, mode in (("network", "echo"), ("ist", "echo"), ("ist", "nus")):
            measured = arrays[mode][index]
            if method == "network":
                mu = numpy_net.cascade(cascade, measured, mode, shipped.damping())
            else:
                mu = ist.reconstruct(measured, mode, 200, schedule if mode == "nus" else None)
            key = score.sigma_key(method, mode)
            value, _ = score.psq(score.sigma_spectrum(sigma_nets[key], measured, mode), mu)
            rows.append({"spectrum": index, "method": key, "psq": value, **metrics.quality(reference, mu)})
    psq, rmsd = np.array([r["psq"] for r in rows]), np.array([r["rmsd"] for r in rows])
    edges = np.quantile(psq, [0.0, 0.25, 0.5, 0.75, 1.0])
    quartiles = []
    for lo, hi in itertools.pairwise(edges):
        inside = (psq >= lo) & (psq <= hi)
        quartiles.append({"psq": [float(lo), float(hi)], "rmsd_median": float(np.median(rmsd[inside])),
                          "rmsd_range": [float(rmsd[inside].min()), float(rmsd[inside].max())],
                          "r_median": float(np.median([r["r"] for r, k in zip(rows, inside) if k]))})
    summary = {"spectra": args.spectra, "seed": args.seed, "vary": vary, "shape": list(cfg.shape),
               "spearman_pooled": float(stats.spearmanr(psq, rmsd).statistic),
               "spearman_per_method": {k: float(stats.spearmanr([r["psq"] for r in rows if r["method"] == k],
                                                                [r["rmsd"] for r in rows if r["method"] == k]).statistic)
                                       for k in sigma_nets},
               "quartiles": quartiles, "rows": rows}
    text = json.dumps(summary, indent=2)
    if args.out:
        from reproflow.outputs import write_text

        write_text(args.out, text + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
