"""NMR spectrum I/O through nmrglue: NMRPipe files and Bruker processed data
in, NMRPipe files out, with the checks the reconstruction needs."""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np

from reproflow import limits
from reproflow.errors import ReproflowError

TILE = (32, 64)  # the network's output tile: spectrum sizes must be multiples
HEADER_BYTES = 2048  # NMRPipe: 512 float32 header values before the data
# Working memory per spectrum point of a reconstruction (float64 copies, complex FFTs, the
# IST's estimate and residual): a size claim is refused when this much memory is not free
BYTES_PER_POINT = 96


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
    check it: 2D, frequency domain, first-order phase 0, the full spectral
    width (no extracted region), finite, not all zero. Sizes claimed by the
    header are checked against the file and the free memory first."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise SpectrumError(f"{path}: a dangling symbolic link (to {os.readlink(path)}, which does not exist); "
                            "expected an NMRPipe .ft2 file or a Bruker pdata folder")
    if not path.exists():
        raise SpectrumError(f"{path}: no such file or folder (expected an NMRPipe .ft2 file or a Bruker pdata folder)")
    if path.is_dir():
        spectrum = _read_bruker(path)
    elif not path.is_file():
        raise SpectrumError(f"{path}: not a regular file (a pipe, device or socket); expected an NMRPipe .ft2 file "
                            "or a Bruker pdata folder")
    else:
        spectrum = _read_pipe(path)
    check_spectrum(spectrum)
    return spectrum


def check_memory(source: str | Path, points: int, what: str) -> None:
    """Refuse a spectrum of `points` points when its reconstruction cannot fit in memory."""
    needed = points * BYTES_PER_POINT
    free = limits.available_memory()
    if free is not None and needed > free:
        raise SpectrumError(f"{source}: {what} claims {points} points, which need about {needed / 2**30:.1f} GiB "
                            f"to reconstruct; only {max(free, 0) / 2**30:.1f} GiB are free")


def _whole_count(source: Path, key: str, value: float, low: int = 1, high: int = 2**26) -> int:
    if not np.isfinite(value) or value != int(value) or not low <= value <= high:
        raise SpectrumError(f"{source}: header value {key} = {value:g}; expected a whole number "
                            f"between {low} and {high}")
    return int(value)


