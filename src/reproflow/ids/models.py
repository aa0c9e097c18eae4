"""GRU-SVM and GRU-Softmax in Keras 3 (`keras.ops` only: runs on the
TensorFlow, JAX and PyTorch backends).

Input: each record's 21 bin indices one-hot encoded to depth 10, read as a
[21 steps x 10] sequence. Dropout on the GRU inputs only (the authors'
keep probability 0.85 / 0.8 is a dropout rate of 0.15 / 0.2), GRU(256), then
a linear 256 -> 2 head: an L2-SVM (targets in {-1, +1}, loss
0.5 ||W||^2 + C sum max(0, 1 - y o)^2 summed over batch and classes, only W
regularised) or a softmax with cross-entropy.
"""

from __future__ import annotations

import keras
from keras import ops

from reproflow.ids.plan import ARMS
from reproflow.ids.preprocess import N_BINS

N_CLASSES = 2


@keras.saving.register_keras_serializable(package="reproflow")
class L2SVMLoss(keras.losses.Loss):
    """C * sum over classes of max(0, 1 - y o)^2, y = +1 for the true class and -1
    otherwise; reduced by summing over the batch (the authors' loss). The
    0.5 ||W||^2 term is the head's kernel regulariser."""

    def __init__(self, c: float = 0.5, name: str = "l2_svm", reduction: str = "sum", dtype=None) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.c = c

    def call(self, y_true, y_pred):
        y = 2.0 * ops.cast(y_true, y_pred.dtype) - 1.0    # one-hot {0, 1} -> {-1, +1}
        return self.c * ops.sum(ops.square(ops.relu(1.0 - y * y_pred)), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "c": self.c}


def svm_classes(outputs):
    """argmax(sign(o)): when both outputs have the same sign, class 0."""
    return ops.argmax(ops.sign(outputs), axis=-1)


def predicted_classes(outputs, arm: str):
    return svm_classes(outputs) if arm == "gru_svm" else ops.argmax(outputs, axis=-1)


@keras.saving.register_keras_serializable(package="reproflow")
def svm_accuracy(y_true, y_pred):
    return ops.cast(ops.equal(ops.argmax(y_true, axis=-1), svm_classes(y_pred)), "float32")


@keras.saving.register_keras_serializable(package="reproflow")
class ClassCount(keras.metrics.Metric):
    """Running count of true/false positives/negatives (positive = attack = class 1)."""

    def __init__(self, kind: str, arm: str = "gru_svm", name: str | None = None, dtype=None) -> None:
        super().__init__(name=name or kind, dtype=dtype or "float32")
        self.kind, self.arm = kind, arm
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        truth = ops.argmax(y_true, axis=-1) == 1
        guess = predicted_classes(y_pred, self.arm) == 1
        hit = {"tp": truth & guess, "fp": ~truth & guess, "tn": ~truth & ~guess, "fn": truth & ~guess}[self.kind]
        self.total.assign_add(ops.sum(ops.cast(hit, self.dtype)))

    def result(self):
        return self.total

    def get_config(self) -> dict:
        return {"kind": self.kind, "arm": self.arm, "name": self.name, "dtype": self.dtype}


def build_model(arm: str, *, n_steps: int, units: int, keep_prob: float,
                batch_size: int | None = None, stateful: bool = False, reset_after: bool = True) -> keras.Model:
    """GRU-SVM or GRU-Softmax (uncompiled). `stateful` needs a fixed `batch_size`."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r} (known: {ARMS})")
    inputs = keras.Input(shape=(n_steps, N_BINS), batch_size=batch_size if stateful else None, name="bins")
    x = keras.layers.Dropout(1.0 - keep_prob, name="input_dropout")(inputs)
    x = keras.layers.GRU(units, stateful=stateful, reset_after=reset_after, name="gru")(x)
    if arm == "gru_svm":
        outputs = keras.layers.Dense(N_CLASSES, kernel_regularizer=keras.regularizers.L2(0.5), name="svm")(x)
    else:
        outputs = keras.layers.Dense(N_CLASSES, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=arm)


def compile_model(model: keras.Model, arm: str, learning_rate: float, svm_c: float = 0.5) -> keras.Model:
    loss = L2SVMLoss(svm_c) if arm == "gru_svm" else keras.losses.CategoricalCrossentropy()
    accuracy = (keras.metrics.MeanMetricWrapper(svm_accuracy, name="accuracy") if arm == "gru_svm"
                else keras.metrics.CategoricalAccuracy(name="accuracy"))
    counts = [ClassCount(kind, arm) for kind in ("tp", "fp", "tn", "fn")]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=[accuracy, *counts])
    return model
