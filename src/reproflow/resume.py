"""Exact resume of a killed Keras training job.

Keras' `BackupAndRestore` brings back the weights and optimizer state of the
last finished epoch, but not the random streams: dropout's seed generators
and the batch order go on from fresh states, and a `PyDataset` is prefetched
across epoch boundaries, so a resumed run drifts from an uninterrupted one.
Here every epoch has its own batch order (`ArrayBatches`: fixed before a
`fit` over several epochs starts), every random stream is a function of (seed, epoch), and `EpochCheckpoint`
saves weights, optimizer and RNN state after each epoch, atomically: epoch k
draws the same numbers whether the job ran straight through or was killed
and resumed.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from reproflow.errors import ReproflowError
from reproflow.outputs import write_json, write_text

log = logging.getLogger(__name__)


def same_inputs_or_fresh(backup_dir: str | Path, identity: Mapping[str, Any]) -> None:
    """Keep `backup_dir` only if it was made from these inputs and settings
    (its `inputs.json`, JSON-able: input checksums, options, seed); else remove
    it: a checkpoint never resumes another job's training."""
    backup_dir, identity = Path(backup_dir), json.loads(json.dumps(identity))
    record = backup_dir / "inputs.json"
    try:
        kept = json.loads(record.read_text()) if record.exists() else None
    except (OSError, ValueError):
        kept = None
    if kept != identity:
        if backup_dir.exists():
            log.warning("%s: made from other inputs or settings (or unreadable); training afresh", backup_dir)
            shutil.rmtree(backup_dir)
        write_json(record, identity)


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A 31-bit seed for one random stream of one epoch."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0] >> 1)


def epoch_order(n: int, seed: int | None, epoch: int) -> np.ndarray:
    """The row order of one epoch: shuffled from (seed, epoch), or file order when seed is None."""
    if seed is None:
        return np.arange(n)
    return np.random.default_rng(epoch_seed(seed, epoch)).permutation(n)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays, one epoch after the other, each epoch in its
    own row order (`epoch_order`). Fit on it with shuffle=False and
    steps_per_epoch=`steps`: it draws no numbers of its own, and the whole
    sequence is fixed before training starts, so the prefetching of a `fit`
    over several epochs cannot change what an epoch sees."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, *orders: np.ndarray) -> None:
        super().__init__()
        self.x, self.y, self.batch_size, self.orders = x, y, batch_size, orders
        self.steps = math.ceil(len(orders[0]) / batch_size)

    def __len__(self) -> int:
        return self.steps * len(self.orders)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, batch = divmod(index, self.steps)
        rows = np.sort(self.orders[epoch][batch * self.batch_size:(batch + 1) * self.batch_size])
        return self.x[rows], self.y[rows]


class EpochSeeds(keras.callbacks.Callback):
    """At each epoch's start, re-seeds the model's seed generators (dropout) from (seed, epoch)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        states = [v for v in self.model.variables if v.name == "seed_generator_state"]
        for stream, state in enumerate(states, 1):
            state.assign(np.array([epoch_seed(self.seed, epoch, stream), 0], dtype=state.dtype))


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: the model's weights with its optimizer and RNN state
    (`save_weights`) to `epoch<k>.weights.h5`, then `state.json` naming it,
    replaced atomically, so a kill at any moment leaves a consistent pair.
    `extra()` (JSON-able: a schedule's counters, the history) is saved in the
    same state.json, and is back in `extra_state` after `restore`."""

    def __init__(self, folder: str | Path, extra: Callable[[], dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.state = self.folder / "state.json"
        self.extra = extra
        self.extra_state: dict[str, Any] | None = None
        self.weights: Path | None = None

    def read(self) -> int:
        """The number of finished epochs saved (0: none), with their `extra()` in `extra_state`;
        loads no weights (for a job that starts a fresh model after them)."""
        if not self.state.exists():
            return 0
        try:
            state = json.loads(self.state.read_text())
            self.extra_state, self.weights = state.get("extra"), self.folder / state["weights"]
            return int(state["epochs_done"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise self.unusable(self.state, error) from None

    def restore(self, model: keras.Model) -> int:
        """Load the last finished epoch into `model` (compiled); returns the number of finished epochs."""
        done = self.read()
        if done:
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            try:
                model.load_weights(self.weights)
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise self.unusable(self.weights, error) from None
        return done

    def unusable(self, path: Path, error: Exception) -> ReproflowError:
        """A checkpoint file that cannot be read: a job never trains on from a guess."""
        return ReproflowError(
            f"{path}: not a usable epoch checkpoint ({type(error).__name__}: {error}); expected the files an "
            f"interrupted training job leaves: remove {self.folder} to train from the first epoch")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = f"epoch{epoch + 1}.weights.h5"
        self.model.save_weights(self.folder / weights, overwrite=True)
        state: dict[str, Any] = {"epochs_done": epoch + 1, "weights": weights}
        if self.extra is not None:
            state["extra"] = self.extra()
        write_text(self.state, json.dumps(state))
        for old in self.folder.glob("epoch*.weights.h5"):
            if old.name != weights:
                old.unlink()
