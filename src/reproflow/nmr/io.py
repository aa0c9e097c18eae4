"""NMR spectrum I/O through nmrglue: NMRPipe files and Bruker processed data
in, NMRPipe files out, with the checks the reconstruction needs."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np

from reproflow.errors import ReproflowError

TILE = (32, 64)  # the network's output tile: spectrum sizes must be multiples


class SpectrumError(ReproflowError):
    """An NMR input that cannot be reconstructed: unreadable, wrong shape or phase."""


@dataclass
class Spectrum:
    """A real 2D spectrum (F1 x F2) and the NMRPipe header to write it with."""

    data: np.ndarray
    dic: dict[str, Any]
    source: str


def read_spectrum(path: str | Path) -> Spectrum:
    """Read an NMRPipe file, or a Bruker processed-data folder (with 2rr), and
    check it: 2D, frequency domain, first-order phase 0."""
    path = Path(path)
    if not path.exists():
        raise SpectrumError(f"{path}: no such file or folder (expected an NMRPipe .ft2 file or a Bruker pdata folder)")
    spectrum = _read_bruker(path) if path.is_dir() else _read_pipe(path)
    check_spectrum(spectrum)
    return spectrum


def _read_pipe(path: Path) -> Spectrum:
    try:
        with warnings.catch_warnings(record=True) as caught:  # nmrglue warns, then returns 1D data
            warnings.simplefilter("always")
            dic, data = ng.pipe.read(str(path))
    except Exception as error:  # nmrglue raises many types for foreign files
        raise SpectrumError(f"{path}: not a readable NMRPipe file ({error}); expected a 2D NMRPipe spectrum") from error
    order = float(dic.get("FDFLTORDER", 2.345))
    if abs(order - 2.345) > 1e-3:
        raise SpectrumError(f"{path}: corrupt NMRPipe header: byte-order mark FDFLTORDER = {order:.6g}, "
                            "expected 2.345; expected a 2D NMRPipe spectrum")
    dims = int(dic.get("FDDIMCOUNT", data.ndim))
    if dims != 2:
        raise SpectrumError(f"{path}: a {dims}D spectrum (header FDDIMCOUNT = {dims}, data shape {data.shape}); "
                            "expected a 2D spectrum")
    unshaped = [str(w.message) for w in caught if "cannot be shaped" in str(w.message)]
    if unshaped or data.ndim != 2:
        raise SpectrumError(f"{path}: truncated or corrupt: {data.size} values do not fill the 2D shape in the "
                            f"header ({unshaped[0] if unshaped else data.shape}); expected a complete 2D NMRPipe file")
    for dim in ("FDF1P1", "FDF2P1"):
        if abs(float(dic.get(dim, 0.0))) > 1e-6:
            raise SpectrumError(
                f"{path}: first-order phase {dim} = {dic[dim]}, expected 0 (the virtual echo needs P1 = 0 "
                "in both dimensions; reprocess without a first-order phase correction)")
    if data.ndim == 2 and (not dic.get("FDF1FTFLAG") or not dic.get("FDF2FTFLAG")):
        raise SpectrumError(f"{path}: time-domain data; expected a Fourier-transformed 2D spectrum")
    return Spectrum(np.asarray(data), dic, str(path))


def _bruker_folder(path: Path) -> Path:
    if (path / "2rr").exists():
        return path
    candidates = sorted(path.glob("pdata/*/2rr"))
    if not candidates:
        raise SpectrumError(f"{path}: no Bruker 2rr file here or under pdata/*/ (expected processed 2D Bruker data)")
    return candidates[0].parent


def _read_bruker(path: Path) -> Spectrum:
    folder = _bruker_folder(path)
    missing = [name for name in ("procs", "proc2s") if not (folder / name).exists()]
    if missing:
        raise SpectrumError(f"{folder}: no {' or '.join(missing)} parameter file beside 2rr "
                            "(expected processed 2D Bruker data: 2rr, procs and proc2s)")
    try:
        with warnings.catch_warnings(record=True):  # nmrglue warns, then returns 1D data
            warnings.simplefilter("always")
            dic, data = ng.bruker.read_pdata(str(folder), bin_files=["2rr"], read_acqus=False)
    except Exception as error:
        raise SpectrumError(f"{folder}: unreadable Bruker processed data ({error})") from error
    sizes = [dic.get(procs, {}).get("SI") for procs in ("proc2s", "procs")]
    if np.ndim(data) != 2:
        raise SpectrumError(f"{folder}: 2rr holds {np.size(data)} values, not the {sizes[0]} x {sizes[1]} points "
                            "that proc2s and procs give (SI); the 2rr file is truncated or corrupt")
    for procs in ("procs", "proc2s"):
        phase = float(dic.get(procs, {}).get("PHC1", 0.0))
        if abs(phase) > 1e-6:
            raise SpectrumError(f"{folder}: first-order phase {procs}.PHC1 = {phase}, expected 0")
    data = np.asarray(data)
    # the ppm axes (SF, SW_p, OFFSET, AXNUC of procs and proc2s) go into the output header, so the
    # reconstruction overlays the input; nmrglue warns and keeps placeholders for an axis it cannot read
    return Spectrum(data, pipe_header(data.shape, ng.bruker.guess_udic(dic, data)), str(folder))


def pipe_header(shape: tuple[int, ...], udic: dict[Any, Any] | None = None) -> dict[str, Any]:
    """A minimal NMRPipe header for a real frequency-domain spectrum, with the
    axes (sw, obs, car, label) of `udic` where given."""
    udic = udic or ng.fileio.fileiobase.create_blank_udic(len(shape))
    for dim, size in enumerate(shape):
        udic[dim].update(size=size, complex=False, time=False, freq=True, encoding="states")
    return ng.pipe.create_dic(udic)


def check_spectrum(spectrum: Spectrum) -> None:
    data = spectrum.data
    if data.ndim != 2:
        raise SpectrumError(f"{spectrum.source}: a {data.ndim}D spectrum of shape {data.shape}; expected a 2D spectrum")
    if np.iscomplexobj(data):
        spectrum.data = data.real
    if not np.isfinite(spectrum.data).all():
        raise SpectrumError(f"{spectrum.source}: contains NaN or infinite values")
    if min(data.shape) < 4:
        raise SpectrumError(f"{spectrum.source}: shape {data.shape} is too small, expected at least 4 x 4 points")


def check_tileable(spectrum: Spectrum, tile: tuple[int, int] = TILE) -> None:
    """The network cuts the spectrum into tile-sized output blocks."""
    shape = spectrum.data.shape
    if shape[0] % tile[0] or shape[1] % tile[1]:
        raise SpectrumError(
            f"{spectrum.source}: shape {shape[0]} x {shape[1]} cannot be cut into {tile[0]} x {tile[1]} tiles; "
            f"expected multiples of {tile[0]} (F1) and {tile[1]} (F2): zero fill (ZF) to such a size")


def write_spectrum(path: str | Path, like: Spectrum, data: np.ndarray) -> None:
    """Write `data` as an NMRPipe file with the header of `like` (which NMRPipe and Sparky open)."""
    if data.shape != like.data.shape:
        raise ValueError(f"data {data.shape} and header spectrum {like.data.shape} differ in shape")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    dic = copy.deepcopy(like.dic)  # nmrglue may change the header it is given
    ng.pipe.write(str(path), dic, np.ascontiguousarray(data, dtype=np.float32), overwrite=True)
