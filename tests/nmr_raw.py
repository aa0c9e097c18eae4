"""Raw echo/anti-echo data simulated in the time domain from peak lists, and
the files a spectrometer or NMRPipe would hold them in (written by nmrglue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np

from reproflow.nmr import simulate

# (SW_h Hz, SFO1 MHz, O1 Hz, nucleus) of a 1H-15N HSQC: F2 (acqus) and F1 (acqu2s)
F2_AXIS = (8000.0, 600.13, 4.7 * 600.13, "1H")
F1_AXIS = (2000.0, 60.81, 118.0 * 60.81, "15N")


def mirrored(peaks: simulate.Peaks) -> simulate.Peaks:
    """The peak list whose raw data, transformed with NMRPipe's FT sign, give
    the simulator's spectra of `peaks` (it uses the opposite sign)."""
    return simulate.Peaks(np.conj(peaks.amplitude), -peaks.f1, -peaks.f2, peaks.r1, peaks.r2)


def pn_data(peaks: simulate.Peaks, cfg: simulate.SimConfig, rng: np.random.Generator | None = None,
            phases_deg: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """(P, N) time-domain data of `peaks` (with noise if rng), with zero-order
    phase errors (F2, F1) such that phases (-F2, -F1) correct them."""
    raw = mirrored(peaks)
    p, n = simulate.time_domain(raw, cfg, "P"), simulate.time_domain(raw, cfg, "N")
    if rng is not None:
        p, n = simulate.add_noise(rng, p, cfg.snr), simulate.add_noise(rng, n, cfg.snr)
    f2, f1 = np.deg2rad(phases_deg)
    return p * np.exp(1j * (f2 + f1)), n * np.exp(1j * (f2 - f1))


def interleave(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    rows = np.empty((2 * first.shape[0], first.shape[1]), complex)
    rows[0::2], rows[1::2] = first, second
    return rows


def udic(rows: np.ndarray, time: bool = True) -> dict[Any, Any]:
    u = ng.fileio.fileiobase.create_blank_udic(2)
    for dim, (sw, sfo1, o1, nucleus) in enumerate((F1_AXIS, F2_AXIS)):
        u[dim].update(size=rows.shape[dim], complex=True, time=time, freq=not time, sw=sw, obs=sfo1, car=o1,
                      label=nucleus, encoding="states" if dim == 0 else "direct")
    return u


def write_pipe_fid(path: Path, rows: np.ndarray) -> None:
    """An NMRPipe 2D time-domain file, the pairs as recorded along t1."""
    ng.pipe.write(str(path), ng.pipe.create_dic(udic(rows)), rows.astype(np.complex64), overwrite=True)


def acqus(rows: np.ndarray, fnmode: int = 6) -> dict[str, Any]:
    """acqus and acqu2s for `rows` (FIDs x complex points), float64 data."""
    head = {"_coreheader": ["##TITLE= Parameter file"], "_comments": []}
    sw2, sfo2, o2, nuc2 = F2_AXIS
    sw1, sfo1, o1, nuc1 = F1_AXIS
    return {
        "acqus": {**head, "TD": 2 * rows.shape[1], "SW_h": sw2, "SW": sw2 / sfo2, "SFO1": sfo2, "BF1": sfo2, "O1": o2,
                  "NUC1": nuc2, "AQ_mod": 3, "BYTORDA": 0, "DTYPA": 2, "DECIM": 1, "GRPDLY": 0},
        "acqu2s": {**head, "TD": rows.shape[0], "SW": sw1 / sfo1, "SFO1": sfo1, "BF1": sfo1, "O1": o1, "NUC1": nuc1,
                   "FnMODE": fnmode},
    }


def write_bruker(folder: Path, rows: np.ndarray, fnmode: int = 6) -> None:
    """A Bruker experiment (ser, acqus, acqu2s) written by nmrglue."""
    ng.bruker.write(str(folder), acqus(rows, fnmode), rows.astype(np.complex128), overwrite=True,
                    write_prog=False, big=False, isfloat=True)
