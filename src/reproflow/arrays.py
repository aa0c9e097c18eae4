"""Arrays and tables in files, the same way in every study: .npz archives
(no pickles, every number checked finite, written atomically) and CSV tables
of rows (per-epoch logs included).

A job's .npz input is refused with a `ReproflowError` that names the file
and what was expected when it is missing, a folder, a dangling link, not an
.npz archive (a single .npy, a pickle, any other file), damaged (truncated,
a bad member), holds an object array, lacks an array the job needs or holds
a NaN or infinity. Study-specific checks (shapes, which sets go together)
stay in the study.
"""

from __future__ import annotations

import csv
import math
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.outputs import PathLike, atomic_output, check_finite, check_input_file

NPZ_INPUT = "the .npz arrays an earlier job wrote"
# what reading an archive or one of its members raises on a damaged or foreign
# file: truncated (BadZipFile, EOFError), bad deflate data (zlib.error), a bad
# .npy header or an object array (ValueError), an unsupported or encrypted
# member (NotImplementedError, RuntimeError)
_UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


def save_npz(path: PathLike, inputs: Iterable[PathLike | None] = (), *, compress: bool = True,
             **arrays: Any) -> None:
    """The arrays as an .npz that `np.load` reads, each checked finite first,
    written beside `path` and renamed when complete (never over one of
    `inputs`). Deflated at zlib level 1 (about 25% larger than
    `np.savez_compressed`'s level 6, 3-4 times faster to write); `compress=False`
    stores them as `np.savez` does, for files read once, soon."""
    for key, value in arrays.items():
        check_finite(value, f"{path}: array {key!r}")
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_output(path, inputs) as tmp, \
            zipfile.ZipFile(tmp, "w", method, compresslevel=1 if compress else None) as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(value), allow_pickle=False)


def open_npz(path: PathLike, keys: Sequence[str] = (), what: str = NPZ_INPUT) -> np.lib.npyio.NpzFile:
    """The archive (a context manager), holding `keys`, its members read on
    access: for jobs that read a few arrays of many files. Neither the members
    nor their numbers are checked here; `load_npz` reads and checks them all."""
    check_input_file(path, what)
    try:
        data = np.load(path, allow_pickle=False)
    except _UNREADABLE as error:
        raise ReproflowError(f"{path}: not a readable .npz file ({error}); expected {what}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ReproflowError(f"{path}: a single .npy array, not an .npz archive; expected {what}")
    missing = [key for key in keys if key not in data.files]
    if missing:
        data.close()
        raise ReproflowError(f"{path}: lacks the arrays {', '.join(missing)}; expected {what}, with "
                             f"{', '.join(keys)}")
    return data


def load_npz(path: PathLike, keys: Sequence[str] = (), what: str = NPZ_INPUT, *,
             finite: bool = True) -> dict[str, np.ndarray]:
    """Every array of the archive, which must hold `keys`, each checked finite
    (`finite=False`: for arrays whose numbers the caller checks)."""
    with open_npz(path, keys, what) as data:
        try:
            arrays = {key: data[key] for key in data.files}
        except _UNREADABLE as error:   # a damaged member, or an object array (a pickle)
            raise ReproflowError(f"{path}: not a readable .npz file ({error}); expected {what}") from None
    if finite:
        for key, values in arrays.items():
            check_finite(values, f"{path}: array {key!r}")
    return arrays


def write_csv(rows: Sequence[Mapping[str, Any]], path: PathLike, inputs: Iterable[PathLike | None] = (), *,
              fields: Sequence[str] | None = None, what: str = "table", finite: bool = True) -> None:
    """`rows` as a CSV table, one row each (a job's per-epoch log: one row per
    epoch), written beside `path` and renamed when complete. Columns: `fields`
    (keys beyond them left out), else the union of the rows' keys in first-seen
    order. Every number must be finite (a NaN loss is a diverged model, not a
    result); `finite=False` where NaN means "not defined" (a ROC-AUC on one class)."""
    columns = list(fields or dict.fromkeys(key for row in rows for key in row))
    if finite:
        for number, row in enumerate(rows, 1):
            for key, value in row.items():
                if isinstance(value, float) and not math.isfinite(value):
                    raise ReproflowError(f"{path}: row {number}, column {key!r} is {value}; expected a finite number")
    with atomic_output(path, inputs, what) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
