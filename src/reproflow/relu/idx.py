"""Reader of the IDX files of MNIST and Fashion-MNIST (optionally gzipped).

Format: two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions, then one big-endian uint32 per dimension and the data.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from reproflow.errors import ReproflowError

UBYTE = 0x08


class IdxError(ReproflowError):
    """An IDX file is truncated, of the wrong kind or does not match its partner."""


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """The array stored in an IDX file; `ndim` checks the kind (1 labels, 3 images)."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise IdxError(f"{path}: cannot read the gzip stream ({error}); the file is truncated or corrupt") from error
    if len(raw) < 4:
        what = "an empty file" if not path.stat().st_size else f"{len(raw)} bytes"
        raise IdxError(f"{path}: {what}, too short for an IDX header (expected at least 4 bytes, "
                       "magic number 0x00000801 for labels or 0x00000803 for images)")
    zero, dtype, dims = struct.unpack(">HBB", raw[:4])
    magic = int.from_bytes(raw[:4], "big")
    if zero != 0 or dtype != UBYTE or dims == 0:
        raise IdxError(
            f"{path}: magic number 0x{magic:08x} is not an unsigned-byte IDX file "
            "(expected 0x00000801 for labels or 0x00000803 for images)"
        )
    if ndim is not None and dims != ndim:
        kind = {1: "labels", 3: "images"}.get(ndim, f"{ndim}-D")
        raise IdxError(
            f"{path}: magic number 0x{magic:08x} says {dims}-D data, expected {kind} "
            f"(0x{0x800 + ndim:08x}); is it the wrong file?"
        )
    header = 4 + 4 * dims
    if len(raw) < header:
        raise IdxError(f"{path}: header truncated ({len(raw)} of {header} bytes)")
    shape = struct.unpack(f">{dims}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing data"
        raise IdxError(f"{path}: {what}: {actual} data bytes, the header {shape} says {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_pair(
    images_path: str | Path, labels_path: str | Path, *, count: int | None = None,
    side: int | None = 28, n_classes: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, side, side) and labels (n,), checked against each other.

    `count` is the expected number of items (60,000 train / 10,000 test).
    """
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise IdxError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if count is not None and len(images) != count:
        raise IdxError(f"{images_path}: {len(images)} items, expected {count}")
    if side is not None and images.shape[1:] != (side, side):
        raise IdxError(f"{images_path}: images of {images.shape[1:]}, expected ({side}, {side})")
    if labels.size and labels.max() >= n_classes:
        raise IdxError(f"{labels_path}: label {labels.max()} outside 0..{n_classes - 1}")
    return images, labels
