"""Training one GRU arm, per protocol.

`paper`: batches in file order (no shuffling), the GRU state carried from
batch to batch during training (a stateful GRU: why the authors trimmed the
data to multiples of 256), zero state at test; GRU cell with the reset gate
applied before the recurrent matmul, as TensorFlow 1's GRUCell.
`clean`: shuffled batches, zero state per batch, Keras' default GRU.

After each epoch a stateless twin with the same weights scores the
evaluation sets (Figures 2 and 3). Each epoch is checkpointed and every
random stream is set from (seed, epoch), so a killed job resumes from its
last finished epoch and ends as an uninterrupted run would (reproflow.resume).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from reproflow.errors import ReproflowError
from reproflow.ids.evaluate import classification
from reproflow.ids.models import N_BINS, N_CLASSES, build_model, compile_model
from reproflow.outputs import write_text
from reproflow.resume import EpochCheckpoint, EpochSeeds, epoch_order

log = logging.getLogger(__name__)


def one_hot_bins(x: np.ndarray) -> np.ndarray:
    """uint8 bin indices [n, k] -> float32 one-hot [n, k, 10]."""
    return np.eye(N_BINS, dtype=np.float32)[x]


class OneHotBatches(keras.utils.PyDataset):
    """Batches of one-hot inputs made on the fly (the uint8 arrays stay compact),
    rows taken in the given order (default: file order)."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, batch_size: int, order: np.ndarray | None = None) -> None:
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.order = np.arange(len(x)) if order is None else order

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        if self.y is None:
            return (one_hot_bins(self.x[rows]),)
        return one_hot_bins(self.x[rows]), np.eye(N_CLASSES, dtype=np.float32)[self.y[rows]]


def scores_and_classes(outputs: np.ndarray, arm: str) -> tuple[np.ndarray, np.ndarray]:
    """Attack score (SVM margin difference or softmax probability) and class."""
    if arm == "gru_svm":
        classes = np.argmax(np.sign(outputs), axis=-1)     # argmax(sign(o)): ties -> class 0
        return outputs[:, 1] - outputs[:, 0], classes
    return outputs[:, 1], np.argmax(outputs, axis=-1)


def loss_value(outputs: np.ndarray, y: np.ndarray, arm: str, model: keras.Model, svm_c: float,
               batch_size: int) -> float:
    """The training loss on a whole set, per batch as Keras reports it: SVM summed
    over each batch (+ 0.5 ||W||^2), softmax cross-entropy averaged."""
    targets = np.eye(N_CLASSES)[y]
    if arm == "gru_svm":
        hinge = np.maximum(0.0, 1.0 - (2 * targets - 1) * outputs) ** 2
        kernel = model.get_layer("svm").get_weights()[0]
        return float(svm_c * hinge.sum() / math.ceil(len(y) / batch_size) + 0.5 * np.sum(kernel ** 2))
    return float(-np.mean(np.sum(targets * np.log(np.clip(outputs, 1e-7, 1 - 1e-7)), axis=-1)))


def predict_outputs(model: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    return model.predict(OneHotBatches(x, None, batch_size), verbose=0)


def evaluate_set(model: keras.Model, x: np.ndarray, y: np.ndarray, arm: str, svm_c: float,
                 batch_size: int) -> dict[str, Any]:
    outputs = predict_outputs(model, x, batch_size)
    scores, classes = scores_and_classes(outputs, arm)
    result = classification(y, classes, scores)
    result["loss"] = loss_value(outputs, y, arm, model, svm_c, batch_size)
    return result


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training when the loss or a weight is NaN or infinite: an error naming
    the job and the epoch, never a result computed from a diverged network."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        bad = [key for key, value in (logs or {}).items() if not np.all(np.isfinite(np.asarray(value, float)))]
        bad += [weight.path for weight in self.model.weights
                if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight)))]
        if bad:
            raise ReproflowError(
                f"{self.label}: training diverged at epoch {epoch + 1}: {', '.join(bad[:5])} NaN or infinite; "
                "expected finite values (try a smaller learning rate)")


