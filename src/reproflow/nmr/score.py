"""pSQ, the reference-free quality score of a reconstruction, as `reproflow nmr
quality` computes it: the uncertainty network of the method (network echo,
IST echo, IST NUS) predicts sigma per point from the method's input spectrum;
pSQ is the median of sigma / max(reconstruction) over the points between 1%
and 100% of that maximum (`evaluate.psq`, as the pipeline scores it). Lower
is better; what values mean: README, "pSQ scale".

sigma is calibrated after the network (`Calibration`): a network trained
mostly on noise misses the error that grows with the signal (amplitude,
phase and line-shape errors of the reconstruction scale with |mu|), so
sigma_cal = sqrt((a sigma)^2 + (b |mu|)^2 + (c max|mu|)^2), mu the method's
reconstruction, a, b, c fitted on simulated validation spectra
(`fit_calibration`) and kept beside the network as
sigma_<key>.calibration.json (`calibration_path`). pSQ stays on the
network's own sigma: the b |mu| term follows the peaks, not the quality, and
would make pSQ measure how the signal is spread (with it, a noisier input no
longer scored worse: tests/test_nmr_quality.py)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.data import read_json_object
from reproflow.errors import ReproflowError
from reproflow.nmr import metrics, numpy_net, ve

METHODS = ("network", "ist")
CALIBRATION_SUFFIX = ".calibration.json"
Z95 = 1.96
COVERAGE = 0.95   # what +-1.96 sigma_cal is fitted to cover on the signal points
# sigma_cal is never narrower than the network's sigma: on simulated spectra the
# networks over-cover the noise points (an NLL fit shrinks a to 0.4-0.6), on the
# real MALT1 spectrum they under-cover them, and a fit on simulated data alone
# cannot tell those apart
MIN_A = 1.0
log = logging.getLogger(__name__)


def sigma_key(method: str, mode: str) -> str:
    """The shipped uncertainty network for a method and input mode."""
    if method == "network":
        if mode == "nus":
            raise ValueError("the network reconstructs echo or anti-echo data, not NUS")
        return "network_echo"
    return "ist_nus" if mode == "nus" else "ist_echo"


@dataclass(frozen=True)
class Calibration:
    """sigma_cal = sqrt((a sigma)^2 + (b |mu|)^2 + (c max|mu|)^2); the identity is (1, 0, 0)."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0

    def apply(self, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
        scale = float(np.max(np.abs(mu)))
        return np.sqrt((self.a * sigma) ** 2 + (self.b * mu) ** 2 + (self.c * scale) ** 2)


def calibration_path(model: str | Path) -> Path:
    """Where a network's calibration lives: sigma_x.keras -> sigma_x.calibration.json."""
    model = Path(model)
    return model.with_name(model.stem + CALIBRATION_SUFFIX)


def load_calibration(model: str | Path) -> Calibration:
    """The calibration beside an uncertainty network, checked; none there (a
    network from before calibration existed): the identity, with a warning."""
    path = calibration_path(model)
    if not path.exists():
        log.warning("%s: no calibration beside the uncertainty network; sigma is used as the network predicts it "
                    "(overconfident on signal points)", path)
        return Calibration()
    value = read_json_object(path, "a calibration of reproflow's (numbers a, b, c)", ("a", "b", "c"))
    numbers = {}
    for key in ("a", "b", "c"):
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise ReproflowError(f"{path}: key {key!r} = {number!r}; expected a finite number")
        if number < 0 or (key == "a" and number == 0):
            raise ReproflowError(f"{path}: key {key!r} = {number!r}; expected a positive number"
                                 + (" (a > 0)" if key == "a" else " (or 0)"))
        numbers[key] = float(number)
    return Calibration(**numbers)


def calibration_record(calibration: Calibration, **facts: Any) -> dict[str, Any]:
    """The JSON written beside a network: a, b, c and what they were fitted on."""
    record = {**asdict(calibration), **facts}
    for key in ("a", "b", "c"):
        if not math.isfinite(record[key]):
            raise ReproflowError(f"calibration {key} = {record[key]}: not finite; the fit failed")
    return record


def fit_calibration(references: Sequence[np.ndarray], mus: Sequence[np.ndarray], sigmas: Sequence[np.ndarray],
                    level: float = metrics.LEVEL, min_a: float = MIN_A, coverage: float | None = COVERAGE
                    ) -> Calibration:
    """a, b, c fitted to the errors reference - mu of simulated validation spectra.

    First by the Gaussian negative log-likelihood, the signal points (|ref| or
    |mu| > level of max(ref), as `evaluate.calibration` counts them) and the
    other points weighted equally (there are far fewer signal points; a plain
    NLL calibrates the noise), with a >= min_a. Then, as the errors on peaks
    have heavier tails than a Gaussian, b and c scaled by one factor so that
    +-1.96 sigma_cal covers `coverage` of the signal points (None: not)."""
    from scipy import optimize

    # per group (the signal points, the others): sigma^2, mu^2, max|mu|^2, error^2
    parts: list[list[list[np.ndarray]]] = [[[], [], [], []], [[], [], [], []]]
    for reference, mu, sigma in zip(references, mus, sigmas, strict=True):
        reference, mu, sigma = (np.asarray(x, np.float64) for x in (reference, mu, sigma))
        signal = metrics.selected(*metrics.normalise_pair(reference, mu), level)
        columns = (sigma ** 2, mu ** 2, np.full(mu.shape, float(np.max(np.abs(mu))) ** 2), (reference - mu) ** 2)
        for part, keep in zip(parts, (signal, ~signal)):
            for column, values in zip(part, columns):
                column.append(values[keep])
    groups = [[np.concatenate(column) for column in part] for part in parts if part[0]]
    has_signal = bool(groups) and groups[0][0].size > 0   # the signal group comes first
    groups = [group for group in groups if group[0].size]
    if not groups:
        raise ValueError("no points to fit a calibration on")
    # in units of the typical error, so that the parameters are of order 1 for the optimiser
    unit = float(np.sqrt(np.mean(np.concatenate([group[3] for group in groups]))))
    if not (math.isfinite(unit) and unit > 0):
        raise ValueError("the reconstructions have no error to calibrate against")
    groups = [[column / unit ** 2 for column in group] for group in groups]

    def variance(group: list[np.ndarray], a: float, b: float, c: float) -> np.ndarray:
        return a * a * group[0] + b * b * group[1] + c * c * group[2] + 1e-300

    def loss(log_params: np.ndarray) -> float:
        a, b, c = np.exp(log_params)
        return float(np.mean([np.mean(0.5 * np.log(v) + 0.5 * g[3] / v)
                              for g in groups for v in [variance(g, a, b, c)]]))

    bounds = [(math.log(min_a) if min_a > 0 else -30.0, 30.0), (-30.0, 30.0), (-30.0, 30.0)]
    result = optimize.minimize(loss, np.log([max(1.0, min_a), 1e-2, 1e-3]), method="L-BFGS-B", bounds=bounds,
                               options={"ftol": 1e-12, "gtol": 1e-9, "maxiter": 4000})
    a, b, c = (float(v) for v in np.exp(result.x))
    if coverage is not None and has_signal and (b > 0 or c > 0):
        signal = groups[0]

        def short_of(factor: float) -> float:
            inside = signal[3] <= Z95 ** 2 * variance(signal, a, factor * b, factor * c)
            return float(np.mean(inside)) - coverage

        if short_of(0.0) < 0 < short_of(1e3):
            factor = optimize.brentq(short_of, 0.0, 1e3, xtol=1e-6)
        else:   # covered without the terms, or never: keep the NLL's
            factor = 0.0 if short_of(0.0) >= 0 else 1.0
        b, c = b * factor, c * factor
    if not all(math.isfinite(v) for v in (a, b, c)):
        raise ValueError(f"the calibration fit did not converge ({result.message})")
    return Calibration(a, b, c)


def sigma_spectrum(network: numpy_net.Network, method_input: np.ndarray, mode: str) -> np.ndarray:
    """The network's sigma per point, before calibration (what pSQ is computed
    from); an anti-echo goes through the echo network conjugated along t1."""
    if mode == "antiecho":
        return ve.flip_t1(numpy_net.uncertainty(network, ve.flip_t1(method_input)))
    return numpy_net.uncertainty(network, method_input)


def psq(sigma: np.ndarray, reconstruction: np.ndarray) -> tuple[float, int]:
    """(pSQ, the number of points it is the median over)."""
    from reproflow.nmr import evaluate  # matplotlib: only here

    return evaluate.psq(sigma, reconstruction), evaluate.normalised_sigma(sigma, reconstruction).size
