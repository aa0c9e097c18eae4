"""Benchmark (a look, not a timing): picked-peak statistics of MALT1 against
simulated references, for docs/notes/nmr-simulator-realism.md. Peaks: local
maxima (5 x 9 points) above 3% of max; FWHM in points along F1 and F2; the
amplitude over max; the minimum over max; the noise (MALT1: sd of the empty
direct points 1300-2000; simulated: sd of the reference with noise minus
that without). Prints one markdown row per spectrum.

    python benchmarks/nmr_sim_vs_malt1.py
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from nmr_bench import MALT1  # this folder is on sys.path when a benchmark runs
from scipy import ndimage

from reproflow.nmr import io, simulate


def half_width(line: np.ndarray, centre: int) -> int:
    """Points between the half-height crossings around `centre`."""
    half, left, right = line[centre] / 2, centre, centre
    while left > 0 and line[left] > half:
        left -= 1
    while right < len(line) - 1 and line[right] > half:
        right += 1
    return right - left


def row(name: str, spectrum: np.ndarray, noise: float) -> str:
    s = spectrum / spectrum.max()
    peaks = np.argwhere((s == ndimage.maximum_filter(s, size=(5, 9))) & (s > 0.03))
    w1 = [half_width(s[:, j], i) for i, j in peaks]
    w2 = [half_width(s[i, :], j) for i, j in peaks]
    amp = s[tuple(peaks.T)]

    def spread(values, digits=0):
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        return f"{p50:.{digits}f} ({p10:.{digits}f}-{p90:.{digits}f})"

    return (f"| {name} | {s.shape[0]} x {s.shape[1]} | {len(peaks)} | {spread(w1)} | {spread(w2)} | {spread(amp, 2)} "
            f"| {s.min():.2f} | {noise / spectrum.max():.1e} |")


def main() -> None:
    print("| spectrum | size | peaks > 3% | FWHM F1, points | FWHM F2 | amplitude / max | min / max | noise / max |")
    print("|---|---|---|---|---|---|---|---|")
    malt = io.read_spectrum(str(MALT1)).data.astype(float)
    print(row("MALT1, direct points 100-800", malt[:, 100:800], float(malt[:, 1300:2000].std())))
    scaled = malt / malt.max()
    minima = np.argwhere((scaled == ndimage.minimum_filter(scaled, size=(5, 9))) & (scaled < -0.03))
    medians = np.percentile(np.median(scaled, axis=0), [1, 99])
    print(f"MALT1: {len(minima)} local minima under -3% of max, at direct points {minima[:, 1].min()}-"
          f"{minima[:, 1].max()}, rows {minima[:, 0].min()}-{minima[:, 0].max()}; minimum {scaled.min():.2f}, "
          f"{scaled[:, 100:800].min():.2f} inside 100-800; column medians {medians[0]:.1e} to {medians[1]:.1e} "
          "(1st-99th percentile)")
    cfg = simulate.SimConfig(n1=128, n2=256, peaks=256)
    realism = replace(cfg, amplitude=(0.02, 1.0), amplitude_scale="log", overlap=0.2, t1_noise=0.005, baseline=0.001)
    for name, one in (("simulated, config/nmr_cpu.yaml (snr 1000)", cfg),
                      ("simulated, snr 5", replace(cfg, snr=5.0)),
                      ("simulated, realism1 options (snr 1000)", realism)):
        peaks = simulate.random_peaks(np.random.default_rng(0), one)
        noisy = simulate.reference_spectrum(peaks, one, np.random.default_rng(1))
        clean = simulate.reference_spectrum(peaks, replace(one, t1_noise=0.0, baseline=0.0))
        print(row(name, noisy, float((noisy - clean).std())))


if __name__ == "__main__":
    main()
