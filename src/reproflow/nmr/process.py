"""Raw echo/anti-echo 2D data -> the spectra `reproflow nmr reconstruct` reads
(`reproflow nmr process`), with nmrglue for all I/O and processing.

Phase-modulated (echo/anti-echo, Bruker FnMODE 6) data hold two FIDs per t1
increment, interleaved along t1 as the spectrometer stores them: A (the
first of each pair) and B (the second). With the F1 sign s (+1 when A is
P-type, exp(+i W1 t1), -1 when it is N-type) the States pair is

    cos = (A + B) / 2,    sin = -i s (A - B) / 2,

processed in both dimensions with a sine bell, first point x0.5, 2x zero fill,
FT and a zero-order phase (P1 = 0: the virtual echo needs it), real part.
Every step is linear, so the spectrum of A alone (B = 0) plus that of B alone
(A = 0) is the reference exactly; each alone is a phase-modulated half. Which
half is the "echo" of `reconstruct` (ve.py: VE quadrants (+t1, +t2) and (-t1,
-t2)) is measured on the output, not assumed: A's half with s = +1, B's with
s = -1.

Both dimensions are transformed as NMRPipe's FT does (positive exponent,
`ng.proc_base.fft_positive`): a signal above the carrier lands at higher ppm,
so the ppm axes made from the acquisition parameters hold. (The simulator,
like the authors' code, uses the negative exponent; the spectra differ by
F1 -> -F1 and F2 -> -F2 together, which keeps echo and anti-echo apart.)
"""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np
from scipy import optimize

from reproflow.errors import ReproflowError
from reproflow.nmr import io, ve
from reproflow.nmr.simulate import Apodisation, process_last_axis
from reproflow.outputs import atomic_output, check_finite

ECHO_ANTIECHO = 6  # Bruker FnMODE
FNMODES = {0: "undefined", 1: "QF", 2: "QSEQ", 3: "TPPI", 4: "States", 5: "States-TPPI", 6: "Echo-Antiecho"}
MIN_PAIR_CORRELATION = 0.5
TIE_BREAK = 0.01
HALF_PURITY = 0.999  # share of a half's VE power that must lie in its quadrant pair


@dataclass
class RawPairs:
    """Echo/anti-echo FIDs: `first` and `second` (increments, complex points)
    are the first and second FID of each stored pair; `udic` the axes (0: F1, 1: F2)."""

    first: np.ndarray
    second: np.ndarray
    udic: dict[Any, Any]
    source: str
    kind: str  # "bruker" | "nmrpipe"


@dataclass(frozen=True)
class Phases:
    """Zero-order phases in degrees (P1 is always 0)."""

    f2: float
    f1: float


@dataclass
class Processed:
    reference: np.ndarray
    halves: dict[str, np.ndarray]  # "echo", "antiecho": in reconstruct's convention
    first_is: str  # which of them the first FIDs of the pairs became
    phases: Phases
    echo_purity: float  # share of the echo half's VE power in the echo quadrants


# ---- reading ----------------------------------------------------------------

def read_raw(path: str | Path) -> RawPairs:
    """A Bruker experiment folder (ser, acqus, acqu2s) or an NMRPipe 2D FID
    with the pairs as recorded, checked and split into first/second FIDs."""
    path = Path(path)
    if not path.exists():
        raise ReproflowError(f"{path}: no such file or folder (expected a Bruker experiment folder with ser, "
                             "acqus and acqu2s, or an NMRPipe 2D time-domain file)")
    raw = _read_bruker(path) if path.is_dir() else _read_pipe(path)
    check_pairs(raw)
    return raw


def _jcamp(folder: Path, name: str) -> dict[str, Any]:
    file = folder / name
    if not file.is_file():
        raise ReproflowError(f"{folder}: no {name} parameter file (expected a Bruker 2D experiment folder: "
                             "ser, acqus, acqu2s)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ng.bruker.read_jcamp(str(file))
    except Exception as error:  # nmrglue raises many types for foreign files
        raise ReproflowError(f"{file}: not a readable Bruker JCAMP-DX parameter file ({error})") from error


def _integer(params: dict[str, Any], key: str, file: Path) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) or value != int(value):
        raise ReproflowError(f"{file}: parameter {key} = {value!r}, expected an integer")
    return int(value)


