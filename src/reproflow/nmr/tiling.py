"""Keras-free parts of the network path: the tiling of a spectrum into the
WNN-2D's 32 x 64 output tiles (63 x 127 input windows with wrap-around) and
the damped data-consistent cascade over any per-stage predictor."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from reproflow.nmr import ve

TILE_OUT = (32, 64)
TILE_IN = (63, 127)
# input rows/columns before and after an output tile (receptive field 32 x 64)
MARGIN = ((15, 16), (31, 32))
EPS = 1e-12

Predictor = Callable[[np.ndarray], np.ndarray]


def check_shape(shape: Sequence[int]) -> None:
    if len(shape) != 2 or shape[0] % TILE_OUT[0] or shape[1] % TILE_OUT[1]:
        raise ValueError(f"spectrum shape {tuple(shape)} is not a 2D multiple of the {TILE_OUT} tile")


def wrap_pad(spectrum: np.ndarray) -> np.ndarray:
    return np.pad(spectrum, MARGIN, mode="wrap")


def tiles(spectrum: np.ndarray) -> np.ndarray:
    """(count, 63, 127) input windows, one per 32 x 64 output tile, row-major."""
    check_shape(spectrum.shape)
    windows = np.lib.stride_tricks.sliding_window_view(wrap_pad(spectrum), TILE_IN)
    return windows[:: TILE_OUT[0], :: TILE_OUT[1]].reshape(-1, *TILE_IN)


def untile(blocks: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Inverse of the tile order: (count, 32, 64) blocks -> spectrum."""
    rows, cols = shape[0] // TILE_OUT[0], shape[1] // TILE_OUT[1]
    grid = blocks.reshape(rows, cols, *TILE_OUT)
    return grid.transpose(0, 2, 1, 3).reshape(shape)


def tile_norms(windows: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(np.square(windows, dtype=np.float64), axis=(1, 2))) + EPS


def damping(stage: int, base: float = 0.05) -> float:
    return 1.0 - base * 2.0 ** (-stage)


def cascade(stages: Sequence[Predictor], measured: np.ndarray, mode: str = "echo", damping_base: float = 0.05,
            schedule: np.ndarray | None = None,
            on_stage: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
    """K stages: predictor, damping (1 - base 2^-k), data consistency.

    The anti-echo runs through the echo networks after t1 conjugation.
    `on_stage(k, estimate)` sees each stage's output as the result is seen
    (anti-echo conjugated back).
    """
    if mode == "antiecho":
        echo_stage = None if on_stage is None else (lambda k, estimate: on_stage(k, ve.flip_t1(estimate)))
        return ve.flip_t1(cascade(stages, ve.flip_t1(measured), "echo", damping_base, None, echo_stage))
    known, mask = ve.known_part(measured, ve.mask_for(mode, measured.shape, schedule))
    operator = ve.MaskOperator(mask)
    estimate = measured.astype(np.float32)
    for stage, predict in enumerate(stages):
        estimate = ve.data_consistency(predict(estimate) * damping(stage, damping_base), known, operator)
        if on_stage is not None:
            on_stage(stage, estimate)
    return estimate
