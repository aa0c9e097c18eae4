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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.model_selection import StratifiedKFold

from reproflow.errors import ReproflowError
from reproflow.relu.models import build_cnn, build_ffnn, compile_model
from reproflow.resume import ArrayBatches, EpochCheckpoint, EpochSeeds, epoch_order, epoch_seed
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
    """Collects each epoch's metrics into `history` at its global step
    (epochs counted across the folds and the final model: the `fit` epoch),
    with the fold as the metric `fold` (0: the final model) and the epoch
    within the fold: the same names in both protocols."""

    def __init__(self, history: list[dict[str, Any]], fold: int, first_step: int) -> None:
        super().__init__()
        self.history, self.fold, self.first_step = history, fold, first_step

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        self.history.append({"step": epoch, "fold": self.fold, "epoch": epoch - self.first_step + 1, **metrics})
        log.info("fold %s epoch %d: %s", self.fold, epoch - self.first_step + 1,
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


# epoch_seed's stream for a model's initial weights (epoch_order uses 0, EpochSeeds 1, 2, ...)
MODEL_STREAM = 1 << 16


def fresh_model(build: Callable[[], keras.Model], seed: int, fold: int) -> keras.Model:
    """`build()` with every random number of the build (initial weights, seed
    generators) drawn from (seed, fold) alone: the same model whether the job
    trained the folds before it or resumed after them, in this process or another."""
    keras.utils.set_random_seed(epoch_seed(seed, fold, MODEL_STREAM))
    return build()


class Training:
    """One job's epochs, counted across its folds and final model: one `fit`
    per fold, each epoch on its own batch order, dropout re-seeded per epoch, the
    history; with `folder`, each epoch checkpointed with the history
    (reproflow.resume), so a killed job rerun goes on after its last finished
    epoch and ends as an uninterrupted run would. `callbacks` run after the
    finiteness check and the history, before the checkpoint."""

    def __init__(self, folder: str | Path | None, total_epochs: int, *, seed: int, batch_size: int,
                 job: str, callbacks: Sequence[keras.callbacks.Callback] = ()) -> None:
        self.seed, self.batch_size, self.job, self.callbacks = seed, batch_size, job, list(callbacks)
        self.history: list[dict[str, Any]] = []
        self.checkpoint = None if folder is None else EpochCheckpoint(folder, lambda: {"history": self.history})
        self.done = 0 if self.checkpoint is None else self.checkpoint.read()
        if self.done:
            saved = (self.checkpoint.extra_state or {}).get("history")
            if not isinstance(saved, list) or len(saved) != self.done:
                raise self.checkpoint.unusable(self.checkpoint.state, ValueError(
                    f"{self.done} epochs done, but a history of {len(saved) if isinstance(saved, list) else 'no'} epochs"))
            self.history = saved
            log.info("resuming after epoch %d of %d from %s", self.done, total_epochs, folder)

    def start(self, build: Callable[[], keras.Model], fold: int, first: int) -> keras.Model:
        """`fresh_model` for `fold`, loaded from the checkpoint if it holds epochs after `first` (its first)."""
        model = fresh_model(build, self.seed, fold)
        if self.checkpoint is not None and self.done > first:
            self.checkpoint.restore(model)
        return model

    def fit(self, model: keras.Model, x: np.ndarray, targets: np.ndarray,
            validation: tuple[np.ndarray, np.ndarray] | None, fold: int, first: int, epochs: int) -> None:
        """Epochs first .. first + epochs - 1 of `model` on (x, targets), those not done yet."""
        where = f"{self.job}, fold {fold}" if fold else f"{self.job}, final model"
        # the finiteness check first: a diverged epoch is never logged nor kept
        callbacks = [EpochSeeds(self.seed), StopOnNonFinite(where, first), EpochLog(self.history, fold, first),
                     *self.callbacks, *([self.checkpoint] if self.checkpoint is not None else [])]
        start = max(self.done, first)
        if start >= first + epochs:
            return
        # one fit for all the epochs left (Keras' set-up per fit is much of an epoch of 1-2 batches)
        batches = ArrayBatches(x, targets, self.batch_size,
                               *(epoch_order(len(x), self.seed, epoch) for epoch in range(start, first + epochs)))
        # shuffle=False: fit would otherwise shuffle a PyDataset's batches with Python's `random`
        model.fit(batches, validation_data=validation, validation_batch_size=self.batch_size, initial_epoch=start,
                  epochs=first + epochs, steps_per_epoch=batches.steps, callbacks=callbacks, shuffle=False, verbose=0)

    def fold_result(self, fold: int, n_train: int, n_val: int) -> FoldResult:
        """The fold's validation loss and accuracy after its last epoch (the
        last `fit` scored the fold: the numbers `evaluate` would give)."""
        last = [row for row in self.history if row["fold"] == fold][-1]
        return FoldResult(fold, last["val_loss"], last["val_accuracy"], n_train, n_val)


def paper_cv(
    build: Callable[[], keras.Model], x: np.ndarray, y: np.ndarray, n_classes: int, *,
    folds: int, epochs: int, batch_size: int, cv_seed: int, seed: int = 0, job: str = "relu job",
    backup_dir: str | Path | None = None, callbacks: Sequence[keras.callbacks.Callback] = (),
) -> tuple[keras.Model, list[FoldResult], list[dict[str, Any]]]:
    """The authors' protocol: one model trained on fold after fold (leaky).
    `seed` drives the training's random numbers, `cv_seed` the folds;
    `backup_dir`: resume from (and checkpoint to) there."""
    targets = one_hot(y, n_classes)
    splits = StratifiedKFold(folds, shuffle=True, random_state=cv_seed).split(x, y)
    training = Training(backup_dir, folds * epochs, seed=seed, batch_size=batch_size, job=job, callbacks=callbacks)
    model, results = training.start(build, 0, 0), []
    for fold, (train, val) in enumerate(splits, start=1):
        training.fit(model, x[train], targets[train], (x[val], targets[val]), fold, (fold - 1) * epochs, epochs)
        results.append(training.fold_result(fold, len(train), len(val)))
    return model, results, training.history


def clean_cv(
    build: Callable[[], keras.Model], x: np.ndarray, y: np.ndarray, n_classes: int, *,
    folds: int, epochs: int, batch_size: int, cv_seed: int, seed: int = 0, job: str = "relu job",
    backup_dir: str | Path | None = None, callbacks: Sequence[keras.callbacks.Callback] = (),
) -> tuple[keras.Model, list[FoldResult], list[dict[str, Any]]]:
    """A fresh model per fold; then a fresh model fit on all of (x, y). folds=0
    skips the cross-validation (relu.clean_cv: false): only the final model is
    trained and tested. `seed` and `backup_dir` as in `paper_cv`."""
    targets = one_hot(y, n_classes)
    splits = StratifiedKFold(folds, shuffle=True, random_state=cv_seed).split(x, y) if folds else []
    training = Training(backup_dir, (folds + 1) * epochs, seed=seed, batch_size=batch_size, job=job,
                        callbacks=callbacks)
    results = []
    for fold, (train, val) in enumerate(splits, start=1):
        first = (fold - 1) * epochs
        if training.done < first + epochs:  # else the fold is done: its scores are in the history
            model = training.start(build, fold, first)
            training.fit(model, x[train], targets[train], (x[val], targets[val]), fold, first, epochs)
        results.append(training.fold_result(fold, len(train), len(val)))
    final = training.start(build, 0, folds * epochs)
    training.fit(final, x, targets, None, 0, folds * epochs, epochs)
    return final, results, training.history


PROTOCOL_RUNNERS = {"paper": paper_cv, "clean": clean_cv}


def run_job(
    arrays: Mapping[str, np.ndarray], n_classes: int, *, dataset: str, model: str, head: str,
    protocol: str, seed: int, options: Mapping[str, Any], backup_dir: str | Path | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> tuple[keras.Model, list[FoldResult], list[dict[str, Any]], str]:
    """Seed, build and cross-validate one (data set, model, head, protocol, seed), resuming
    from `backup_dir`'s checkpoint if it holds one: the model that is tested, the fold
    results, the epoch history and the input key ("features" or "images")."""
    keras.utils.set_random_seed(seed)
    hidden = options["wdbc_hidden"] if dataset == "wdbc" else options["ffnn_hidden"]
    build, key = model_builder(model, head, arrays, n_classes, list(hidden),
                               options["dropout"], options["learning_rate"])
    cv_seed = options["paper_cv_seed"] if protocol == "paper" else seed
    cross_validate = protocol == "paper" or options["clean_cv"]
    final, folds, history = PROTOCOL_RUNNERS[protocol](
        build, arrays[f"{key}_train"], arrays["y_train"], n_classes,
        folds=options["folds"] if cross_validate else 0, epochs=options["epochs"], batch_size=options["batch_size"],
        cv_seed=cv_seed, seed=seed, job=f"relu job {protocol}/{dataset}/{model}-{head}/seed{seed}",
        backup_dir=backup_dir, callbacks=callbacks,
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
