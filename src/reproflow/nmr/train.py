"""Training of the cascade stages and of the uncertainty networks: random
63 x 127 tiles, per-tile normalisation, Adam with plateau decay, early
stopping, exactly resumable checkpoints (reproflow.resume); each job's
history is returned for its run manifest."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from reproflow.errors import ReproflowError
from reproflow.nmr import metrics, models, ve
from reproflow.resume import ArrayBatches, EpochCheckpoint, EpochSeeds, epoch_order

log = logging.getLogger(__name__)


def sample_tiles(inputs: np.ndarray, targets: Sequence[np.ndarray], count: int,
                 rng: np.random.Generator, unscaled: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, np.ndarray]:
    """`count` random windows: inputs (count, 63, 127, 1) and the central
    32 x 64 of each target stacked as channels, all divided by the input norm;
    then those of `unscaled` (e.g. point weights), not divided."""
    (b1, a1), (b2, a2) = models.MARGIN
    # one more tile after, so windows may start anywhere (wrapping around)
    pad = ((0, 0), (b1, a1 + models.TILE_OUT[0]), (b2, a2 + models.TILE_OUT[1]))
    padded_in = np.pad(inputs, pad, mode="wrap")
    padded_out = [np.pad(t, pad, mode="wrap") for t in (*targets, *unscaled)]
    n, n1, n2 = inputs.shape
    which, rows, cols = rng.integers(0, n, count), rng.integers(0, n1, count), rng.integers(0, n2, count)
    x = np.empty((count, *models.TILE_IN, 1), np.float32)
    y = np.empty((count, *models.TILE_OUT, len(padded_out)), np.float32)
    for k, (s, i, j) in enumerate(zip(which, rows, cols)):
        window = padded_in[s, i:i + models.TILE_IN[0], j:j + models.TILE_IN[1]]
        norm = np.sqrt(np.sum(np.square(window, dtype=np.float64))) + models.EPS
        x[k, ..., 0] = window / norm
        for c, target in enumerate(padded_out):
            y[k, ..., c] = target[s, i + b1:i + b1 + models.TILE_OUT[0], j + b2:j + b2 + models.TILE_OUT[1]]
            if c < len(targets):
                y[k, ..., c] /= norm
    return x, y


class FiniteLosses(keras.callbacks.Callback):
    """Stops training with an error naming the stage and epoch when a loss (or
    the learning rate) is NaN or infinite: a diverged network is never saved
    or reported as a result."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def check(self, logs: Mapping[str, Any] | None, where: str) -> None:
        bad = {key: value for key, value in (logs or {}).items() if not np.isfinite(float(value))}
        if bad:
            raise ReproflowError(f"{self.what}: {where}: {', '.join(f'{k} = {v}' for k, v in bad.items())}; "
                                 "expected finite losses (the training diverged or its data hold NaN or infinite "
                                 "values): lower the learning rate or check the training data")

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.check(logs, f"epoch {epoch + 1}")


