"""The two cross-validation protocols and one training job.

`paper`: the authors' "10-fold CV": StratifiedKFold(10, shuffle, seed 10),
but ONE model keeps training across the folds, so from the second fold on it
validates on examples it has already trained on; the test score comes from
that final model. `clean`: a fresh model per fold (the job's seed drives the
folds), CV mean and sd, then a fresh model trained on the whole training
split and evaluated once on the test split.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np
from sklearn.model_selection import StratifiedKFold

from reproflow.errors import ReproflowError
from reproflow.relu.models import build_cnn, build_ffnn, compile_model
from reproflow.training import StopOnNonFinite

log = logging.getLogger(__name__)
MODELS = ("ffnn", "cnn")


@dataclass
class FoldResult:
    fold: int
    loss: float
    accuracy: float
    n_train: int
    n_val: int


class EpochLog(keras.callbacks.Callback):
    """Collects each epoch's metrics into `history` at a global step
    (epochs counted across the folds and the final model), with the fold as
    the metric `fold` (0: the final model): the same names in both protocols."""

    def __init__(self, history: list[dict[str, Any]], fold: int, step_offset: int) -> None:
        super().__init__()
        self.history, self.fold, self.offset = history, fold, step_offset

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        step = self.offset + epoch
        self.history.append({"step": step, "fold": self.fold, "epoch": epoch + 1, **metrics})
        log.info("fold %s epoch %d: %s", self.fold, epoch + 1,
                 " ".join(f"{k}={v:.4f}" for k, v in metrics.items()))


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float32)[y]


def model_builder(
    model: str, head: str, arrays: Mapping[str, np.ndarray], n_classes: int,
    hidden: list[int], dropout: float, learning_rate: float,
) -> tuple[Callable[[], keras.Model], str]:
    """A function building a fresh compiled model, and the input array's key."""
    if model == "ffnn":
        n_features = arrays["features_train"].shape[1]
        return (lambda: compile_model(build_ffnn(n_features, n_classes, head, hidden, dropout), head,
                                      learning_rate)), "features"
    if model == "cnn":
        if "images_train" not in arrays:
            raise ReproflowError("relu: the CNN needs an image data set (mnist, fashion-mnist, digits)")
        shape = arrays["images_train"].shape[1:]
        return (lambda: compile_model(build_cnn(shape, n_classes, head), head, learning_rate)), "images"
    raise ReproflowError(f"relu: unknown model {model!r} (known: {MODELS})")


def _fold_score(
    model: keras.Model, fitted: keras.callbacks.History, x: np.ndarray, y: np.ndarray, batch_size: int,
) -> tuple[float, float]:
    """The fold's validation loss and accuracy after its last epoch.

    `fit` has just evaluated the model on the fold (validation_data, the same
    test function and batches), so its last val_loss / val_accuracy are the
    numbers a second `evaluate` would give, bit for bit; reusing them saves a
    pass over the fold (docs/benchmarks.md). `evaluate` only if fit ran no epoch.
    """
    logs = fitted.history
    if logs.get("val_loss") and logs.get("val_accuracy"):
        return float(logs["val_loss"][-1]), float(logs["val_accuracy"][-1])
    scores = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return float(scores["loss"]), float(scores["accuracy"])


def paper_cv(
    build: Callable[[], keras.Model], x: np.ndarray, y: np.ndarray, n_classes: int, *,
    folds: int, epochs: int, batch_size: int, cv_seed: int, job: str = "relu job",
) -> tuple[keras.Model, list[FoldResult], list[dict[str, Any]]]:
    """The authors' protocol: one model trained on fold after fold (leaky)."""
    model, results, history = build(), [], []
    targets = one_hot(y, n_classes)
    splits = StratifiedKFold(folds, shuffle=True, random_state=cv_seed).split(x, y)
    for fold, (train, val) in enumerate(splits, start=1):
        fitted = model.fit(x[train], targets[train], validation_data=(x[val], targets[val]),
                           epochs=epochs, batch_size=batch_size, verbose=0,
                           callbacks=[StopOnNonFinite(f"{job}, fold {fold}"),
                                      EpochLog(history, fold, (fold - 1) * epochs)])
        loss, accuracy = _fold_score(model, fitted, x[val], targets[val], batch_size)
        results.append(FoldResult(fold, loss, accuracy, len(train), len(val)))
    return model, results, history