def _pipe_header_checked(path: Path) -> dict[str, Any]:
    """The NMRPipe header, refused before the data are read when it is not one
    (byte-order mark), holds NaN or infinite values, is not 2D or claims more
    or fewer points than the file holds (or memory can take)."""
    size = path.stat().st_size
    if size <= HEADER_BYTES:
        raise SpectrumError(f"{path}: not a readable NMRPipe file ({size} bytes, no data after the {HEADER_BYTES}-byte "
                            "header); expected a 2D NMRPipe spectrum")
    fdata = np.fromfile(path, np.float32, HEADER_BYTES // 4)
    if abs(float(fdata[2]) - 2.345) > 1e-6:
        fdata = fdata.byteswap()
    order = float(fdata[2])
    if abs(order - 2.345) > 1e-3:
        raise SpectrumError(f"{path}: not a readable NMRPipe file: corrupt NMRPipe header: byte-order mark "
                            f"FDFLTORDER = {order:.6g}, expected 2.345; expected a 2D NMRPipe spectrum")
    try:
        dic = ng.pipe.fdata2dic(fdata)
    except (UnicodeDecodeError, ValueError) as error:
        raise SpectrumError(f"{path}: not a readable NMRPipe file (corrupt header text: {error}); "
                            "expected a 2D NMRPipe spectrum") from error
    bad = sorted(key for key, value in dic.items() if isinstance(value, float) and not np.isfinite(value))
    if bad:
        raise SpectrumError(f"{path}: corrupt NMRPipe header: {', '.join(f'{k} = {dic[k]}' for k in bad[:5])} "
                            "not finite; expected finite header values")
    dims = dic["FDDIMCOUNT"]
    if dims != 2:
        raise SpectrumError(f"{path}: a {dims:g}D spectrum (header FDDIMCOUNT = {dims:g}); expected a 2D spectrum")
    for key in ("FDSIZE", "FDSPECNUM"):
        _whole_count(path, key, dic[key])
    shape = tuple(int(n) for n in ng.pipe.find_shape(dic))
    claimed, held = int(np.prod(shape)), (size - HEADER_BYTES) // 4
    if claimed != held:
        raise SpectrumError(f"{path}: truncated or corrupt: {held} values where the 2D shape in the header {shape} "
                            f"(FDSPECNUM x FDSIZE) needs {claimed}; expected a complete 2D NMRPipe file")
    check_memory(path, claimed, "the header")
    return dic


def _check_full_width(source: Path, size: int, ft_size: float, region: tuple[float, float], names: str) -> None:
    """The virtual echo needs the whole spectral width: refuse an extracted region."""
    first, last = region
    extracted = (ft_size and size < ft_size) or (
        (first or last) and not (first <= 1 and last >= (ft_size or size)))
    if extracted:
        raise SpectrumError(
            f"{source}: an extracted region ({names} = {first:g}, {last:g}; {size} of {ft_size or size:g} points); "
            "the virtual-echo reconstruction needs the full spectral width in both dimensions: "
            "reconstruct the whole spectrum, then extract")


def _read_pipe(path: Path) -> Spectrum:
    header = _pipe_header_checked(path)
    for dim, size_key in (("FDF2", "FDSIZE"), ("FDF1", "FDSPECNUM")):
        _check_full_width(path, int(header[size_key]), header[f"{dim}FTSIZE"],
                          (header[f"{dim}X1"], header[f"{dim}XN"]), f"{dim}X1/{dim}XN")
    try:
        with warnings.catch_warnings(record=True) as caught:  # nmrglue warns, then returns 1D data
            warnings.simplefilter("always")
            dic, data = ng.pipe.read(str(path))
    except Exception as error:  # nmrglue raises many types for foreign files
        raise SpectrumError(f"{path}: not a readable NMRPipe file ({error}); expected a 2D NMRPipe spectrum") from error
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


BRUKER_NUMBERS = ("SI", "XDIM", "NC_proc", "SF", "SW_p", "OFFSET", "PHC0", "PHC1", "STSR", "STSI")


def _bruker_parameters(folder: Path) -> dict[str, dict[str, Any]]:
    """procs (F2) and proc2s (F1), checked before 2rr is read: finite values,
    SI and XDIM whole and consistent with the size of 2rr, the full width."""
    parameters = {}
    for name in ("procs", "proc2s"):
        try:
            parameters[name] = ng.bruker.read_jcamp(str(folder / name))
        except Exception as error:  # nmrglue's JCAMP reader raises many types on foreign text
            raise SpectrumError(f"{folder / name}: unreadable Bruker parameter file ({error}); expected a "
                                "JCAMP-DX procs file written by TopSpin") from error
        for key in BRUKER_NUMBERS:
            value = parameters[name].get(key)
            if value is None:
                continue
            try:
                number = float(value)  # nmrglue keeps a value it cannot parse ("inf", "1,5") as text
            except (TypeError, ValueError):
                number = float("nan")
            if not np.isfinite(number):
                raise SpectrumError(f"{folder / name}: {key} = {value}; expected a finite number")
            parameters[name][key] = number if isinstance(value, str) else value
    sizes = []
    for name in ("proc2s", "procs"):
        procs, source = parameters[name], folder / name
        if "SI" not in procs or "XDIM" not in procs:
            raise SpectrumError(f"{source}: no SI or XDIM; expected the size and submatrix size of processed data")
        size = _whole_count(source, "SI", float(procs["SI"]))
        block = _whole_count(source, "XDIM", float(procs["XDIM"]), 1, size)
        if size % block:
            raise SpectrumError(f"{source}: SI = {size} is not a multiple of XDIM = {block}; expected whole "
                                "submatrices")
        start, strip = float(procs.get("STSR", 0) or 0), float(procs.get("STSI", 0) or 0)
        if start or (strip and strip != size):
            raise SpectrumError(
                f"{source}: an extracted region (STSR = {start:g}, STSI = {strip:g} of SI = {size} points); the "
                "virtual-echo reconstruction needs the full spectral width in both dimensions: "
                "reconstruct the whole spectrum, then extract")
        sizes.append(size)
    width = 8 if parameters["procs"].get("DTYPP") == 2 else 4
    claimed, held = sizes[0] * sizes[1], (folder / "2rr").stat().st_size
    if claimed * width != held:
        raise SpectrumError(f"{folder}: 2rr holds {held // width} values, not the {sizes[0]} x {sizes[1]} "
                            f"points ({width} bytes each, {held} bytes held) that proc2s and procs give (SI); "
                            "the 2rr file is truncated or corrupt")
    check_memory(folder, claimed, "SI of procs and proc2s")
    return parameters


def _read_bruker(path: Path) -> Spectrum:
    folder = _bruker_folder(path)
    missing = [name for name in ("procs", "proc2s") if not (folder / name).is_file()]
    if missing:
        raise SpectrumError(f"{folder}: no {' or '.join(missing)} parameter file beside 2rr "
                            "(expected processed 2D Bruker data: 2rr, procs and proc2s)")
    if not (folder / "2rr").is_file():
        raise SpectrumError(f"{folder / '2rr'}: not a file; expected the processed 2D Bruker data file 2rr")
    _bruker_parameters(folder)
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
        bad = int(np.count_nonzero(~np.isfinite(spectrum.data)))
        raise SpectrumError(f"{spectrum.source}: contains NaN or infinite values ({bad} of {data.size} points); "
                            "expected finite intensities")
    if not np.any(spectrum.data):
        raise SpectrumError(f"{spectrum.source}: every point is zero; expected a spectrum with signal")
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