class Schedule(keras.callbacks.Callback):
    """ReduceLROnPlateau (factor, lr_patience, min_delta 0, min_lr 1e-6) and
    EarlyStopping (patience) on val_loss, as Keras does them, with their
    counters, the history and the best epoch's weights in `state`, which the
    epoch checkpoint saves: a resumed job goes on with the same schedule."""

    def __init__(self, options: Mapping[str, Any], folder: Path, state: dict[str, Any] | None):
        super().__init__()
        self.factor, self.lr_patience = options.get("lr_factor", 0.8), options["lr_patience"]
        self.patience, self.folder = options["patience"], folder
        self.state = state or {"rows": [], "best": None, "best_weights": None, "wait": 0, "lr_wait": 0,
                               "stopped": False}

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        # best weights the saved state no longer names (superseded after its checkpoint)
        for old in self.folder.glob("best*.npz"):
            if old.name != self.state["best_weights"]:
                old.unlink()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        state = self.state
        row = {key: float(value) for key, value in (logs or {}).items()}
        optimizer = self.model.optimizer
        row["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        state["rows"].append({"epoch": epoch, **row})
        current = row["val_loss"]
        if state["best"] is None or current < state["best"]:
            state["best"], state["wait"], state["lr_wait"] = current, 0, 0
            name = f"best{epoch + 1}.npz"
            self.folder.mkdir(parents=True, exist_ok=True)
            np.savez(self.folder / name, *self.model.get_weights())
            state["best_weights"] = name
        else:
            state["wait"] += 1
            state["lr_wait"] += 1
            if state["lr_wait"] >= self.lr_patience:
                if row["learning_rate"] > 1e-6:
                    optimizer.learning_rate.assign(max(row["learning_rate"] * self.factor, 1e-6))
                state["lr_wait"] = 0
            if state["wait"] >= self.patience and epoch > 0:
                state["stopped"] = True
        # to the job's log (named by the job), not Keras' progress line on the terminal
        log.info("epoch %d: %s", epoch + 1, " ".join(f"{key}={value:.4g}" for key, value in row.items()))

    def best_weights(self) -> list[np.ndarray]:
        with np.load(self.folder / self.state["best_weights"], allow_pickle=False) as saved:
            return [saved[f"arr_{k}"] for k in range(len(saved.files))]


def fit(model: keras.Model, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
        options: Mapping[str, Any], backup_dir: str | Path, loss: Any = "mse",
        callbacks: Sequence[keras.callbacks.Callback] = (),
        what: str = "training", seed: int = 0) -> list[dict[str, float]]:
    """Adam with plateau decay and early stopping (best weights back), one
    `fit` per epoch on that epoch's batch order from (seed, epoch), each
    epoch checkpointed with the schedule's state (reproflow.resume): a killed
    job rerun ends with the weights and history of an uninterrupted run, also
    when it was killed after its last epoch. `callbacks` are added (e.g. a
    wall-time budget, which may set `model.stop_training`); a NaN loss stops
    it with an error naming `what` (the stage) and the epoch."""
    model.compile(optimizer=keras.optimizers.Adam(options["learning_rate"]), loss=loss)
    folder = Path(backup_dir)
    checkpoint = EpochCheckpoint(folder / "checkpoint")
    done = checkpoint.restore(model)
    schedule = Schedule(options, folder, checkpoint.extra_state)
    checkpoint.extra = lambda: schedule.state
    if done:
        model.optimizer.learning_rate.assign(schedule.state["rows"][-1]["learning_rate"])
        log.info("resuming after epoch %d of %d from %s", done, options["epochs"], checkpoint.folder)
    # the finiteness check first: a diverged epoch is never kept
    epoch_callbacks = [FiniteLosses(what), *callbacks, EpochSeeds(seed), schedule, checkpoint]
    x, y = train
    for epoch in range(done, options["epochs"]):
        if schedule.state["stopped"]:
            break
        batches = ArrayBatches(x, y, options["batch_size"], epoch_order(len(x), seed, epoch))
        model.fit(batches, validation_data=val, validation_batch_size=options["batch_size"], initial_epoch=epoch,
                  epochs=epoch + 1, callbacks=epoch_callbacks, shuffle=False, verbose=0)
        if model.stop_training:
            break
    if schedule.state["best_weights"] is not None:
        model.set_weights(schedule.best_weights())
    return schedule.state["rows"]


def echo_pairs(arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(echo inputs, references), doubled with t1-conjugated anti-echoes
    (an anti-echo conjugated along t1 is the echo of the conjugated reference)."""
    flipped_anti = np.stack([ve.flip_t1(s) for s in arrays["antiecho"]])
    flipped_ref = np.stack([ve.flip_t1(s) for s in arrays["reference"]])
    return (np.concatenate([arrays["echo"], flipped_anti]),
            np.concatenate([arrays["reference"], flipped_ref]))


def stage_inputs(previous: Sequence[keras.Model], echoes: np.ndarray, damping_base: float) -> np.ndarray:
    """The input of the next stage: the cascade of the stages trained so far."""
    if not previous:
        return echoes.astype(np.float32)
    return np.stack([models.cascade(previous, e, "echo", damping_base) for e in echoes]).astype(np.float32)


def whole_spectra(inputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrap-padded whole spectra (n, N1 + 31, N2 + 63, 1) and their targets
    (n, N1, N2, 1), each pair divided by the norm of a 63 x 127 window of the
    input's mean energy, so values are of the tiles' size."""
    x = np.stack([models.wrap_pad(s) for s in inputs])[..., None]
    scale = np.sqrt(np.mean(np.square(inputs, dtype=np.float64), axis=(1, 2)) * np.prod(models.TILE_IN))
    scale = scale[:, None, None, None] + models.EPS
    return (x / scale).astype(np.float32), (targets[..., None] / scale).astype(np.float32)


def train_stage(architecture: str, previous: Sequence[keras.Model], train: Mapping[str, np.ndarray],
                val: Mapping[str, np.ndarray], options: Mapping[str, Any], backup_dir: str | Path,
                seed: int, callbacks: Sequence[keras.callbacks.Callback] = ()
                ) -> tuple[keras.Model, list[dict[str, float]]]:
    """Train cascade stage len(previous) on the outputs of the earlier stages:
    on random tiles (`fit: tiles`, the default), or fully convolutionally on
    the wrap-padded whole spectra (`fit: whole`, bias-free networks only: for
    them one pass over the padded spectrum is the tiled network)."""
    whole = options.get("fit", "tiles") == "whole"
    if whole and architecture != "wnn_bf":
        raise ReproflowError(f"nmr.network.fit: 'whole' trains bias-free networks only, not {architecture!r}; "
                             "expected architectures [wnn_bf] or fit: tiles")
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    previous = models.prepare(previous)  # once for all spectra of both sets, not per spectrum
    damping_base = options["damping"]
    sets = []
    for arrays, count in ((train, options["tiles"]), (val, options["val_tiles"])):
        echoes, references = echo_pairs(arrays)
        inputs = stage_inputs(previous, echoes, damping_base)
        sets.append(whole_spectra(inputs, references) if whole else sample_tiles(inputs, [references], count, rng))
    model = models.wnn2d(architecture, options["width"], tiled_input=not whole)
    history = fit(model, sets[0], sets[1], options, backup_dir, callbacks=callbacks,
                  what=f"training of cascade stage {len(previous)} ({architecture})", seed=seed)
    return model, history


def train_uncertainty(method_inputs: np.ndarray, references: np.ndarray, mus: np.ndarray,
                      val: tuple[np.ndarray, np.ndarray, np.ndarray], options: Mapping[str, Any],
                      backup_dir: str | Path, seed: int
                      ) -> tuple[keras.Model, list[dict[str, float]]]:
    """The NLL network for one method: input its input spectra, y = [reference, mu];
    with `signal_weight` w != 1, y = [reference, mu, weight] and the NLL weighs
    the signal points (`signal_points`) w times the others."""
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    weight = float(options.get("signal_weight", 1.0))
    sets = []
    for (inputs, refs, mu), count in (((method_inputs, references, mus), options["tiles"]),
                                      (val, options["val_tiles"])):
        unscaled = [1.0 + (weight - 1.0) * signal_points(refs, mu)] if weight != 1.0 else []
        sets.append(sample_tiles(inputs, [refs, mu], count, rng, unscaled))
    loss = models.weighted_gaussian_nll if weight != 1.0 else models.gaussian_nll
    model = models.uncertainty_net(options["width"])
    history = fit(model, sets[0], sets[1], options, backup_dir, loss=loss,
                  what="training of the uncertainty network", seed=seed)
    return model, history


def signal_points(references: np.ndarray, mus: np.ndarray) -> np.ndarray:
    """(spectra, n1, n2) float 0/1: the points the metrics score, |reference|
    or |mu| above metrics.LEVEL of each reference's maximum."""
    scale = np.max(references, axis=(1, 2), keepdims=True)
    level = metrics.LEVEL * scale
    return ((np.abs(references) > level) | (np.abs(mus) > level)).astype(np.float32)
