"""Virtual echo (VE): a real spectrum's 2D inverse FFT and its masks.

The VE of a spectrum processed with 2x zero fill, first point x0.5 and
P1 = 0 holds the P-type (echo) signal in the (+t1, +t2) and (-t1, -t2)
quadrants and the N-type (anti-echo) signal in the other two; the t = 0 row
and column are shared, half each. Every mask here is symmetric under
t -> -t, so a masked real spectrum stays real and the operators can use
real FFTs (fft2 and ifft2 of a real array differ by t -> -t only).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft as sfft

from reproflow.nmr import threads

Mode = str  # "echo" | "antiecho" | "nus"
MODES = ("echo", "antiecho", "nus")


def time_signs(n: int) -> np.ndarray:
    """Sign of the time of each FFT index: +1 for 1..n/2-1, -1 above, 0 at 0 and n/2."""
    index = np.arange(n)
    signs = np.where(index < (n + 1) // 2, 1.0, -1.0)
    signs[0] = 0.0
    if n % 2 == 0:
        signs[n // 2] = 0.0
    return signs


def echo_mask(shape: Sequence[int]) -> np.ndarray:
    """1 on the echo quadrants, 0 on the anti-echo ones, 0.5 where t1 or t2 is 0."""
    s1, s2 = time_signs(shape[0]), time_signs(shape[1])
    return (1.0 + s1[:, None] * s2[None, :]) / 2.0


def antiecho_mask(shape: Sequence[int]) -> np.ndarray:
    return 1.0 - echo_mask(shape)


def nus_mask(shape: Sequence[int], schedule: Sequence[int], acquired: int | None = None) -> np.ndarray:
    """1 on the t1 rows sampled by `schedule` (indices 0..acquired-1) and their
    mirror rows; rows past the acquired length are known zeros (zero fill), so 1."""
    n1, n2 = shape
    acquired = acquired or n1 // 2
    rows = np.zeros(n1)
    rows[acquired:n1 - acquired + 1] = 1.0
    sampled = np.asarray(schedule, dtype=int)
    rows[sampled % n1] = 1.0
    rows[(-sampled) % n1] = 1.0
    return np.broadcast_to(rows[:, None], (n1, n2)).copy()


def mask_for(mode: Mode, shape: Sequence[int], schedule: Sequence[int] | None = None) -> np.ndarray:
    """The VE mask of the measured part for one input mode."""
    if mode == "echo":
        return echo_mask(shape)
    if mode == "antiecho":
        return antiecho_mask(shape)
    if mode == "nus":
        if schedule is None:
            raise ValueError("mode 'nus' needs a sampling schedule")
        return nus_mask(shape, schedule)
    raise ValueError(f"mode must be one of {MODES}, not {mode!r}")


def to_ve(spectrum: np.ndarray) -> np.ndarray:
    """Spectrum -> VE time domain (complex, FFT index order)."""
    return sfft.ifft2(spectrum)


def from_ve(ve: np.ndarray) -> np.ndarray:
    """VE time domain -> real spectrum."""
    return sfft.fft2(ve).real


class MaskOperator:
    """x -> real spectrum of (mask * VE(x)), with real FFTs: the forward model
    of an echo, anti-echo or NUS measurement, and its complement.

    Planned FFTW transforms (pyFFTW) on buffers allocated once: `input` and
    `output` are aligned arrays the caller may work in, `run()` maps one to the
    other without copies. One operator per thread (it owns its buffers).
    """

    def __init__(self, mask: np.ndarray, dtype: type = np.float32, workers: int = -1):
        import pyfftw  # only the IST and the cascade's data consistency need it

        self.shape = tuple(mask.shape)
        self.dtype = np.dtype(dtype)
        half_shape = (self.shape[0], self.shape[1] // 2 + 1)
        # the 1/N of the inverse FFT folded into the mask: one multiply for both
        self.half_mask = np.ascontiguousarray(mask[:, : half_shape[1]] / mask.size, dtype=self.dtype)
        self.input = pyfftw.zeros_aligned(self.shape, self.dtype)
        self.output = pyfftw.empty_aligned(self.shape, self.dtype)
        self._half = pyfftw.empty_aligned(half_shape, np.result_type(self.dtype, np.complex64))
        # FFTW_ESTIMATE: no timed planning at start-up, and the same plan (so the
        # same rounding) on every run; measured as fast as FFTW_MEASURE here
        self._plans = self._plan(1)
        count = workers if workers > 0 else threads.budget()
        if count > 1:
            # FFTW's threads hand work over at every pass: where another process holds
            # a core, each hand-off waits for the scheduler (measured: 19-31 ms a call
            # against 3 ms on one thread), so the plan faster on this machine now is
            # kept; both give bitwise the same output (tests/test_nmr_signal.py)
            threaded = self._plan(count)
            if self._seconds(threaded) < self._seconds(self._plans):
                self._plans = threaded

    def _plan(self, count: int) -> tuple[Any, Any]:
        import pyfftw  # imported once by __init__: here a lookup

        return (pyfftw.FFTW(self.input, self._half, axes=(0, 1), flags=("FFTW_ESTIMATE",), threads=count),
                pyfftw.FFTW(self._half, self.output, axes=(0, 1), direction="FFTW_BACKWARD",
                            flags=("FFTW_ESTIMATE", "FFTW_DESTROY_INPUT"), threads=count))

    def _seconds(self, plans: tuple[Any, Any]) -> float:
        """The fastest of two runs on these plans."""
        times = []
        for _ in range(2):
            start = time.perf_counter()
            self._run(plans)
            times.append(time.perf_counter() - start)
        return min(times)

    def _run(self, plans: tuple[Any, Any]) -> np.ndarray:
        forward, backward = plans
        forward.execute()
        self._half *= self.half_mask
        backward.execute()
        return self.output

    def run(self) -> np.ndarray:
        """`output` = the operator on `input`; returns `output`."""
        return self._run(self._plans)

    def __call__(self, spectrum: np.ndarray) -> np.ndarray:
        self.input[...] = spectrum
        return self.run().copy()

    def complement(self, spectrum: np.ndarray) -> np.ndarray:
        """The unmeasured part: x - self(x)."""
        self.input[...] = spectrum
        return self.input - self.run()


def apply_mask(spectrum: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Keep the masked part of a spectrum's VE (float64, exact)."""
    return from_ve(mask * to_ve(spectrum))


