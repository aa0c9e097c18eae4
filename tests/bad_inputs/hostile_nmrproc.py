"""Hostile raw inputs of `reproflow nmr process` (echo/anti-echo FIDs)."""

from pathlib import Path

import numpy as np
from bad_inputs.hostile import Case


def _rows(count: int = 16, points: int = 64) -> np.ndarray:
    t = np.arange(points)[None, :]
    rows = np.exp(2j * np.pi * 0.1 * t - t / 30.0) * np.ones((count, 1))
    return rows


def bruker(fnmode: int = 6, td1: int | None = None, cut: int = 0):
    def make(folder: Path) -> None:
        import nmr_raw
        import nmrglue as ng

        rows = _rows()
        dic = nmr_raw.acqus(rows, fnmode)
        if td1 is not None:
            dic["acqu2s"]["TD"] = td1
        ng.bruker.write(str(folder / "exp"), dic, rows, overwrite=True, write_prog=False, big=False, isfloat=True)
        if cut:
            ser = folder / "exp/ser"
            ser.write_bytes(ser.read_bytes()[:-cut])
    return make


def pipe_fid(change: str):
    def make(folder: Path) -> None:
        import nmr_raw

        rows = _rows()
        if change == "nan":
            rows[3, 5] = np.nan
        if change == "states":
            rows[1::2] = 0.0
        nmr_raw.write_pipe_fid(folder / "raw.fid", rows)
    return make


PROCESS = ["nmr", "process", "--reference", "{tmp}/ref.ft2"]
CASES = [
    Case("nmrproc-fnmode-states", "corrupt, partial or foreign file", bruker(fnmode=4), expect=["{tmp}/exp/acqu2s", "FnMODE = 4",
         "expected 6"], argv=[*PROCESS, "--input", "{tmp}/exp"]),
    Case("nmrproc-odd-td1", "corrupt, partial or foreign file", bruker(td1=15), expect=["{tmp}/exp/acqu2s", "TD = 15", "even"],
         argv=[*PROCESS, "--input", "{tmp}/exp"]),
    Case("nmrproc-truncated-ser", "corrupt, partial or foreign file", bruker(cut=100), expect=["{tmp}/exp/ser", "truncated"],
         argv=[*PROCESS, "--input", "{tmp}/exp"]),
    Case("nmrproc-nan-fid", "non-finite or out-of-range number", pipe_fid("nan"), expect=["{tmp}/raw.fid", "NaN"],
         argv=[*PROCESS, "--input", "{tmp}/raw.fid"]),
    Case("nmrproc-empty-antiecho", "corrupt, partial or foreign file", pipe_fid("states"), expect=["{tmp}/raw.fid", "correlate"],
         argv=[*PROCESS, "--input", "{tmp}/raw.fid"]),
    Case("nmrproc-out-is-input", "output is an input", pipe_fid("ok"), expect=["{tmp}/raw.fid", "input"],
         argv=["nmr", "process", "--input", "{tmp}/raw.fid", "--echo", "{tmp}/raw.fid"]),
]
