"""Lead (issue 16 item 2): the shipped cascade on a spectrum and on its mirror
image along F2, averaged (test-time augmentation). Mirrored along F2, an echo
has the line shapes of an anti-echo, so it goes through the anti-echo path;
the mirror along F1 gives back exactly the direct result (the cascade's
anti-echo path is its echo path conjugated along t1), so there are two views.
r against the reference: MALT1 (on `metrics.MALT1_CUT`) and the first spectra
of the held-out simulated test set, which benchmarks/nmr_sigma_calibrate.py
leaves in its workdir (run it first):

    python benchmarks/nmr_sigma_calibrate.py --workdir /tmp/sigcal --realism config/config.yaml \
        config/nmr_cpu.yaml training/nmr/realism1/config.yaml
    python training/nmr/leads/two_views.py --scored /tmp/sigcal
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from reproflow.nmr import jobs, metrics, numpy_net, shipped

OTHER = {"echo": "antiecho", "antiecho": "echo"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scored", required=True, help="workdir of benchmarks/nmr_sigma_calibrate.py")
    parser.add_argument("--test-spectra", type=int, default=3)
    args = parser.parse_args()
    manifest = shipped.manifest()
    stages = [numpy_net.load(shipped.WEIGHTS / f"stage{k}.keras") for k in range(manifest["stages"])]

    def cascade(spectrum: np.ndarray, mode: str) -> np.ndarray:
        return numpy_net.cascade(stages, np.ascontiguousarray(spectrum), mode, manifest["damping"])

    for name, count in (("malt1", 1), ("test", args.test_spectra)):
        arrays = jobs.load_npz(Path(args.scored) / "data" / f"{name}.npz")
        for index in range(count):
            reference = arrays["reference"][index]
            cells = []
            for mode in ("echo", "antiecho"):
                direct = cascade(arrays[mode][index], mode)
                mirrored = np.flip(cascade(np.flip(arrays[mode][index], 1), OTHER[mode]), 1)
                scores = {view: metrics.quality(reference, spectrum, metrics.cut_for(name))["r"]
                          for view, spectrum in (("direct", direct), ("F2 mirror", mirrored),
                                                 ("mean of both", 0.5 * (direct + mirrored)))}
                cells.append(f"{mode}: " + ", ".join(f"{view} r {r:.4f}" for view, r in scores.items()))
            print(f"{name}[{index}] " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
