"""What every Keras training job shares: a NaN stops the job, never a result.

`StopOnNonFinite(job)` checks the metrics Keras logs at the end of each
epoch (loss, accuracy, validation metrics): a NaN or infinity means the
weights diverged, and everything after it (predictions, scores, the saved
model) would be wrong in silence, so the job stops with an error naming the
job and the epoch. Keras' own TerminateOnNaN only ends training quietly, and
the job would go on to report the diverged model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras

from reproflow.errors import ReproflowError


class StopOnNonFinite(keras.callbacks.Callback):
    """Raise ReproflowError naming `job` and the epoch when a logged metric is not finite;
    epochs are named from `first_epoch` on (a fit whose epochs count on from earlier ones)."""

    def __init__(self, job: str, first_epoch: int = 0) -> None:
        super().__init__()
        self.job, self.first_epoch = job, first_epoch

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        values = {key: float(value) for key, value in (logs or {}).items()}  # floats or 0-d tensors
        bad = {key: value for key, value in values.items() if not math.isfinite(value)}
        if bad:
            shown = ", ".join(f"{key} = {value}" for key, value in bad.items())
            raise ReproflowError(
                f"{self.job}, epoch {epoch - self.first_epoch + 1}: {shown}; training diverged (a NaN or infinite number), so no "
                "result is reported: lower the learning rate or check the input data for huge values")