def _read_bruker(folder: Path) -> RawPairs:
    acqus, acqu2s = _jcamp(folder, "acqus"), _jcamp(folder, "acqu2s")
    fnmode = _integer(acqu2s, "FnMODE", folder / "acqu2s")
    if fnmode != ECHO_ANTIECHO:
        raise ReproflowError(f"{folder / 'acqu2s'}: FnMODE = {fnmode} ({FNMODES.get(fnmode, 'unknown')}); expected "
                             f"{ECHO_ANTIECHO} (Echo-Antiecho): `nmr process` splits echo/anti-echo pairs only")
    aq_mod = _integer(acqus, "AQ_mod", folder / "acqus")
    if aq_mod not in (1, 3):
        raise ReproflowError(f"{folder / 'acqus'}: AQ_mod = {aq_mod}; expected complex direct-dimension data "
                             "(1 qsim or 3 DQD)")
    td2 = _integer(acqus, "TD", folder / "acqus")
    td1 = _integer(acqu2s, "TD", folder / "acqu2s")
    if td1 < 8 or td1 % 2:
        raise ReproflowError(f"{folder / 'acqu2s'}: TD = {td1} FIDs in t1; expected an even number, at least 8 "
                             "(echo and anti-echo interleaved: two FIDs per increment)")
    if td2 < 16 or td2 % 2:
        raise ReproflowError(f"{folder / 'acqus'}: TD = {td2}; expected an even number of points, at least 16 "
                             "(real and imaginary interleaved)")
    dtypa = _integer(acqus, "DTYPA", folder / "acqus") if "DTYPA" in acqus else 0
    if dtypa not in (0, 2):
        raise ReproflowError(f"{folder / 'acqus'}: DTYPA = {dtypa}; expected 0 (int32) or 2 (float64)")
    ser = folder / "ser"
    if not ser.is_file():
        raise ReproflowError(f"{folder}: no ser file (expected the raw 2D data of a Bruker experiment)")
    itemsize = 4 if dtypa == 0 else 8
    block = 1024 // itemsize  # each FID starts on a 1024-byte boundary
    stored = -(-td2 // block) * block
    expected = td1 * stored * itemsize
    size = os.path.getsize(ser)
    if size != expected:  # checked before nmrglue allocates anything
        raise ReproflowError(f"{ser}: {size} bytes; acqus TD = {td2} and acqu2s TD = {td1} (DTYPA {dtypa}) make "
                             f"{expected}: the file is truncated or does not belong to these parameters")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dic, data = ng.bruker.read(str(folder), read_pulseprogram=False, read_procs=False)
    except Exception as error:
        raise ReproflowError(f"{ser}: unreadable Bruker raw data ({error})") from error
    data = np.asarray(data)
    if data.shape != (td1, td2 // 2):
        raise ReproflowError(f"{ser}: read as shape {data.shape}; expected {td1} FIDs of {td2 // 2} complex points")
    check_finite(data, str(ser))
    if _has_digital_filter(acqus):
        data = ng.bruker.remove_digital_filter(dic, data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not corrected for sr": no procs beside a raw experiment
            udic = ng.bruker.guess_udic(dic, data)
    except KeyError as error:
        raise ReproflowError(f"{folder}: acquisition parameter {error} missing (acqus needs SW_h, SFO1, O1, NUC1; "
                             "acqu2s SW, SFO1, O1, NUC1)") from error
    return RawPairs(data[0::2], data[1::2], udic, str(folder), "bruker")


def _has_digital_filter(acqus: dict[str, Any]) -> bool:
    """Avance data carry a digital-filter delay at the FID start (GRPDLY, or DECIM/DSPFVS)."""
    if float(acqus.get("GRPDLY", 0) or 0) > 0:
        return True
    return float(acqus.get("DECIM", 1) or 1) > 1 and "DSPFVS" in acqus


def _read_pipe(path: Path) -> RawPairs:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dic, data = ng.pipe.read(str(path))
    except Exception as error:
        raise ReproflowError(f"{path}: not a readable NMRPipe file ({error}); expected a 2D NMRPipe time-domain "
                             "file or a Bruker experiment folder") from error
    if any("cannot be shaped" in str(w.message) for w in caught) or int(dic.get("FDDIMCOUNT", 0)) != 2 \
            or np.ndim(data) != 2:
        raise ReproflowError(f"{path}: not a complete 2D NMRPipe file (header FDDIMCOUNT = "
                             f"{dic.get('FDDIMCOUNT')}, data shape {np.shape(data)}); expected a 2D time-domain file")
    if dic.get("FDF2FTFLAG") or dic.get("FDF1FTFLAG"):
        raise ReproflowError(f"{path}: already Fourier transformed (FDF2FTFLAG {dic.get('FDF2FTFLAG')}, FDF1FTFLAG "
                             f"{dic.get('FDF1FTFLAG')}); expected time-domain data (give a processed spectrum "
                             "to `nmr reconstruct`)")
    if dic.get("FDTRANSPOSED"):
        raise ReproflowError(f"{path}: transposed (FDTRANSPOSED = 1); expected t2 along the rows, as recorded")
    for dim in ("FDF2QUADFLAG", "FDF1QUADFLAG"):
        if dic.get(dim, 0) != 0:
            raise ReproflowError(f"{path}: {dim} = {dic[dim]} (real data); expected complex data in both dimensions "
                                 "(echo and anti-echo FIDs, interleaved along t1)")
    for dim in ("FDF2P1", "FDF1P1"):
        if abs(float(dic.get(dim, 0.0))) > 1e-6:
            raise ReproflowError(f"{path}: header {dim} = {dic[dim]}: data that need a first-order phase (sampled "
                                 "from half a dwell time) cannot give a virtual echo; expected P1 = 0")
    data = np.asarray(data)
    if data.shape[0] < 8 or data.shape[0] % 2 or data.shape[1] < 8:
        raise ReproflowError(f"{path}: {data.shape[0]} t1 rows of {data.shape[1]} points; expected an even number of "
                             "rows, at least 8 (echo and anti-echo FIDs interleaved), of at least 8 complex points")
    check_finite(data, str(path))
    return RawPairs(data[0::2], data[1::2], ng.pipe.guess_udic(dic, data), str(path), "nmrpipe")


def check_pairs(raw: RawPairs) -> None:
    """The first FIDs of an echo/anti-echo pair sample the same magnetisation at
    t1 = 0: they must agree up to a phase (twice the F1 zero-order phase);
    States data would not: their sine FID starts at 0."""
    a, b = raw.first[0].astype(complex), raw.second[0].astype(complex)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    overlap = complex(np.vdot(a, b)) / norms if norms > 0 else 0j
    if abs(overlap) < MIN_PAIR_CORRELATION:
        raise ReproflowError(
            f"{raw.source}: the two FIDs of the first t1 increment correlate at {abs(overlap):.2f}; expected "
            f"> {MIN_PAIR_CORRELATION} for echo and anti-echo FIDs (equal at t1 = 0): are these States data, or "
            "is one FID of each pair empty?")


# ---- processing -------------------------------------------------------------

def direct(data: np.ndarray, apod: Apodisation, p0: float = 0.0) -> np.ndarray:
    """Sine bell, first point, 2x zero fill, FT (NMRPipe sign), P0 along the last axis."""
    return ng.proc_base.ps(process_last_axis(np.asarray(data, complex), apod, "fft_positive"), p0=p0)


def f1_input(f2_spectrum: np.ndarray, sign: float) -> np.ndarray:
    """One half's States interferogram from its F2-transformed FIDs: for the
    first FIDs (cos = A/2, sin = -i s A/2) Re(FA)/2 + i s Im(FA)/2; the second
    FIDs use -s."""
    return (f2_spectrum.real + 1j * sign * f2_spectrum.imag) / 2.0


def indirect(interferogram: np.ndarray, apod: Apodisation, p0: float = 0.0) -> np.ndarray:
    """The F1 transform of (t1, F2) data: complex 2D spectrum."""
    return direct(interferogram.T, apod, p0).T


def phase_score(spectrum: np.ndarray, p0: float) -> float:
    """Lower is better: the energy of the negative real part after a P0 of `p0`
    degrees, over the total (zero for absorption peaks of one sign), less a
    hundredth of the real part's share of the integral (which is largest at
    the right phase and breaks the tie where no point is negative)."""
    real = ng.proc_base.ps(spectrum, p0=p0).real
    negative = np.sum(np.square(np.minimum(real, 0.0))) / (np.sum(np.abs(spectrum) ** 2) + 1e-300)
    return float(negative - TIE_BREAK * np.sum(real) / (np.sum(np.abs(spectrum)) + 1e-300))


def estimate_p0(spectrum: np.ndarray) -> float:
    """The zero-order phase (degrees, P1 = 0) of the best `phase_score`: a
    2-degree scan, then a bounded refinement."""
    grid = np.arange(-180.0, 180.0, 2.0)
    best = float(grid[int(np.argmin([phase_score(spectrum, p) for p in grid]))])
    result = optimize.minimize_scalar(lambda p: phase_score(spectrum, p), bounds=(best - 2.0, best + 2.0),
                                      method="bounded", options={"xatol": 0.01})
    return float((result.x + 180.0) % 360.0 - 180.0)


def estimate_phases(raw: RawPairs, apod: Apodisation, f1_sign: int) -> Phases:
    """P0 of F2 from the first increment's pair sum (the States cosine FID at
    t1 = 0, absorptive when phased), then P0 of F1 on the F2-phased 2D spectrum."""
    f2 = estimate_p0(direct(raw.first[0] + raw.second[0], apod))
    fa, fb = direct(raw.first, apod, f2), direct(raw.second, apod, f2)
    full = indirect(f1_input(fa, f1_sign) + f1_input(fb, -f1_sign), apod)
    return Phases(round(f2, 2), round(estimate_p0(full), 2))


def echo_purity(half: np.ndarray) -> float:
    """Share of a spectrum's VE power in the echo quadrants (`ve.echo_share`; 0 for no power)."""
    return float(np.nan_to_num(ve.echo_share(half)))


def process(raw: RawPairs, apod: Apodisation | None = None, f1_sign: int = 1,
            phases: Phases | None = None) -> Processed:
    """The pure-absorption reference and the echo-only and anti-echo-only
    spectra of echo/anti-echo data (phases estimated when not given)."""
    if f1_sign not in (1, -1):
        raise ValueError(f"f1_sign must be +1 or -1, not {f1_sign!r}")
    apod = apod or Apodisation()
    phases = phases or estimate_phases(raw, apod, f1_sign)
    fa, fb = direct(raw.first, apod, phases.f2), direct(raw.second, apod, phases.f2)
    first = indirect(f1_input(fa, f1_sign), apod, phases.f1).real
    second = indirect(f1_input(fb, -f1_sign), apod, phases.f1).real
    purity = echo_purity(first)
    first_is = "echo" if purity >= 0.5 else "antiecho"
    halves = {first_is: first, ("antiecho" if first_is == "echo" else "echo"): second}
    echo_share = echo_purity(halves["echo"])
    anti_share = 1.0 - echo_purity(halves["antiecho"])
    if min(echo_share, anti_share) < HALF_PURITY:  # the processing above guarantees it: a failure is a bug
        raise RuntimeError(f"halves not separated in the VE: echo {echo_share:.6f}, anti-echo {anti_share:.6f}")
    return Processed(first + second, halves, first_is, phases, echo_share)


# ---- writing ----------------------------------------------------------------

def output_header(raw: RawPairs, shape: tuple[int, int], phases: Phases) -> dict[str, Any]:
    """NMRPipe header of a real frequency-domain spectrum with the acquisition's
    axes (sw, observe frequency, carrier, nucleus) and the phases applied."""
    dic = io.pipe_header(shape, copy.deepcopy(raw.udic))
    dic.update(FDF2P0=phases.f2, FDF1P0=phases.f1, FDF2P1=0.0, FDF1P1=0.0)
    return dic


def write_spectrum(path: str | Path, dic: dict[str, Any], data: np.ndarray, inputs: list[str]) -> None:
    check_finite(data, str(path))
    with atomic_output(path, inputs=inputs, what="spectrum") as tmp:
        ng.pipe.write(str(tmp), copy.deepcopy(dic), np.ascontiguousarray(data, dtype=np.float32), overwrite=True)
