"""The report section of Study 3: our numbers beside the paper's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reproflow.nmr.evaluate import LABELS, PAPER_MALT1


def _cell(value: Any, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(summary: Mapping[str, Any]) -> str:
    lines = ["# Study 3: MR-Ai echo / anti-echo reconstruction", ""]
    sets = summary["sets"]
    for name, result in sets.items():
        title = "MALT1 TROSY (echo, anti-echo, NUS simulated with VE masks)" if name == "malt1" \
            else f"held-out simulated spectra ({result['spectra']} of {result['shape'][0]} x {result['shape'][1]})"
        lines += [f"## {title}", "", "| input, method | r | RMSD | paper r (MALT1) | paper RMSD (MALT1) |",
                  "|---|---|---|---|---|"]
        for method, row in result["table"].items():
            paper = PAPER_MALT1.get(method, (None, None))
            lines.append(f"| {LABELS.get(method, method)} | {_cell(row['r'])} | {_cell(row['rmsd'])} | "
                         f"{_cell(paper[0])} | {_cell(paper[1])} |")
        lines += ["", f"Seconds per spectrum: {result['seconds']}.", ""]
        for arch, modes in result.get("network_stages", {}).items():
            for mode, rows in modes.items():
                lines += [f"Network {arch}, {mode}, r / RMSD after each stage: "
                          + ", ".join(f"{row['r']:.4f} / {row['rmsd']:.4f}" for row in rows) + ".", ""]
        if result.get("uncertainty"):
            lines += ["| uncertainty model | coverage ±1.96σ (all) | coverage (signal points) | mean pSQ |",
                      "|---|---|---|---|"]
            for method, row in result["uncertainty"].items():
                lines.append(f"| {LABELS.get(method, method)} | {_cell(row['coverage_all'], 3)} | "
                             f"{_cell(row['coverage_signal'], 3)} | {_cell(row['psq_mean'], 5)} |")
            lines.append("")
        if "psq_spearman_rmsd" in result:
            lines += [f"Spearman rank correlation of pSQ with RMSD over spectra x methods: "
                      f"{result['psq_spearman_rmsd']:.3f} (target >= 0.8).", ""]
    lines += ["Metrics as the authors coded them: both spectra divided by max(reference), points where "
              "either exceeds 1% kept, Pearson r and RMSD; MALT1 cut to direct points 100-800. "
              "CS-IST uses the VE's t = 0 row and column in full (echo and anti-echo share them), "
              "which the authors' iteration weights by one half.", ""]
    return "\n".join(lines)
