"""The simulator's realism options (nmr.simulation.amplitude_scale, negative,
overlap, t1_noise, baseline; vary.aspect; network.vary) each do what the
config README says, and leave the authors' recipe unchanged when unset."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from reproflow.nmr import plan, simulate

SMALL = simulate.SimConfig(n1=32, n2=128, peaks=400)


def one_peak(cfg: simulate.SimConfig, amplitude: float = 1.0, f1: float = 0.1, f2: float = -0.2) -> simulate.Peaks:
    decay1, decay2 = np.mean(cfg.decay1) / cfg.n1, np.mean(cfg.decay2) / cfg.n2
    return simulate.Peaks(np.array([amplitude + 0j]), np.array([f1]), np.array([f2]),
                          np.array([decay1]), np.array([decay2]))


def fwhm(line: np.ndarray) -> int:
    return int(np.count_nonzero(line >= line.max() / 2))


def test_log_amplitudes_stay_in_range_and_are_mostly_weak():
    rng = np.random.default_rng(0)
    linear = np.abs(simulate.random_peaks(rng, SMALL).amplitude)
    log = np.abs(simulate.random_peaks(rng, replace(SMALL, amplitude=(0.02, 1.0), amplitude_scale="log")).amplitude)
    assert log.min() >= 0.02 * 0.999 and log.max() <= 1.0
    assert np.median(log) < 0.2 < 0.4 < np.median(linear)  # log-uniform median 0.14, uniform 0.5


def test_log_amplitudes_refuse_a_zero_lower_bound():
    with pytest.raises(ValueError, match="amplitude"):
        simulate.SimConfig.from_config({"n1": 32, "n2": 128, "peaks": 4, "amplitude": [0.0, 1.0],
                                        "amplitude_scale": "log"})


def test_negative_share_of_peaks_gives_negative_peaks_in_the_reference():
    rng = np.random.default_rng(1)
    peaks = simulate.random_peaks(rng, replace(SMALL, negative=0.3))
    share = np.mean(peaks.amplitude.real < 0)
    assert 0.25 < share < 0.35
    reference = simulate.reference_spectrum(peaks, replace(SMALL, negative=0.3), rng)
    assert reference.min() < -0.3 * reference.max()
    plain = simulate.reference_spectrum(simulate.random_peaks(rng, SMALL), SMALL, rng)
    assert plain.min() > -0.1 * plain.max()  # without: only apodisation ripples and noise below zero


def test_overlap_puts_peaks_within_a_line_width_of_another():
    def nearest_points(cfg):
        peaks = simulate.random_peaks(np.random.default_rng(2), cfg)
        d1 = (peaks.f1[:, None] - peaks.f1[None]) * 2 * cfg.n1  # in spectrum points
        d2 = (peaks.f2[:, None] - peaks.f2[None]) * 2 * cfg.n2
        distance = np.hypot(d1 / simulate.OVERLAP_POINTS[0], d2 / simulate.OVERLAP_POINTS[1])
        np.fill_diagonal(distance, np.inf)
        return distance.min(axis=1)

    cfg = replace(SMALL, n1=64, n2=512, peaks=40)  # by chance, 7% of peaks have a partner that close
    assert np.mean(nearest_points(replace(cfg, overlap=0.5)) <= np.sqrt(2)) > 0.45
    assert np.mean(nearest_points(cfg) <= np.sqrt(2)) < 0.2


def test_t1_noise_makes_a_ridge_along_f1_through_a_peak():
    cfg = replace(SMALL, snr=1e4)  # a noise floor to compare with
    peak = one_peak(cfg)

    def column_spread(t1_noise):
        """sd along F1, away from the peak, in the peak's column and in an empty one"""
        spectrum = simulate.reference_spectrum(peak, replace(cfg, t1_noise=t1_noise), np.random.default_rng(3))
        row, col = np.unravel_index(np.argmax(spectrum), spectrum.shape)
        far = np.abs(np.arange(spectrum.shape[0]) - row) > 10
        empty = (col + spectrum.shape[1] // 2) % spectrum.shape[1]
        return np.std(spectrum[far, col]) / spectrum.max(), np.std(spectrum[far, empty]) / spectrum.max()

    (ridge, empty), (ridge0, empty0) = column_spread(0.05), column_spread(0.0)
    assert ridge > 10 * ridge0  # without: only the peak's apodisation tails
    assert ridge > 0.005  # about t1_noise / sqrt(n1) of the peak
    assert empty < 2 * empty0  # no ridge where there is no peak


def test_baseline_offsets_the_empty_spectrum():
    cfg = replace(SMALL, peaks=4, snr=1000.0)
    offsets = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        spectrum = simulate.reference_spectrum(simulate.random_peaks(rng, cfg), replace(cfg, baseline=0.02), rng)
        offsets.append(abs(np.median(spectrum)) / spectrum.max())
        plain = simulate.reference_spectrum(simulate.random_peaks(rng, cfg), cfg, rng)
        assert abs(np.median(plain)) / plain.max() < 1e-3
    assert np.median(offsets) > 5e-3


def test_aspect_makes_methyl_type_lines_narrow_in_f1_and_broad_in_f2():
    cfg = replace(SMALL, n1=64, n2=256, snr=0.0, decay1=(1.0, 1.0), decay2=(8.0, 8.0))
    methyl = simulate.varied(np.random.default_rng(0), cfg, {"aspect": [4.0, 4.0]})
    plain = simulate.process_states(*(simulate.time_domain(one_peak(cfg), cfg, k) for k in ("cos", "sin")),
                                    cfg.apod)
    narrow = simulate.process_states(*(simulate.time_domain(one_peak(methyl), methyl, k) for k in ("cos", "sin")),
                                     methyl.apod)
    row, col = np.unravel_index(np.argmax(plain), plain.shape)
    r2, c2 = np.unravel_index(np.argmax(narrow), narrow.shape)
    assert methyl.decay1 == (0.25, 0.25) and methyl.decay2 == (32.0, 32.0)
    assert fwhm(narrow[:, c2]) <= fwhm(plain[:, col])  # F1 already near the apodisation's limit
    assert fwhm(narrow[r2]) >= 2 * fwhm(plain[row])


def test_vary_overlap_draws_the_share_per_spectrum():
    draws = [simulate.varied(np.random.default_rng(seed), SMALL, {"overlap": [0.2, 0.6]}).overlap for seed in range(20)]
    assert 0.2 <= min(draws) < 0.3 and 0.5 < max(draws) <= 0.6
    assert simulate.varied(np.random.default_rng(0), SMALL, {}).overlap == 0.0


def test_network_vary_spreads_the_cascades_sets_only_when_set():
    options = {"vary": {"snr": [30.0, 3000.0]}, "uncertainty": {},
               "network": {"vary": {"snr": [100.0, 300.0], "aspect": [0.5, 2.0]}}}
    assert plan.quality_ranges("train", options) == {"snr": [100.0, 300.0], "aspect": [0.5, 2.0]}
    assert plan.quality_ranges("val", options) == plan.quality_ranges("train", options)
    assert plan.quality_ranges("test", options) == {"snr": [30.0, 3000.0]}
    assert plan.quality_ranges("train", {"uncertainty": {}, "network": {}}) == {}


def test_the_defaults_draw_the_authors_recipe():
    """Unset options consume no random numbers: a default config's peaks are
    those drawn by the recipe's five uniform draws."""
    rng = np.random.default_rng(5)
    peaks = simulate.random_peaks(rng, SMALL)
    again = np.random.default_rng(5)
    phase = np.deg2rad(again.normal(0.0, SMALL.phase_deg, SMALL.peaks))
    amplitude = again.uniform(*SMALL.amplitude, SMALL.peaks) * np.exp(1j * phase)
    np.testing.assert_array_equal(peaks.amplitude, amplitude)
    np.testing.assert_array_equal(peaks.f1, again.uniform(-SMALL.frequency, SMALL.frequency, SMALL.peaks))