def clean_cv(
    build: Callable[[], keras.Model], x: np.ndarray, y: np.ndarray, n_classes: int, *,
    folds: int, epochs: int, batch_size: int, cv_seed: int, job: str = "relu job",
) -> tuple[keras.Model, list[FoldResult], list[dict[str, Any]]]:
    """A fresh model per fold; then a fresh model fit on all of (x, y).

    folds=0 skips the cross-validation (relu.clean_cv: false): only the final
    model is trained and tested, 1/(folds + 1) of the protocol's cost.
    """
    results, history = [], []
    targets = one_hot(y, n_classes)
    splits = StratifiedKFold(folds, shuffle=True, random_state=cv_seed).split(x, y) if folds else []
    for fold, (train, val) in enumerate(splits, start=1):
        model = build()
        fitted = model.fit(x[train], targets[train], validation_data=(x[val], targets[val]),
                           epochs=epochs, batch_size=batch_size, verbose=0,
                           callbacks=[StopOnNonFinite(f"{job}, fold {fold}"),
                                      EpochLog(history, fold, (fold - 1) * epochs)])
        loss, accuracy = _fold_score(model, fitted, x[val], targets[val], batch_size)
        results.append(FoldResult(fold, loss, accuracy, len(train), len(val)))
    final = build()
    final.fit(x, targets, epochs=epochs, batch_size=batch_size, verbose=0,
              callbacks=[StopOnNonFinite(f"{job}, final model"), EpochLog(history, 0, folds * epochs)])
    return final, results, history


PROTOCOL_RUNNERS = {"paper": paper_cv, "clean": clean_cv}


def run_job(
    arrays: Mapping[str, np.ndarray], n_classes: int, *, dataset: str, model: str, head: str,
    protocol: str, seed: int, options: Mapping[str, Any],
) -> tuple[keras.Model, list[FoldResult], list[dict[str, Any]], str]:
    """Seed, build and cross-validate one (data set, model, head, protocol, seed).

    Returns the model that is tested, the fold results, the epoch history
    and the input key ("features" or "images").
    """
    keras.utils.set_random_seed(seed)
    hidden = options["wdbc_hidden"] if dataset == "wdbc" else options["ffnn_hidden"]
    build, key = model_builder(model, head, arrays, n_classes, list(hidden),
                               options["dropout"], options["learning_rate"])
    cv_seed = options["paper_cv_seed"] if protocol == "paper" else seed
    cross_validate = protocol == "paper" or options["clean_cv"]
    final, folds, history = PROTOCOL_RUNNERS[protocol](
        build, arrays[f"{key}_train"], arrays["y_train"], n_classes,
        folds=options["folds"] if cross_validate else 0, epochs=options["epochs"], batch_size=options["batch_size"],
        cv_seed=cv_seed, job=f"relu job {protocol}/{dataset}/{model}-{head}/seed{seed}",
    )
    return final, folds, history, key


def cv_summary(folds: list[FoldResult]) -> dict[str, Any]:
    """Mean and sample standard deviation of the fold accuracies (None without folds), and the folds."""
    if not folds:
        return {"cv_accuracy_mean": None, "cv_accuracy_sd": None, "folds": []}
    accuracy = np.array([fold.accuracy for fold in folds])
    return {
        "cv_accuracy_mean": float(accuracy.mean()),
        "cv_accuracy_sd": float(accuracy.std(ddof=1)) if len(accuracy) > 1 else 0.0,
        "folds": [asdict(fold) for fold in folds],
    }
