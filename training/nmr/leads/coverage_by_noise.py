"""Lead (issue 16 item 3): coverage of the shipped, calibrated sigma per
spectrum, against each spectrum's noise level (1.4826 x median |reference| /
max, `simulate.quality`), on the sets that benchmarks/nmr_sigma_calibrate.py
--realism leaves in its workdir (run it first):

    python benchmarks/nmr_sigma_calibrate.py --workdir /tmp/sigcal --realism config/config.yaml \
        config/nmr_cpu.yaml training/nmr/realism1/config.yaml
    python training/nmr/leads/coverage_by_noise.py --scored /tmp/sigcal
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from reproflow.nmr import evaluate, jobs, metrics, numpy_net, score, shipped, simulate

SETS = ("realism_val", "realism_test", "test", "malt1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scored", required=True, help="workdir of benchmarks/nmr_sigma_calibrate.py --realism")
    args = parser.parse_args()
    scored = Path(args.scored)
    data = {name: jobs.load_npz(scored / "data" / f"{name}.npz") for name in SETS}
    with np.load(scored / "reconstructions.npz", allow_pickle=False) as saved:
        mus = {key: saved[key] for key in saved.files}
    for method, mode in jobs.UNCERTAINTY_INPUT.items():
        model = shipped.WEIGHTS / f"sigma_{method}.keras"
        network, calibration = numpy_net.load(model), score.load_calibration(model)
        for name, arrays in data.items():
            cells = []
            for reference, mu, method_input in zip(arrays["reference"], mus[f"{name}/{method}"], arrays[mode]):
                sigma = calibration.apply(numpy_net.uncertainty(network, method_input), mu)
                reference, mu, sigma = metrics.crop(metrics.cut_for(name), reference, mu, sigma)
                noise = simulate.quality((reference / reference.max())[None])[0][0]
                coverage = evaluate.calibration(reference, mu, sigma)
                cells.append((noise, coverage["coverage_all"], coverage["coverage_signal"]))
            print(f"{method} {name}: " + "  ".join(f"{n:.1e}: {a:.3f}/{s:.3f}" for n, a, s in sorted(cells)),
                  flush=True)


if __name__ == "__main__":
    main()
