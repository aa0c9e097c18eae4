"""Synthetic 2D spectra: peak lists, P/N-type and States time-domain signals,
nmrglue processing into pure-absorption references, and the derived echo,
anti-echo and NUS inputs (the authors' recipe, sizes from config)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reproflow.nmr import ve


@dataclass(frozen=True)
class Apodisation:
    """Shifted sine bell (nmrglue.proc_base.sp) and first-point scaling."""

    offset: float = 0.48
    end: float = 0.95
    power: float = 2.0
    first_point: float = 0.5


@dataclass(frozen=True)
class SimConfig:
    """Acquired complex points per dimension (the spectrum is 2x zero-filled)."""

    n1: int = 128
    n2: int = 2048
    peaks: int = 2048
    amplitude: tuple[float, float] = (0.05, 1.0)
    frequency: float = 0.49  # |normalised frequency| bound, cycles per point
    decay1: tuple[float, float] = (0.1, 0.5)  # total decay over n1 points
    decay2: tuple[float, float] = (2.0, 10.0)  # total decay over n2 points
    phase_deg: float = 1.0
    snr: float = 1000.0
    apod: Apodisation = field(default_factory=Apodisation)
    # realism options (docs/notes/nmr-simulator-realism.md); the defaults are the authors' recipe
    amplitude_scale: str = "linear"  # "log": log-uniform amplitudes (many weak peaks, as measured spectra)
    negative: float = 0.0  # share of peaks with negative amplitude (edited HSQC)
    overlap: float = 0.0  # share of peaks placed within about a line width of another peak
    t1_noise: float = 0.0  # relative sd of each t1 increment's signal amplitude (t1-noise ridges)
    baseline: float = 0.0  # sd, of the reference's max, of a constant offset and of an F2 tilt
    @classmethod
    def from_config(cls, options: Mapping[str, Any]) -> SimConfig:
        values = dict(options)
        values["apod"] = Apodisation(**values.get("apod", {}))
        for key in ("amplitude", "decay1", "decay2"):
            if key in values:
                values[key] = tuple(values[key])
        cfg = cls(**values)
        if cfg.amplitude_scale not in AMPLITUDE_SCALES:
            raise ValueError(f"amplitude_scale must be one of {AMPLITUDE_SCALES}, not {cfg.amplitude_scale!r}")
        if cfg.amplitude_scale == "log" and cfg.amplitude[0] <= 0:
            raise ValueError(f"amplitude_scale 'log' needs amplitude[0] > 0, not {cfg.amplitude[0]}")
        return cfg

    @property
    def shape(self) -> tuple[int, int]:
        return (2 * self.n1, 2 * self.n2)


@dataclass(frozen=True)
class Peaks:
    """One spectrum's peak list: complex amplitudes, frequencies (cycles per
    point) and decay rates (per point), one entry per peak."""

    amplitude: np.ndarray
    f1: np.ndarray
    f2: np.ndarray
    r1: np.ndarray
    r2: np.ndarray


AMPLITUDE_SCALES = ("linear", "log")
# an overlapping peak lies within this many spectrum points of its partner (F1, F2): about a line width
OVERLAP_POINTS = (3.0, 6.0)


def random_peaks(rng: np.random.Generator, cfg: SimConfig, count: int | None = None) -> Peaks:
    """Random peaks by the config. The realism options draw only when set,
    so that with their defaults the same seed gives the same peaks as before."""
    count = cfg.peaks if count is None else count
    phase = np.deg2rad(rng.normal(0.0, cfg.phase_deg, count)) if cfg.phase_deg else np.zeros(count)
    if cfg.amplitude_scale == "log":
        magnitude = np.exp(rng.uniform(*np.log(cfg.amplitude), count))
    else:
        magnitude = rng.uniform(*cfg.amplitude, count)
    f1 = rng.uniform(-cfg.frequency, cfg.frequency, count)
    f2 = rng.uniform(-cfg.frequency, cfg.frequency, count)
    r1 = rng.uniform(*cfg.decay1, count) / cfg.n1
    r2 = rng.uniform(*cfg.decay2, count) / cfg.n2
    if cfg.negative:
        magnitude = np.where(rng.random(count) < cfg.negative, -magnitude, magnitude)
    if cfg.overlap and count > 1:
        # each chosen peak moves next to another (earlier-drawn, so partners are independent peaks)
        moved = np.flatnonzero(rng.random(count) < cfg.overlap)
        moved = moved[moved > 0]
        partner = rng.integers(0, moved, len(moved)) if len(moved) else moved
        spacing = 1.0 / (2 * cfg.n1), 1.0 / (2 * cfg.n2)  # spectrum points, in cycles per acquired point
        f1[moved] = f1[partner] + rng.uniform(-1, 1, len(moved)) * OVERLAP_POINTS[0] * spacing[0]
        f2[moved] = f2[partner] + rng.uniform(-1, 1, len(moved)) * OVERLAP_POINTS[1] * spacing[1]
        f1, f2 = (np.clip(f, -cfg.frequency, cfg.frequency) for f in (f1, f2))
    return Peaks(amplitude=magnitude * np.exp(1j * phase), f1=f1, f2=f2, r1=r1, r2=r2)


def _modulation(freq: np.ndarray, rate: np.ndarray, n: int, kind: str) -> np.ndarray:
    """(peaks, n) t1 or t2 factors: exp(+-i 2 pi f t), cos or sin, times exp(-r t)."""
    t = np.arange(n)
    phase = 2j * np.pi * freq[:, None] * t
    decay = np.exp(-rate[:, None] * t)
    waves = {"P": np.exp(phase), "N": np.exp(-phase), "cos": np.cos(phase.imag), "sin": np.sin(phase.imag)}
    return waves[kind] * decay


def time_domain(peaks: Peaks, cfg: SimConfig, t1: str = "P") -> np.ndarray:
    """(n1, n2) complex signal; t1 modulation 'P', 'N', 'cos' or 'sin'."""
    u1 = _modulation(peaks.f1, peaks.r1, cfg.n1, t1) * peaks.amplitude[:, None]
    u2 = _modulation(peaks.f2, peaks.r2, cfg.n2, "P")
    return u1.T @ u2


def add_noise(rng: np.random.Generator, signal: np.ndarray, snr: float) -> np.ndarray:
    """Complex Gaussian noise of standard deviation 1/snr per component."""
    if not snr:
        return signal
    noise = rng.normal(0.0, 1.0 / snr, signal.shape) + 1j * rng.normal(0.0, 1.0 / snr, signal.shape)
    return signal + noise


def process_last_axis(data: np.ndarray, apod: Apodisation, transform: str = "fft") -> np.ndarray:
    """Sine bell, first point, 2x zero fill and FT (NMR order) along the last axis; `transform`:
    nmrglue's "fft" (the authors' sign) or "fft_positive" (NMRPipe's, `process.direct`)."""
    import nmrglue as ng  # here: IST, training and evaluation jobs import this module without processing

    data = ng.proc_base.sp(data, off=apod.offset, end=apod.end, pow=apod.power)  # a new array
    data[..., 0] *= apod.first_point
    data = ng.proc_base.zf_double(data, 1)
    return getattr(ng.proc_base, transform)(data)


def process_complex(signal: np.ndarray, apod: Apodisation) -> np.ndarray:
    """Phase-modulated (P- or N-type) data: complex FT in both dimensions, real part."""
    direct = process_last_axis(signal, apod)
    return process_last_axis(direct.T, apod).T.real


def process_states(cos_data: np.ndarray, sin_data: np.ndarray, apod: Apodisation) -> np.ndarray:
    """Amplitude-modulated (States) data -> pure-absorption real spectrum."""
    cos_f2 = process_last_axis(cos_data, apod).real
    sin_f2 = process_last_axis(sin_data, apod).real
    return process_last_axis((cos_f2 + 1j * sin_f2).T, apod).T.real


def t1_fluctuation(rng: np.random.Generator, cfg: SimConfig) -> np.ndarray:
    """(n1, 1) factors 1 + t1_noise x N(0, 1): each t1 increment's signal
    scaled by its own error (spectrometer instability), which puts a ridge of
    noise along F1 through every peak, proportional to the peak."""
    return 1.0 + cfg.t1_noise * rng.normal(0.0, 1.0, (cfg.n1, 1))


def add_baseline(rng: np.random.Generator, spectrum: np.ndarray, level: float) -> np.ndarray:
    """A constant offset and a linear F2 tilt, each of standard deviation
    `level` x max(spectrum) (an imperfect baseline correction)."""
    offset, tilt = rng.normal(0.0, level, 2) * float(np.max(spectrum))
    return spectrum + offset + tilt * np.linspace(-1.0, 1.0, spectrum.shape[1])[None, :]


def reference_spectrum(peaks: Peaks, cfg: SimConfig, rng: np.random.Generator | None = None) -> np.ndarray:
    """Pure-absorption reference: States data processed; with rng: noise, and
    t1 noise and a baseline where the config sets them."""
    cos_data, sin_data = time_domain(peaks, cfg, "cos"), time_domain(peaks, cfg, "sin")
    if rng is not None and cfg.t1_noise:
        scale = t1_fluctuation(rng, cfg)  # the same scans make the cos and the sin data
        cos_data, sin_data = cos_data * scale, sin_data * scale
    if rng is not None:
        cos_data, sin_data = add_noise(rng, cos_data, cfg.snr), add_noise(rng, sin_data, cfg.snr)
    spectrum = process_states(cos_data, sin_data, cfg.apod)
    if rng is not None and cfg.baseline:
        spectrum = add_baseline(rng, spectrum, cfg.baseline)
    return spectrum


def echo_spectrum(peaks: Peaks, cfg: SimConfig) -> np.ndarray:
    """Echo spectrum made from P-type data directly. The factor 1/2: echo and
    anti-echo each carry half of the States reference's signal."""
    return 0.5 * process_complex(time_domain(peaks, cfg, "P"), cfg.apod)


def antiecho_spectrum(peaks: Peaks, cfg: SimConfig) -> np.ndarray:
    """Anti-echo from N-type data: its F1 axis is mirrored (t1 conjugation)."""
    return ve.flip_t1(0.5 * process_complex(time_domain(peaks, cfg, "N"), cfg.apod))


def poisson_gap(rng: np.random.Generator, total: int, fraction: float) -> np.ndarray:
    """Poisson-gap schedule (Hyberts, Takeuchi & Wagner 2010): sorted t1 indices,
    always with 0, gaps drawn from a sine-weighted Poisson distribution."""
    wanted = max(1, min(total, int(round(total * fraction))))
    if wanted == total:
        return np.arange(total)
    weight = 2.0 * (total / wanted - 1.0)
    for _ in range(10_000):
        points, i = [], 0
        while i < total:
            points.append(i)
            i += 1 + rng.poisson(weight * np.sin((i + 0.5) / (total + 1) * np.pi / 2))
        if len(points) == wanted:
            return np.asarray(points)
        weight *= 1.02 if len(points) > wanted else 1 / 1.02
    raise RuntimeError(f"no Poisson-gap schedule of {wanted} of {total} points found")


VARIED = ("snr", "peaks", "phase_deg", "linewidth", "aspect", "overlap")


def varied(rng: np.random.Generator, cfg: SimConfig, vary: Mapping[str, Sequence[float]]) -> SimConfig:
    """One spectrum's config, drawn from the [lo, hi] ranges in `vary`: snr
    (log-uniform), peaks (a uniform factor on cfg.peaks), phase_deg (the
    phase errors' standard deviation, uniform), linewidth (a log-uniform
    factor on both decay ranges) and aspect (methyl-type spectra: a
    log-uniform factor a, F1 decays divided by a and F2 decays multiplied
    by a, so lines narrow in F1 and broad in F2 for a > 1, the other way
    for a < 1) and overlap (the share of overlapping peaks, uniform: dense
    clusters in otherwise sparse spectra)."""
    unknown = set(vary) - set(VARIED)
    if unknown:
        raise ValueError(f"vary keys must be among {VARIED}, not {sorted(unknown)}")
    one = cfg
    if "snr" in vary:
        one = replace(one, snr=float(np.exp(rng.uniform(*np.log(vary["snr"])))))
    if "peaks" in vary:
        one = replace(one, peaks=max(1, int(round(cfg.peaks * rng.uniform(*vary["peaks"])))))
    if "phase_deg" in vary:
        one = replace(one, phase_deg=float(rng.uniform(*vary["phase_deg"])))
    if "linewidth" in vary:
        factor = float(np.exp(rng.uniform(*np.log(vary["linewidth"]))))
        one = replace(one, decay1=tuple(factor * d for d in cfg.decay1), decay2=tuple(factor * d for d in cfg.decay2))
    if "overlap" in vary:
        one = replace(one, overlap=float(rng.uniform(*vary["overlap"])))
    if "aspect" in vary:
        aspect = float(np.exp(rng.uniform(*np.log(vary["aspect"]))))
        one = replace(one, decay1=tuple(d / aspect for d in one.decay1), decay2=tuple(d * aspect for d in one.decay2))
    return one


def simulate_set(seed: int, count: int, cfg: SimConfig, nus_fraction: float,
                 vary: Mapping[str, Sequence[float]] | None = None) -> dict[str, np.ndarray]:
    """`count` references (max 1), their echo, anti-echo and NUS inputs and schedules.

    `vary` draws each spectrum's quality and line shapes (see `varied`), for
    held-out sets that test a quality score and for the uncertainty networks'
    own training sets.
    """
    rng = np.random.default_rng(seed)
    shape = cfg.shape
    arrays = {name: np.empty((count, *shape), np.float32) for name in ("reference", "echo", "antiecho", "nus")}
    schedules = np.zeros((count, cfg.n1), bool)
    for index in range(count):
        one = varied(rng, cfg, vary or {})
        reference = reference_spectrum(random_peaks(rng, one), one, rng)
        reference /= reference.max()
        schedule = poisson_gap(rng, cfg.n1, nus_fraction)
        schedules[index, schedule] = True
        arrays["reference"][index] = reference
        arrays["echo"][index] = ve.echo(reference)
        arrays["antiecho"][index] = ve.antiecho(reference)
        arrays["nus"][index] = ve.apply_mask(reference, ve.nus_mask(shape, schedule, cfg.n1))
    arrays["schedules"] = schedules
    return arrays


def schedule_indices(row: np.ndarray) -> np.ndarray:
    """Sampled t1 indices from a boolean schedule row."""
    return np.flatnonzero(row)


def quality(references: np.ndarray, tile: tuple[int, int] = (32, 64),
            threshold: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Per spectrum of (count, n1, n2): its noise level, 1.4826 x the median
    |point| (an upper bound where peaks are dense), and the share of its
    `tile` blocks within `threshold` noise levels everywhere (noise only)."""
    count, n1, n2 = references.shape
    noise = 1.4826 * np.median(np.abs(references.reshape(count, -1)), axis=1)
    blocks = np.abs(references[:, : n1 // tile[0] * tile[0], : n2 // tile[1] * tile[1]])
    peak = blocks.reshape(count, n1 // tile[0], tile[0], n2 // tile[1], tile[1]).max(axis=(2, 4))
    empty = (peak < threshold * noise[:, None, None]).reshape(count, -1).mean(axis=1)
    return noise, empty
