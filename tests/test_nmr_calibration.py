"""The post-hoc calibration of the uncertainty networks' sigma (`score.Calibration`)."""

import json
import re

import numpy as np
import pytest

from reproflow.errors import ReproflowError
from reproflow.nmr import score, shipped


def synthetic(truth: score.Calibration, seed: int = 0, spectra: int = 3):
    """References whose error from mu is Gaussian with the calibrated sigma of `truth`."""
    rng = np.random.default_rng(seed)
    references, mus, sigmas = [], [], []
    for _ in range(spectra):
        mu = np.zeros((128, 256))
        rows, cols = rng.integers(0, 128, 60), rng.integers(0, 256, 60)
        mu[rows, cols] = rng.uniform(0.05, 1.0, 60)
        mu = np.real(np.fft.ifft2(np.fft.fft2(mu) * np.exp(-np.add.outer(np.arange(128) % 64, np.arange(256) % 128)
                                                               / 40.0)))
        mu /= np.abs(mu).max()
        sigma = rng.uniform(1e-4, 1e-3, mu.shape)  # errors well under the signal level (1%)
        references.append(mu + rng.normal(size=mu.shape) * truth.apply(sigma, mu))
        mus.append(mu)
        sigmas.append(sigma)
    return references, mus, sigmas


def test_fit_recovers_known_parameters():
    truth = score.Calibration(1.4, 0.08, 5e-4)
    fitted = score.fit_calibration(*synthetic(truth), min_a=0.0, coverage=None)
    assert fitted.a == pytest.approx(truth.a, rel=0.03)
    assert fitted.b == pytest.approx(truth.b, rel=0.05)
    assert fitted.c == pytest.approx(truth.c, rel=0.1)
    # Gaussian errors: the coverage step keeps the NLL's parameters (+-1.96 sigma covers 95%)
    matched = score.fit_calibration(*synthetic(truth), min_a=0.0)
    assert matched.b == pytest.approx(truth.b, rel=0.1)


def test_calibration_widens_what_the_network_missed():
    truth = score.Calibration(1.0, 0.1, 0.0)
    references, mus, sigmas = synthetic(truth, seed=1)
    fitted = score.fit_calibration(references, mus, sigmas)
    inside = [np.abs(r - m) <= 1.96 * fitted.apply(s, m) for r, m, s in zip(references, mus, sigmas)]
    raw = [np.abs(r - m) <= 1.96 * s for r, m, s in zip(references, mus, sigmas)]
    peaks = [np.abs(m) > 0.01 for m in mus]
    covered = np.mean([i[p].mean() for i, p in zip(inside, peaks)])
    assert np.mean([i[p].mean() for i, p in zip(raw, peaks)]) < 0.8 < 0.93 < covered < 0.97
    assert fitted.a >= score.MIN_A


@pytest.mark.parametrize(("text", "match"), [
    ("{not json", "cannot read a calibration"),
    ("[1, 2, 3]", "not a calibration of reproflow's (numbers a, b, c) (a JSON list)"),
    ('{"a": 1.0, "b": 0.1}', "not a calibration of reproflow's (numbers a, b, c) (lacks c)"),
    ('{"a": "1", "b": 0.1, "c": 0.0}', "key 'a' = '1'; expected a finite number"),
    ('{"a": NaN, "b": 0.1, "c": 0.0}', "key 'a' = nan; expected a finite number"),
    ('{"a": 1.0, "b": -0.1, "c": 0.0}', "key 'b' = -0.1; expected a positive number"),
    ('{"a": 0, "b": 0.1, "c": 0.0}', "key 'a' = 0; expected a positive number"),
])
def test_a_malformed_calibration_is_refused(tmp_path, text, match):
    model = tmp_path / "sigma_ist_echo.keras"
    score.calibration_path(model).write_text(text)
    with pytest.raises(ReproflowError, match=re.escape("sigma_ist_echo.calibration.json: " + match)):
        score.load_calibration(model)


def test_without_a_calibration_sigma_is_the_networks(tmp_path, caplog):
    assert score.load_calibration(tmp_path / "sigma_x.keras") == score.Calibration()
    assert "no calibration" in caplog.text


@pytest.mark.parametrize("key", ["network_echo", "ist_echo", "ist_nus"])
def test_the_shipped_calibrations_load(key):
    model = shipped.WEIGHTS / f"sigma_{key}.keras"
    calibration = score.load_calibration(model)
    assert json.loads(score.calibration_path(model).read_text())["key"] == key
    assert calibration.a >= score.MIN_A
