"""Safe outputs: never write over an input, never leave a partial file.

Every command and job writes through `atomic_output` (or the `write_*`
helpers built on it): the output path is checked against the inputs (same
path, symlink, hard link: same inode), its folder must be writable, the data
go to a temporary file beside the output, and only a complete file is renamed
into place. A failure leaves no output and keeps an existing one unchanged.
`check_finite` is the check every array gets before it is written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from reproflow.errors import ReproflowError

PathLike = str | os.PathLike[str]


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when `a` and `b` name one file: equal resolved paths, or one inode (hard link)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def is_inside(path: PathLike, folder: PathLike) -> bool:
    """True when `path` is `folder` or lies inside it (both resolved)."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def check_output_path(output: PathLike, inputs: Iterable[PathLike | None] = (), what: str = "output") -> Path:
    """Refuse an output path that is (or resolves to) an input, lies inside an
    input folder, is a folder, or cannot be written. Returns it as a Path."""
    path = Path(output)
    for source in (Path(s) for s in inputs if s is not None):
        if same_file(path, source):
            raise ReproflowError(
                f"{path}: this {what} path is the input {source} (the same file); reproflow never writes over "
                "its inputs: choose another output path")
        if source.is_dir() and is_inside(path, source):
            raise ReproflowError(
                f"{path}: this {what} path lies inside the input folder {source}; reproflow never writes into "
                "its inputs: choose an output path outside it")
    if path.is_dir():
        raise ReproflowError(f"{path}: is a folder; expected the path of the {what} file to write")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise ReproflowError(f"{path}: {parent} is not a folder; expected a folder to write the {what} in")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise ReproflowError(f"{path}: the folder {parent} is not writable; choose a writable place for the {what}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ReproflowError(f"{path}: exists and is read-only; remove it or choose another {what} path")
    return path


def partial_path(path: Path) -> Path:
    """The temporary name beside `path`; it keeps the suffix, which some
    writers (Keras, NumPy) use to pick a format."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_output(output: PathLike, inputs: Iterable[PathLike | None] = (), what: str = "output") -> Iterator[Path]:
    """Yield a temporary path beside `output`; rename it to `output` when the
    block completes, delete it when the block raises.

        with atomic_output(args.out, inputs=[args.input]) as tmp:
            write(tmp, ...)
    """
    path = check_output_path(output, inputs, what)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReproflowError(f"{path}: cannot create the folder {path.parent} ({error.strerror})") from error
    tmp = partial_path(path)
    try:
        yield tmp
        if not tmp.exists():
            raise ReproflowError(f"{path}: nothing was written")
        os.replace(tmp, path)
    except OSError as error:
        remove_path(tmp)
        reason = "disk full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
        raise ReproflowError(f"{path}: could not write the {what} ({reason})") from error
    except BaseException:
        remove_path(tmp)
        raise


def remove_path(path: Path) -> None:
    """Delete a file, a link or a whole folder, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_text(path: PathLike, text: str, inputs: Iterable[PathLike | None] = ()) -> None:
    with atomic_output(path, inputs) as tmp:
        tmp.write_text(text)


def write_json(path: PathLike, value: object, inputs: Iterable[PathLike | None] = ()) -> None:
    """`value` as indented JSON; a NaN or infinity anywhere in it is refused
    (JSON has no such numbers, and a NaN in a result is a wrong answer)."""
    try:
        text = json.dumps(value, indent=2, allow_nan=False)
    except ValueError as error:
        raise ReproflowError(f"{path}: {error}; expected finite numbers only") from None
    write_text(path, text, inputs)


def check_input_file(path: PathLike, what: str = "a data file") -> Path:
    """`path` as a file to read: refused, named for what it is, when it is a
    dangling link, a folder or missing (before a library's own message could)."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ReproflowError(f"{path}: a dangling symbolic link (to {os.readlink(path)}); expected {what}")
    if path.is_dir():
        raise ReproflowError(f"{path}: is a folder; expected {what}")
    if not path.exists():
        raise ReproflowError(f"{path}: no such file; expected {what}")
    return path


def check_finite(values: object, what: str) -> np.ndarray:
    """`values` as an array, refused when any entry is NaN or infinite.

    `what` names the array for the message ("results/nmr/x.ft2", "stage 2,
    epoch 3 loss"), so the user knows where the bad number came from.
    """
    array = np.asarray(values)
    if array.dtype.kind in "fc":
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
            raise ReproflowError(
                f"{what}: {int(bad.sum())} of {array.size} values are NaN or infinite (first at index {first}); "
                "expected finite numbers")
    return array
