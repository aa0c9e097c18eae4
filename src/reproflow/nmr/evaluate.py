"""Evaluation of Study 3: the paper's table (r, RMSD), uncertainty calibration,
the reference-free score pSQ and the Figure-2-like plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
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


def normalised_sigma(sigma: np.ndarray, mu: np.ndarray, level: float = PSQ_LEVEL) -> np.ndarray:
    """sigma / max(mu) at the pSQ points, mu between `level` and 100% of max(mu) (for the box plots)."""
    scale = float(np.max(mu))
    keep = (mu >= level * scale) & (mu <= scale)
    return sigma[keep] / scale


def psq(sigma: np.ndarray, mu: np.ndarray, level: float = PSQ_LEVEL) -> float:
    """pSQ: median of sigma / max(mu) over the pSQ points (`normalised_sigma`). Reference-free: lower is better."""
    points = normalised_sigma(sigma, mu, level)
    return float(np.median(points)) if points.size else float("nan")


def calibration(reference: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                level: float = metrics.LEVEL) -> dict[str, float]:
    """Share of points whose true error lies within +-1.96 sigma: over all
    points and over the signal points of the metric (|ref| or |mu| > level)."""
    inside = np.abs(reference - mu) <= Z95 * sigma
    ref, rec = metrics.normalise_pair(reference, mu)
    signal = metrics.selected(ref, rec, level)
    return {"coverage_all": float(inside.mean()), "coverage_signal": float(inside[signal].mean())}


def coverage_each(references: Sequence[np.ndarray], mus: Sequence[np.ndarray], sigmas: Sequence[np.ndarray],
                  cut: tuple[int, int] | None) -> list[dict[str, float]]:
    """`calibration` of each spectrum of a set, on the set's direct-dimension cut (`metrics.cut_for`)."""
    return [calibration(*metrics.crop(cut, reference, mu, sigma))
            for reference, mu, sigma in zip(references, mus, sigmas, strict=True)]


def mean_coverage(rows: Sequence[Mapping[str, float]], mean: Any = np.mean) -> dict[str, float]:
    """A set's coverage: `coverage_each`'s rows averaged over spectra (`mean`: e.g. np.nanmean)."""
    return {key: float(mean([row[key] for row in rows])) for key in ("coverage_all", "coverage_signal")}


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
    left.legend(handles=[Line2D([], [], color="tab:blue", linewidth=0.8, label="reconstruction"),
                         Line2D([], [], color="0.6", linewidth=0.8, linestyle="dotted", label="reference"),
                         Line2D([], [], color="tab:pink", linewidth=0.8, label="row traced on the right")],
                fontsize=8, loc="upper right")
    x = np.arange(mu.shape[1])
    right.fill_between(x, (mu[row] - Z95 * sigma[row]) / scale, (mu[row] + Z95 * sigma[row]) / scale,
                       color="tab:pink", alpha=0.5, label="95% band (±1.96σ)")
    right.plot(x, mu[row] / scale, color="tab:blue", linewidth=0.8, label="reconstruction")
    right.plot(x, reference[row] / scale, color="black", linewidth=0.6, linestyle="--", label="reference")
    right.plot(x, np.abs(reference[row] - mu[row]) / scale - 0.1, color="tab:red", linewidth=0.6,
               label="|error| - 0.1")
    right.set(title=f"F1 row {row} (through the strongest peak)", xlabel="F2 point",
              ylabel="intensity / max(reference)")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def set_label(name: str) -> str:
    return "MALT1 (real spectrum)" if name == "malt1" else f"{name}: SIMULATED spectra"


def figure_rmsd_bars(tables: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> plt.Figure:
    """RMSD per method (Figure 2b): one panel per set, so simulated spectra never
    stand beside real-spectrum bars; the paper's MALT1 values beside ours on MALT1
    and, without a MALT1 evaluation, in a panel of their own."""
    methods = list(next(iter(tables.values())))
    panels = sorted(tables, key=lambda name: name != "malt1") + ([] if "malt1" in tables else ["paper"])
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.8), sharey=True, squeeze=False)
    x = np.arange(len(methods))
    paper = [PAPER_MALT1.get(m, (np.nan, np.nan))[1] for m in methods]
    for axis, name in zip(axes[0], panels):
        if name == "paper":
            axis.bar(x, paper, 0.6, color="0.6", label="paper")
            axis.set_title("the paper: MALT1 (real spectrum)")
        elif name == "malt1":
            axis.bar(x - 0.2, [tables[name][m]["rmsd"] for m in methods], 0.4, color="tab:blue", label="ours")
            axis.bar(x + 0.2, paper, 0.4, color="0.6", label="paper")
            axis.set_title(set_label(name))
        else:
            axis.bar(x, [tables[name][m]["rmsd"] for m in methods], 0.6, color="tab:orange", hatch="//",
                     label="ours, simulated")
            axis.set_title(set_label(name), color="tab:red")
        axis.set_xticks(x, [LABELS.get(m, m) for m in methods], rotation=35, ha="right")
        axis.legend(fontsize=8)
    axes[0][0].set_ylabel("RMSD / max(reference)")
    figure.suptitle("Reference-based quality (lower is better)")
    figure.tight_layout()
    return figure


def figure_sigma_boxes(samples: Mapping[str, np.ndarray], title: str) -> plt.Figure:
    """Box plots of sigma / max over the pSQ points (Figure 2c); `samples` keyed
    "method (set)"."""
    figure, axis = plt.subplots(figsize=(max(7, 1.6 * len(samples)), 4.5))
    names = list(samples)
    axis.boxplot([samples[n] for n in names], showmeans=True, showfliers=False,
                 meanprops={"marker": "^", "markerfacecolor": "tab:green", "markeredgecolor": "tab:green"},
                 medianprops={"color": "tab:orange"})
    axis.set_xticks(np.arange(1, len(names) + 1), [_sample_label(n) for n in names], rotation=20, ha="right")
    axis.set(ylabel="σ / max(spectrum)", title=title)
    axis.legend(handles=[Line2D([], [], color="tab:orange", label="median = pSQ"),
                         Line2D([], [], marker="^", linestyle="", color="tab:green", label="mean"),
                         Line2D([], [], color="black", label="box: quartiles, whiskers: 1.5 IQR")], fontsize=8)
    figure.tight_layout()
    return figure


def _sample_label(name: str) -> str:
    """"ist_echo (test)" -> "echo, CS-IST (test: simulated)"."""
    method, _, rest = name.partition(" (")
    where = rest.rstrip(")")
    return f"{LABELS.get(method, method)}\n({'MALT1' if where == 'malt1' else where + ': simulated'})"
