"""Baselines on the same binned features (clean protocol): always-attack,
logistic regression on the one-hot bins, histogram gradient boosting on the
bin indices."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from reproflow.ids.evaluate import classification

if TYPE_CHECKING:
    from sklearn.preprocessing import OneHotEncoder

BASELINES = ("always_attack", "logreg", "hgb")


def _one_hot(x: np.ndarray) -> OneHotEncoder:
    from sklearn.preprocessing import OneHotEncoder

    # all 10 bins declared, so a bin unseen in train is still a known column
    return OneHotEncoder(categories=[list(range(10))] * x.shape[1], handle_unknown="ignore").fit(x)


def run_baseline(name: str, arrays: Mapping[str, np.ndarray], seed: int = 0) -> dict[str, Any]:
    """Fit on x_train/y_train, score x_test/y_test."""
    # here, not at the top: the summary job imports this module's job file without fitting
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    x_train, y_train, x_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    started = time.perf_counter()
    if name == "always_attack":
        scores = np.ones(len(y_test))
    elif name == "logreg":
        encoder = _one_hot(x_train)
        model = LogisticRegression(max_iter=1000).fit(encoder.transform(x_train), y_train)
        scores = model.predict_proba(encoder.transform(x_test))[:, 1]
    elif name == "hgb":
        model = HistGradientBoostingClassifier(random_state=seed).fit(x_train, y_train)
        scores = model.predict_proba(x_test)[:, 1]
    else:
        raise ValueError(f"unknown baseline {name!r} (known: {BASELINES})")
    predicted = (scores >= 0.5).astype(np.uint8)
    result = classification(y_test, predicted, scores)
    result["seconds"] = time.perf_counter() - started
    return result
