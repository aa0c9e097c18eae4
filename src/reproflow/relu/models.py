"""The study's Keras models (Tables 1 and 2) and the ReLU-head loss.

Only `keras.ops`, so the models run on any Keras backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers, ops

HEADS = ("softmax", "relu")
EPSILON = 1e-7  # keras.config.epsilon(), the clip the authors' Keras used


@keras.saving.register_keras_serializable(package="reproflow")
def relu_head_crossentropy(y_true, y_pred):
    """Categorical cross-entropy on ReLU outputs, as the authors' Keras computed it.

    Keras' `categorical_crossentropy(from_logits=False)` rescales the outputs
    to p = y_pred / sum(y_pred), clips p to [1e-7, 1 - 1e-7] and returns
    -sum(y_true * log p). A row of all-zero ReLU outputs makes that 0/0
    (NaN). Here such a row is taken as the uniform prediction p = 1/n, so its
    loss is log(n); its gradient is zero either way, as every ReLU unit of
    the head is inactive. Its argmax prediction is class 0.
    """
    y_true = ops.cast(y_true, y_pred.dtype)
    total = ops.sum(y_pred, axis=-1, keepdims=True)
    dead = ops.equal(total, 0.0)
    # the inner where keeps NaN out of the gradient of the unused branch
    p = ops.where(dead, 1.0 / y_pred.shape[-1], y_pred / ops.where(dead, 1.0, total))
    p = ops.clip(p, EPSILON, 1.0 - EPSILON)
    return -ops.sum(y_true * ops.log(p), axis=-1)


def head(n_classes: int, kind: str) -> layers.Dense:
    """The classification layer: softmax, or ReLU as the paper proposes."""
    if kind not in HEADS:
        raise ValueError(f"unknown head {kind!r} (known: {HEADS})")
    return layers.Dense(n_classes, activation=kind, name=f"{kind}_head")


def build_ffnn(n_features: int, n_classes: int, kind: str, hidden: Sequence[int] = (512, 512, 512),
               dropout: float = 0.1) -> keras.Model:
    """Table 2: Dense(relu) + Dropout per hidden layer, then the head."""
    inputs = keras.Input(shape=(n_features,))
    x = inputs
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, head(n_classes, kind)(x), name=f"ffnn_{kind}")


def build_cnn(image_shape: Sequence[int], n_classes: int, kind: str) -> keras.Model:
    """Table 1: the Keras "VGG-like convnet" (valid 3x3 convolutions)."""
    inputs = keras.Input(shape=tuple(image_shape))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, head(n_classes, kind)(x), name=f"cnn_{kind}")


def compile_model(model: keras.Model, kind: str, learning_rate: float = 1e-3) -> keras.Model:
    """Adam with the defaults the paper states; the loss that matches the head."""
    loss = relu_head_crossentropy if kind == "relu" else "categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model
