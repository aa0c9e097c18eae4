"""Evaluation of Study 3: the paper's table (r, RMSD), uncertainty calibration,
the reference-free score pSQ and the Figure-2-like plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from reproflow.nmr import metrics  # noqa: E402

Z95 = 1.96
PSQ_LEVEL = 0.01
# the paper's MALT1 numbers (REFERENCE.md): method -> (r, RMSD)
PAPER_MALT1 = {
    "echo_plain": (0.693, 0.042), "nus_zero_filled": (0.827, 0.027), "network_echo": (0.9865, 0.0123),
    "network_antiecho": (0.9886, 0.0109), "ist_echo": (0.9630, 0.0194), "ist_antiecho": (0.9725, 0.0166),
    "ist_nus": (0.9974, 0.0052),
}
LABELS = {
    "echo_plain": "echo, plain FT", "nus_zero_filled": "50% NUS, zero-filled FT",
    "network_echo": "echo, network", "network_antiecho": "anti-echo, network",
    "ist_echo": "echo, CS-IST", "ist_antiecho": "anti-echo, CS-IST", "ist_nus": "50% NUS, CS-IST",
}


def reconstructions(data: Mapping[str, np.ndarray], ist_out: Mapping[str, np.ndarray],
                    networks: Mapping[str, Mapping[str, np.ndarray]], primary: str) -> dict[str, np.ndarray]:
    """method -> (spectra, n1, n2); the primary architecture is "network_*",
    the others "network_<arch>_*"."""
    methods = {"echo_plain": data["echo"], "nus_zero_filled": data["nus"]}
    for arch, out in networks.items():
        prefix = "network" if arch == primary else f"network_{arch}"
        methods[f"{prefix}_echo"], methods[f"{prefix}_antiecho"] = out["echo"], out["antiecho"]
    methods.update(ist_echo=ist_out["echo"], ist_antiecho=ist_out["antiecho"], ist_nus=ist_out["nus"])
    return methods


def quality_table(references: np.ndarray, methods: Mapping[str, np.ndarray],
                  cut: tuple[int, int] | None) -> dict[str, dict[str, Any]]:
    """Mean and per-spectrum r and RMSD of every method."""
    table = {}
    for method, spectra in methods.items():
        rows = [metrics.quality(ref, rec, cut) for ref, rec in zip(references, spectra)]
        table[method] = {
            "r": float(np.mean([row["r"] for row in rows])), "rmsd": float(np.mean([row["rmsd"] for row in rows])),
            "r_each": [row["r"] for row in rows], "rmsd_each": [row["rmsd"] for row in rows],
        }
    return table


def psq(sigma: np.ndarray, mu: np.ndarray, level: float = PSQ_LEVEL) -> float:
    """pSQ: median of sigma / max(mu) over points with mu between `level` and
    100% of max(mu). Reference-free: lower is better."""
    scale = float(np.max(mu))
    keep = (mu >= level * scale) & (mu <= scale)
    return float(np.median(sigma[keep] / scale)) if keep.any() else float("nan")


def normalised_sigma(sigma: np.ndarray, mu: np.ndarray, level: float = PSQ_LEVEL) -> np.ndarray:
    """sigma / max(mu) at the pSQ points (for the box plots)."""
    scale = float(np.max(mu))
    keep = (mu >= level * scale) & (mu <= scale)
    return sigma[keep] / scale


def calibration(reference: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                level: float = metrics.LEVEL) -> dict[str, float]:
    """Share of points whose true error lies within +-1.96 sigma: over all
    points and over the signal points of the metric (|ref| or |mu| > level)."""
    inside = np.abs(reference - mu) <= Z95 * sigma
    ref, rec = metrics.normalise_pair(reference, mu)
    signal = metrics.selected(ref, rec, level)
    return {"coverage_all": float(inside.mean()), "coverage_signal": float(inside[signal].mean())}


def spearman(scores: Sequence[float], rmsd: Sequence[float]) -> float:
    return float(stats.spearmanr(scores, rmsd).statistic)


# ---- figures --------------------------------------------------------------

def figure_reconstruction(reference: np.ndarray, mu: np.ndarray, sigma: np.ndarray, title: str,
                          cut: tuple[int, int] | None = None) -> plt.Figure:
    """Contour plot of a reconstruction and, through its strongest peak, a
    trace with the 95% band and the reference (the paper's Figure 2a)."""
    reference, mu, sigma = metrics.crop(cut, reference, mu, sigma)
    scale = float(reference.max())
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    levels = scale * 0.02 * 1.4 ** np.arange(12)
    left.contour(mu, levels=levels, colors="tab:blue", linewidths=0.6)
    left.contour(reference, levels=levels, colors="0.6", linewidths=0.4, linestyles="dotted")
    row, _ = np.unravel_index(np.argmax(reference), reference.shape)
    left.axhline(row, color="tab:pink", linewidth=0.8)
    left.set(title=title, xlabel="F2 point", ylabel="F1 point")
    x = np.arange(mu.shape[1])
    right.fill_between(x, (mu[row] - Z95 * sigma[row]) / scale, (mu[row] + Z95 * sigma[row]) / scale,
                       color="tab:pink", alpha=0.5, label="95% band (±1.96σ)")
    right.plot(x, mu[row] / scale, color="tab:blue", linewidth=0.8, label="reconstruction")
    right.plot(x, reference[row] / scale, color="black", linewidth=0.6, linestyle="--", label="reference")
    right.plot(x, np.abs(reference[row] - mu[row]) / scale - 0.1, color="tab:red", linewidth=0.6,
               label="|error| - 0.1")
    right.set(title=f"F1 row {row}", xlabel="F2 point", ylabel="intensity / max(reference)")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def figure_rmsd_bars(tables: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> plt.Figure:
    """RMSD per method and set, with the paper's MALT1 values (Figure 2b)."""
    methods = list(next(iter(tables.values())))
    figure, axis = plt.subplots(figsize=(10, 4))
    width = 0.8 / (len(tables) + 1)
    x = np.arange(len(methods))
    for k, (name, table) in enumerate(tables.items()):
        axis.bar(x + k * width, [table[m]["rmsd"] for m in methods], width, label=name)
    axis.bar(x + len(tables) * width, [PAPER_MALT1.get(m, (np.nan, np.nan))[1] for m in methods], width,
             label="paper (MALT1)", color="0.7")
    axis.set_xticks(x + width * len(tables) / 2, [LABELS.get(m, m) for m in methods], rotation=30, ha="right")
    axis.set(ylabel="RMSD / max(reference)", title="Reference-based quality")
    axis.legend()
    figure.tight_layout()
    return figure


def figure_sigma_boxes(samples: Mapping[str, np.ndarray], title: str) -> plt.Figure:
    """Box plots of sigma / max over the pSQ points (Figure 2c)."""
    figure, axis = plt.subplots(figsize=(7, 4))
    names = list(samples)
    axis.boxplot([samples[n] for n in names], showmeans=True, showfliers=False)
    axis.set_xticks(np.arange(1, len(names) + 1), [LABELS.get(n, n) for n in names], rotation=20)
    axis.set(ylabel="σ / max(spectrum)", title=title)
    figure.tight_layout()
    return figure