class EpochEval(keras.callbacks.Callback):
    """Scores the evaluation sets after each epoch with a stateless twin; keeps the
    history on disk (beside the checkpoint) so a resumed job has all epochs."""

    def __init__(self, twin: keras.Model, eval_sets: Mapping[str, tuple[np.ndarray, np.ndarray]], arm: str,
                 svm_c: float, batch_size: int, history_path: Path) -> None:
        super().__init__()
        self.twin, self.eval_sets, self.arm = twin, eval_sets, arm
        self.svm_c, self.batch_size, self.path = svm_c, batch_size, history_path
        self.history: list[dict[str, Any]] = json.loads(history_path.read_text()) if history_path.exists() else []
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self.started
        row: dict[str, Any] = {"epoch": epoch + 1, "train_seconds": seconds}
        row.update({f"train_{key}": float(value) for key, value in (logs or {}).items()})
        self.twin.set_weights(self.model.get_weights())
        for name, (x, y) in self.eval_sets.items():
            started = time.perf_counter()
            result = evaluate_set(self.twin, x, y, self.arm, self.svm_c, self.batch_size)
            row[f"{name}_seconds"] = time.perf_counter() - started
            row.update({f"{name}_{key}": result[key] for key in
                        ("accuracy", "loss", "tp", "fp", "tn", "fn", "f1", "balanced_accuracy", "roc_auc")})
        self.history = [r for r in self.history if r["epoch"] < epoch + 1] + [row]
        write_text(self.path, json.dumps(self.history, indent=1))   # a killed job never leaves half of it
        log.info("epoch %d: %s", epoch + 1, " ".join(
            f"{k}={v:.4f}" for k, v in row.items() if k.endswith(("accuracy", "loss"))))


def train_arm(
    x_train: np.ndarray, y_train: np.ndarray, eval_sets: Mapping[str, tuple[np.ndarray, np.ndarray]], *,
    arm: str, protocol: str, units: int, keep_prob: float, learning_rate: float, epochs: int,
    batch_size: int, svm_c: float, seed: int, backup_dir: str | Path,
    label: str = "ids training",
) -> tuple[keras.Model, list[dict[str, Any]], float]:
    """Train one arm; returns the stateless (inference) model, the per-epoch history
    and the training wall time in seconds. A NaN or infinite loss or weight stops it
    with a ReproflowError naming `label` (the job) and the epoch."""
    keras.utils.set_random_seed(seed)
    paper = protocol == "paper"
    if paper and len(y_train) % batch_size:
        raise ValueError(f"paper protocol: {len(y_train)} training rows is not a multiple of {batch_size}")
    shape = {"n_steps": x_train.shape[1], "units": units, "keep_prob": keep_prob,
             "reset_after": not paper}
    model = compile_model(build_model(arm, batch_size=batch_size, stateful=paper, **shape), arm, learning_rate, svm_c)
    twin = build_model(arm, **shape)   # inference only: saved without an optimizer
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = EpochCheckpoint(backup_dir / "checkpoint")
    evaluation = EpochEval(twin, eval_sets, arm, svm_c, batch_size, backup_dir / "history.json")
    # the finiteness check runs before the evaluation and the checkpoint: a diverged epoch is never kept
    callbacks = [EpochSeeds(seed), StopOnNonFinite(label), evaluation, checkpoint]
    done = checkpoint.restore(model)
    if done:
        log.info("resuming after epoch %d of %d from %s", done, epochs, checkpoint.folder)
    started = time.perf_counter()
    for epoch in range(done, epochs):   # one fit per epoch: its own batch order, nothing prefetched across
        data = OneHotBatches(x_train, y_train, batch_size, epoch_order(len(y_train), None if paper else seed, epoch))
        # shuffle=False: fit would otherwise shuffle a PyDataset's batches with Python's `random`
        model.fit(data, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks, shuffle=False, verbose=0)
    seconds = time.perf_counter() - started
    twin.set_weights(model.get_weights())
    return twin, evaluation.history, seconds
