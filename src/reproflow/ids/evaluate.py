"""Binary classification measures (positive class = attack = 1), as in the
paper's Tables 3-5, plus F1, balanced accuracy and ROC-AUC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def counts(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, int]:
    truth, guess = np.asarray(y_true) == 1, np.asarray(y_pred) == 1
    return {"tp": int(np.sum(truth & guess)), "fp": int(np.sum(~truth & guess)),
            "tn": int(np.sum(~truth & ~guess)), "fn": int(np.sum(truth & ~guess))}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def rates(c: Mapping[str, float]) -> dict[str, float]:
    """Accuracy, TPR/TNR/FPR/FNR, precision, F1 and balanced accuracy from counts."""
    tp, fp, tn, fn = (float(c[k]) for k in ("tp", "fp", "tn", "fn"))
    tpr, tnr = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    precision = _ratio(tp, tp + fp)
    return {
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn), "tpr": tpr, "tnr": tnr,
        "fpr": _ratio(fp, fp + tn), "fnr": _ratio(fn, fn + tp), "precision": precision,
        "f1": _ratio(2 * precision * tpr, precision + tpr) if tp else 0.0,
        "balanced_accuracy": (tpr + tnr) / 2,
    }


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of a real-valued attack score; NaN when only one class is present."""
    from sklearn.metrics import roc_auc_score  # here: the summary job writes rows without scikit-learn

    if len(np.unique(y_true)) < 2:
        return float("nan")
    return float(roc_auc_score(y_true, scores))


def classification(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None) -> dict[str, Any]:
    c = counts(y_true, y_pred)
    result: dict[str, Any] = {"n": int(len(y_true)), **c, **rates(c)}
    result["roc_auc"] = roc_auc(y_true, scores) if scores is not None else float("nan")
    return result