def echo(spectrum: np.ndarray) -> np.ndarray:
    """The echo-only spectrum simulated from a full one."""
    return apply_mask(spectrum, echo_mask(spectrum.shape))


def antiecho(spectrum: np.ndarray) -> np.ndarray:
    return apply_mask(spectrum, antiecho_mask(spectrum.shape))


def flip_t1(spectrum: np.ndarray) -> np.ndarray:
    """Conjugation along t1 (t1 -> -t1 in the VE): swaps echo and anti-echo.

    In the spectrum it is F1 -> -F1 about the zero-frequency row, which in
    NMR (fftshifted) order is row j -> (n1 - j) mod n1.
    """
    return np.roll(spectrum[::-1], 1, axis=0)


def known_part(measured: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(measured VE completed where the mask is fractional, 0/1 mask).

    The t = 0 row and column of the VE are shared by echo and anti-echo: an
    echo holds half of them, so doubling gives them in full and they become
    measured points (exactly, since the reference's VE is the sum of both).
    """
    weight = np.divide(1.0, mask, out=np.zeros_like(mask, dtype=float), where=mask > 0)
    return from_ve(weight * to_ve(measured)), (mask > 0).astype(float)


def data_consistency(estimate: np.ndarray, measured: np.ndarray, operator: MaskOperator) -> np.ndarray:
    """Replace the measured part of the estimate's VE by the measurement."""
    return measured.astype(operator.dtype, copy=False) + operator.complement(estimate)


# Which half a spectrum holds. Measured (tests/test_nmr_signal.py): one-half spectra
# simulated from P- or N-type data (noise, 1-10 degree phase spread, with or without
# first-point scaling) give an echo share of 1.0000 or 0.0000; full spectra 0.49-0.51
# simulated and 0.454 on MALT1; a full spectrum whose anti-echo has 0.3/0.7 of the echo's
# amplitude gives 0.84. The thresholds leave a wide margin on both sides.
ONE_HALF_SHARE = 0.9


def echo_share(spectrum: np.ndarray) -> float:
    """Share of the spectrum's VE power in the echo quadrants (sign t1 = sign t2),
    the t = 0 row and column (shared by both halves) left out; NaN for no power."""
    power = np.abs(to_ve(np.asarray(spectrum, dtype=np.float64))) ** 2
    quadrant = time_signs(power.shape[0])[:, None] * time_signs(power.shape[1])[None, :]
    echo_power, anti_power = float(power[quadrant > 0].sum()), float(power[quadrant < 0].sum())
    total = echo_power + anti_power
    return echo_power / total if total > 0 else float("nan")


def half_of(share: float) -> str:
    """'echo', 'antiecho' or 'both' (a full spectrum, or a mixture of the halves)."""
    if share >= ONE_HALF_SHARE:
        return "echo"
    if share <= 1.0 - ONE_HALF_SHARE:
        return "antiecho"
    return "both"
