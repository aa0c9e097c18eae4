"""WNN-2D reconstruction networks, tiling, the damped data-consistent cascade
and the NLL uncertainty network (Keras 3, `keras.ops` only).

Two architectures:
- "wnn": the authors' WNN-2D (30,801 parameters), applied tile by tile:
  63 x 127 input windows with wrap-around, each divided by its norm, giving
  the central 32 x 64 points.
- "wnn_bf": the same network without biases. A bias-free ReLU network is
  positively homogeneous, f(x / c) = f(x) / c, so per-tile normalisation
  cancels and tiling with wrap-around equals one convolution over the
  wrap-padded spectrum: identical outputs at about a quarter of the work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
from keras import layers, ops

from reproflow.errors import ReproflowError
from reproflow.nmr import tiling

# the tiling lives in the keras-free reproflow.nmr.tiling; re-exported for callers of models
EPS, MARGIN, TILE_IN, TILE_OUT = tiling.EPS, tiling.MARGIN, tiling.TILE_IN, tiling.TILE_OUT
check_shape, damping, tile_norms, tiles, untile, wrap_pad = (
    tiling.check_shape, tiling.damping, tiling.tile_norms, tiling.tiles, tiling.untile, tiling.wrap_pad)

DILATIONS = ((2, 4), (4, 8), (8, 16))
ARCHITECTURES = ("wnn", "wnn_bf")


def trunk(inputs: keras.KerasTensor, width: int, use_bias: bool) -> keras.KerasTensor:
    """WNN-2D: Conv(2x4) then dilated Conv(2x2) layers, ReLU, all unpadded."""
    x = layers.Conv2D(width, (2, 4), activation="relu", use_bias=use_bias, name="conv_0")(inputs)
    for index, dilation in enumerate(DILATIONS, start=1):
        x = layers.Conv2D(width, (2, 2), dilation_rate=dilation, activation="relu", use_bias=use_bias,
                          name=f"conv_{index}")(x)
    return layers.Conv2D(1, (2, 2), dilation_rate=(16, 32), use_bias=use_bias, name="conv_out")(x)


def wnn2d(architecture: str = "wnn", width: int = 50, tiled_input: bool = True) -> keras.Model:
    """The reconstruction network; `tiled_input=False` accepts any size."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
    shape = (*TILE_IN, 1) if tiled_input else (None, None, 1)
    inputs = keras.Input(shape, name="spectrum")
    return keras.Model(inputs, trunk(inputs, width, architecture == "wnn"), name=architecture)


@keras.saving.register_keras_serializable(package="reproflow")
class Sigma(layers.Layer):
    """sigma = 1e-3 + relu(0.01 x): positive, with a floor."""

    def call(self, x):
        return 1e-3 + ops.relu(0.01 * x)


def uncertainty_net(width: int = 50) -> keras.Model:
    """The NLL network: WNN-2D trunk with a sigma head, per 63 x 127 tile."""
    inputs = keras.Input((*TILE_IN, 1), name="spectrum")
    return keras.Model(inputs, Sigma(name="sigma")(trunk(inputs, width, True)), name="uncertainty")


@keras.saving.register_keras_serializable(package="reproflow")
def gaussian_nll(y_true, sigma):
    """NLL of the reference given (mu, sigma); y_true stacks [reference, mu]."""
    reference, mu = y_true[..., 0:1], y_true[..., 1:2]
    return ops.mean(ops.square(reference - mu) / (2.0 * ops.square(sigma)) + ops.log(sigma))


@keras.saving.register_keras_serializable(package="reproflow")
def weighted_gaussian_nll(y_true, sigma):
    """`gaussian_nll` with a weight per point: y_true stacks [reference, mu,
    weight]; the mean is weighted, so weight 1 everywhere is `gaussian_nll`."""
    reference, mu, weight = y_true[..., 0:1], y_true[..., 1:2], y_true[..., 2:3]
    terms = ops.square(reference - mu) / (2.0 * ops.square(sigma)) + ops.log(sigma)
    return ops.sum(weight * terms) / ops.sum(weight)


def is_bias_free(model: keras.Model) -> bool:
    return not any(getattr(layer, "use_bias", False) for layer in model.layers)


# ---- prediction (tiling: reproflow.nmr.tiling) ------------------------

def predict_tiled(model: keras.Model, spectrum: np.ndarray) -> np.ndarray:
    """All tiles in one batch, each divided by its norm and scaled back."""
    windows = tiles(spectrum)
    norms = tile_norms(windows)
    batch = (windows / norms[:, None, None])[..., None].astype("float32")
    out = ops.convert_to_numpy(model(batch, training=False))[..., 0]
    return untile(out * norms[:, None, None], spectrum.shape)


def predict_full(model: keras.Model, spectrum: np.ndarray) -> np.ndarray:
    """One convolution over the wrap-padded spectrum (bias-free networks)."""
    check_shape(spectrum.shape)
    scale = float(np.sqrt(np.mean(np.square(spectrum, dtype=np.float64)))) + EPS
    padded = (wrap_pad(spectrum) / scale)[None, ..., None].astype("float32")
    return ops.convert_to_numpy(model(padded, training=False))[0, ..., 0] * scale


def predict(model: keras.Model, spectrum: np.ndarray) -> np.ndarray:
    """The network's output spectrum, tile by tile or in one pass when exact."""
    return predict_full(model, spectrum) if is_bias_free(model) else predict_tiled(model, spectrum)


def full_size(model: keras.Model) -> keras.Model:
    """A copy of a tile model accepting any input size (same weights)."""
    architecture = "wnn_bf" if is_bias_free(model) else "wnn"
    width = model.get_layer("conv_0").filters
    copy = wnn2d(architecture, width, tiled_input=False)
    copy.set_weights(model.get_weights())
    return copy


def prepare(models: Sequence[keras.Model]) -> list[keras.Model]:
    """Bias-free tile models as any-size models, for the one-pass prediction."""
    return [full_size(m) if is_bias_free(m) and m.input_shape[1] is not None else m for m in models]


# ---- cascade --------------------------------------------------------------

def cascade(models: Sequence[keras.Model], measured: np.ndarray, mode: str = "echo",
            damping_base: float = 0.05, schedule: np.ndarray | None = None,
            on_stage: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
    """`tiling.cascade` with these Keras models as the stages."""
    stages = [lambda estimate, model=model: predict(model, estimate) for model in prepare(models)]
    return tiling.cascade(stages, measured, mode, damping_base, schedule, on_stage)


def uncertainty(model: keras.Model, method_input: np.ndarray) -> np.ndarray:
    """sigma per point, from the assessed method's input spectrum (tiled and
    normalised like a reconstruction)."""
    return predict_tiled(model, method_input)


def load(path: str) -> keras.Model:
    """A saved .keras model, in safe mode (no arbitrary code)."""
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # keras raises ValueError, OSError, zipfile errors, ...
        raise ReproflowError(f"{path}: not a loadable .keras model ({error}); expected a model saved by reproflow "
                             "(loaded in safe mode: Lambda layers and other code are refused)") from error
