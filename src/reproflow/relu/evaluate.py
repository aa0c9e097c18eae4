"""Test metrics, confusion matrices (the paper's Figures 2-11) and tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reproflow.outputs import atomic_output
from reproflow.runtime import pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def predict_classes(outputs: np.ndarray) -> tuple[np.ndarray, int]:
    """Argmax predictions and the number of all-zero output rows.

    An all-zero ReLU row has no maximum; argmax returns its first class (0),
    which is how those rows are scored.
    """
    dead = int(np.sum(np.all(outputs == 0, axis=1)))
    return outputs.argmax(axis=1), dead


def silent_classes(outputs: np.ndarray) -> list[int]:
    """Classes whose head output is zero on every row. For the ReLU head on
    the training data this is a dead unit: its pre-activation is negative
    for every example, so it gets no gradient, never recovers, and its class
    is never predicted (one dead unit of ten caps accuracy near 90%)."""
    return [int(k) for k in np.flatnonzero(np.all(outputs <= 0, axis=0))]


def starved_classes(confusion: Sequence[Sequence[int]], share: float = 0.5) -> list[int]:
    """Classes predicted for fewer than `share` times as many test rows as
    truly belong to them: a ReLU output unit that is nearly dead (fires on a
    few rows only) loses most of its class without being a dead unit."""
    matrix = np.asarray(confusion)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    return [int(k) for k in np.flatnonzero(predicted < share * actual)]


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Accuracy, precision, recall and F1 (macro, weighted and per class), confusion."""
    # here: the summary job imports this module for `starved_classes` only
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(range(len(class_names)))
    out: dict[str, Any] = {"accuracy": float(np.mean(y_true == y_pred))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average, zero_division=0)
        out[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    out["per_class"] = {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
        for i, name in enumerate(class_names)
    }
    out["confusion"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return out


def confusion_rows(matrix: Sequence[Sequence[int]], class_names: Sequence[str]) -> list[dict[str, Any]]:
    """The confusion table's rows: true class; columns: predicted class."""
    return [{"true/predicted": name, **dict(zip(class_names, row, strict=True))}
            for name, row in zip(class_names, matrix, strict=True)]


def plot_confusion(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str, path: str | Path,
    inputs: Sequence[str | Path] = (),
) -> Figure:
    """A confusion-matrix heat map with counts, saved as PNG; returns the figure."""
    matrix = np.asarray(matrix)
    size = 2.5 + 0.45 * len(class_names)
    fig, ax = pyplot().subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(class_names, rotation=45, ha="right")
    ax.set_yticklabels(class_names)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                color="white" if count > threshold else "black")
    fig.tight_layout()
    with atomic_output(path, inputs, "figure") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return fig
