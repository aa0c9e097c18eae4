"""Reader of the IDX files of MNIST and Fashion-MNIST (optionally gzipped).

Format: two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions, then one big-endian uint32 per dimension and the data.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.limits import check_allocation

UBYTE = 0x08


class IdxError(ReproflowError):
    """An IDX file is truncated, of the wrong kind or does not match its partner."""


# deflate shrinks data at most about 1032:1, so a gzip file of n bytes holds
# at most this many times n: a header claiming more is refused unread
GZIP_MAX_RATIO = 1032
TRAILING_SCAN = 1 << 20  # bytes past the claimed size counted for the message


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left and (chunk := stream.read(min(left, 1 << 20))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """The array stored in an IDX file; `ndim` checks the kind (1 labels, 3 images).

    The header's claimed size is checked against the file's size (plain), the
    most a gzip file of its size can hold, and free memory before the array
    is allocated; a gzip stream is read only up to that size plus one byte,
    so a decompression bomb stops at the size the header claims."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise IdxError(f"{path}: a dangling symbolic link (to {os.readlink(path)}); expected an IDX file")
    if path.is_dir():
        raise IdxError(f"{path}: is a folder; expected an IDX file")
    zipped = path.suffix == ".gz"
    try:
        size = path.stat().st_size
        with (gzip.open(path, "rb") if zipped else open(path, "rb")) as stream:
            return _read_stream(path, stream, size, zipped, ndim)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise IdxError(f"{path}: cannot read the gzip stream ({error}); the file is truncated or corrupt") from error
    except OSError as error:
        raise IdxError(f"{path}: cannot be read ({error.strerror or error})") from error


def _read_stream(path: Path, stream: BinaryIO, size: int, zipped: bool, ndim: int | None) -> np.ndarray:
    raw = _read_up_to(stream, 4)
    if len(raw) < 4:
        what = "an empty file" if not size else f"{len(raw)} bytes"
        raise IdxError(f"{path}: {what}, too short for an IDX header (expected at least 4 bytes, "
                       "magic number 0x00000801 for labels or 0x00000803 for images)")
    zero, dtype, dims = struct.unpack(">HBB", raw[:4])
    magic = int.from_bytes(raw[:4], "big")
    if zero != 0 or dtype != UBYTE or dims == 0:
        raise IdxError(f"{path}: magic number 0x{magic:08x} is not an unsigned-byte IDX file "
                       "(expected 0x00000801 for labels or 0x00000803 for images)")
    if ndim is not None and dims != ndim:
        kind = {1: "labels", 3: "images"}.get(ndim, f"{ndim}-D")
        raise IdxError(f"{path}: magic number 0x{magic:08x} says {dims}-D data, expected {kind} "
                       f"(0x{0x800 + ndim:08x}); is it the wrong file?")
    header = 4 + 4 * dims
    raw += _read_up_to(stream, header - 4)
    if len(raw) < header:
        raise IdxError(f"{path}: header truncated ({len(raw)} of {header} bytes)")
    shape = struct.unpack(f">{dims}I", raw[4:header])
    expected = math.prod(shape)
    if not zipped and size - header != expected:
        what = "truncated" if size - header < expected else "has trailing data"
        raise IdxError(f"{path}: {what}: {size - header} data bytes, the header {shape} says {expected}")
    if zipped and expected + header > GZIP_MAX_RATIO * size + 64:
        raise IdxError(f"{path}: the header {shape} claims {expected} data bytes, more than a gzip file of "
                       f"{size} bytes can hold (at most about {GZIP_MAX_RATIO} x its size); corrupt or hostile")
    check_allocation(expected, f"{path}: the header {shape} claims")
    data = np.empty(expected, np.uint8)
    view, got = memoryview(data), 0
    while got < expected and (n := stream.readinto(view[got:got + (1 << 24)])):
        got += n
    if got < expected:
        raise IdxError(f"{path}: truncated: {got} data bytes, the header {shape} says {expected}")
    if extra := len(_read_up_to(stream, TRAILING_SCAN)):
        more = "at least " if extra == TRAILING_SCAN else ""
        raise IdxError(f"{path}: has trailing data: {more}{expected + extra} data bytes, the header {shape} "
                       f"says {expected}")
    return data.reshape(shape)


def read_idx_pair(images_path: str | Path, labels_path: str | Path, *, count: int | None = None,
                  side: int | None = 28, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, side, side) and labels (n,), checked against each other;
    `count`: the expected number of items (60,000 train / 10,000 test)."""
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise IdxError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if count is not None and len(images) != count:
        raise IdxError(f"{images_path}: {len(images)} items, expected {count}")
    if side is not None and images.shape[1:] != (side, side):
        raise IdxError(f"{images_path}: images of {images.shape[1:]}, expected ({side}, {side})")
    if labels.size and labels.max() >= n_classes:
        raise IdxError(f"{labels_path}: label {labels.max()} outside 0..{n_classes - 1}")
    return images, labels
