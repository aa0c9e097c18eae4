"""CS-IST in the virtual-echo domain (Kazimierczuk & Orekhov 2011; Mayzel et
al. 2014), as the authors iterate it: threshold (1 - (i+1)/N) * max|residual|,
soft-threshold, accumulate, residual = measured - forward(estimate)."""

from __future__ import annotations

import numpy as np

from reproflow.nmr import ve


def ist(measured: np.ndarray, mask: np.ndarray, iterations: int = 200, dtype: type = np.float32,
        workers: int = -1) -> np.ndarray:
    """Reconstruct a full real spectrum from the part of its VE under `mask`
    (echo, anti-echo or NUS). One real FFT pair per iteration; `workers`: FFT
    threads (-1: the process's thread budget, `threads.budget`)."""
    if measured.ndim != 2 or measured.shape != mask.shape:
        raise ValueError(f"measured {measured.shape} and mask {mask.shape} must be the same 2D shape")
    forward = ve.MaskOperator(mask, dtype, workers)
    measured = np.ascontiguousarray(measured, dtype=forward.dtype)
    estimate = forward.input  # the FFT's own input buffer, zeros: no copy per iteration
    residual = measured.copy()
    clipped = np.empty_like(measured)
    for i in range(iterations):
        level = (1.0 - (i + 1) / iterations) * max(float(residual.max()), -float(residual.min()))
        # soft threshold: residual - clip(residual) keeps what exceeds the level
        np.clip(residual, -level, level, out=clipped)
        estimate += residual
        estimate -= clipped
        np.subtract(measured, forward.run(), out=residual)
    return estimate.copy()


def reconstruct(measured: np.ndarray, mode: ve.Mode, iterations: int = 200,
                schedule: np.ndarray | None = None, shared_axes: bool = True,
                workers: int = -1) -> np.ndarray:
    """IST for an echo, anti-echo or NUS input spectrum.

    shared_axes: use the VE's t = 0 row and column in full (`ve.known_part`);
    False iterates on the half-weighted mask exactly as the authors do.
    """
    mask = ve.mask_for(mode, measured.shape, schedule)
    if shared_axes:
        measured, mask = ve.known_part(measured, mask)
    return ist(measured, mask, iterations, workers=workers)
