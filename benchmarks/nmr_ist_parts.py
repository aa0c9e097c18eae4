"""Benchmark: what one CS-IST iteration costs, part by part, and the operator's alternatives.

One iteration of `ist.ist` is the forward operator (`ve.MaskOperator`: rfft along
t2, fft along t1, mask, inverse) and the thresholding around it. Printed: median
CPU and wall milliseconds over --repeats calls, for `workers` 1 and 2, of the
operator, its four FFT passes alone, the operator with other transform orders
(rfft2/irfft2; columns first), with pyFFTW (FFTW 3) if it is importable, and the
elementwise steps. The IST's MALT1 echo (256 x 2048, `ve.known_part`) as input.

Usage: python benchmarks/nmr_ist_parts.py [--spectrum Malt.ft2] [--repeats 40]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable

import nmr_speed  # the same timer (this folder is on sys.path when a benchmark runs)
import numpy as np
import scipy.fft as sfft

from reproflow.nmr import ve


def timed(work: Callable[[], object], repeats: int) -> list[float]:
    """[CPU ms, wall ms], medians, after one untimed call (FFT plans, allocations)."""
    work()
    figures = nmr_speed.timed(work, repeats)
    return [round(1e3 * figures["cpu_median_s"], 3), round(1e3 * figures["wall_median_s"], 3)]


def fftw_operator(mask_half: np.ndarray, shape: tuple[int, int], threads: int) -> Callable[[np.ndarray], np.ndarray]:
    import pyfftw

    real = pyfftw.empty_aligned(shape, np.float32)
    half = pyfftw.empty_aligned(mask_half.shape, np.complex64)
    forward = pyfftw.FFTW(real, half, axes=(0, 1), flags=("FFTW_MEASURE",), threads=threads)
    backward = pyfftw.FFTW(half, real, axes=(0, 1), direction="FFTW_BACKWARD",
                           flags=("FFTW_MEASURE", "FFTW_DESTROY_INPUT"), threads=threads)

    def apply(spectrum: np.ndarray) -> np.ndarray:
        real[:] = spectrum
        forward()
        half[:] *= mask_half
        backward(normalise_idft=True)
        return real

    return apply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectrum", help="NMRPipe 2D spectrum (e.g. MALT1 Malt.ft2)")
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    echo = ve.echo(nmr_speed.reference(args.spectrum))
    measured, mask = ve.known_part(echo, ve.echo_mask(echo.shape))
    x = measured.astype(np.float32)
    n1, n2 = x.shape
    result: dict[str, object] = {"load_1min": os.getloadavg()[0], "unit": "[CPU ms, wall ms], median"}
    # the mask on rfft's half spectrum (MaskOperator folds 1/N into its own)
    columns_half = np.ascontiguousarray(mask[:, : n2 // 2 + 1], dtype=np.complex64)
    for workers in (1, 2):
        operator = ve.MaskOperator(mask, np.float32, workers)
        rows_half = np.ascontiguousarray(mask[: n1 // 2 + 1], dtype=np.complex64)

        def rfft2_order(s: np.ndarray, w: int = workers, m: np.ndarray = columns_half) -> np.ndarray:
            return sfft.irfft2(sfft.rfft2(s, workers=w) * m, s=s.shape, workers=w)

        def columns_first(s: np.ndarray, w: int = workers, m: np.ndarray = rows_half) -> np.ndarray:
            half = sfft.fft(sfft.rfft(s, axis=0, workers=w), axis=1, workers=w, overwrite_x=True)
            half *= m
            return sfft.irfft(sfft.ifft(half, axis=1, workers=w, overwrite_x=True), n=n1, axis=0, workers=w)

        half = sfft.rfft(x, axis=1)
        parts = {"operator": lambda op=operator: op(x),
                 "rfft t2": lambda w=workers: sfft.rfft(x, axis=1, workers=w),
                 "fft t1": lambda w=workers: sfft.fft(half, axis=0, workers=w),
                 "ifft t1": lambda w=workers: sfft.ifft(half, axis=0, workers=w),
                 "irfft t2": lambda w=workers: sfft.irfft(half, n=n2, axis=1, workers=w),
                 "operator, rfft2/irfft2": lambda f=rfft2_order: f(x),
                 "operator, columns first": lambda f=columns_first: f(x)}
        try:
            fftw = fftw_operator(columns_half, x.shape, workers)
            parts["operator, pyFFTW"] = lambda f=fftw: f(x)
        except ImportError:  # not a dependency: timed where it is installed
            pass
        result[f"workers {workers}"] = {name: timed(work, args.repeats) for name, work in parts.items()}
    estimate, residual, clipped = np.zeros_like(x), x.copy(), np.empty_like(x)
    half_c = sfft.fft(sfft.rfft(x, axis=1), axis=0)
    result["elementwise"] = {
        "level (max, min)": timed(lambda: max(float(residual.max()), -float(residual.min())), args.repeats),
        "clip": timed(lambda: np.clip(residual, -0.5, 0.5, out=clipped), args.repeats),
        "estimate += residual - clipped": timed(
            lambda: (np.add(estimate, residual, out=estimate), np.subtract(estimate, clipped, out=estimate)),
            args.repeats),
        "residual = measured - forward": timed(lambda: np.subtract(x, residual, out=clipped), args.repeats),
        "mask multiply (in the operator)": timed(lambda: np.multiply(half_c, columns_half, out=half_c), args.repeats),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
