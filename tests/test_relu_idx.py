"""The IDX reader accepts good files and rejects damaged or swapped ones."""

import gzip
import struct

import numpy as np
import pytest

from reproflow.relu.idx import IdxError, read_idx, read_idx_pair


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    header = struct.pack(">HBB", 0, magic_type, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path, data: bytes):
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 3, 9, 1, 1], dtype=np.uint8)
    return (images, labels, write(tmp_path / "img.gz", idx_bytes(images)),
            write(tmp_path / "lab.gz", idx_bytes(labels)))


def test_reads_gzipped_and_plain_files(pair, tmp_path):
    images, labels, img, lab = pair
    got_images, got_labels = read_idx_pair(img, lab, count=5)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    plain = write(tmp_path / "img.idx", idx_bytes(images))
    np.testing.assert_array_equal(read_idx(plain, ndim=3), images)


def test_truncated_data_is_rejected(pair, tmp_path):
    images = pair[0]
    short = write(tmp_path / "short.gz", idx_bytes(images)[:-10])
    with pytest.raises(IdxError, match="truncated"):
        read_idx(short)


def test_truncated_gzip_stream_is_rejected(pair, tmp_path):
    cut = tmp_path / "cut.gz"
    cut.write_bytes(pair[2].read_bytes()[:200])
    with pytest.raises(IdxError, match="truncated or corrupt"):
        read_idx(cut)


def test_trailing_data_is_rejected(pair, tmp_path):
    long = write(tmp_path / "long.gz", idx_bytes(pair[0]) + b"\0" * 3)
    with pytest.raises(IdxError, match="trailing"):
        read_idx(long)


def test_wrong_magic_is_rejected(pair, tmp_path):
    floats = write(tmp_path / "float.gz", idx_bytes(pair[0], magic_type=0x0D))
    with pytest.raises(IdxError, match="magic number 0x00000d03"):
        read_idx(floats)
    junk = write(tmp_path / "junk.gz", b"\x1f\x8bnot an idx file at all")
    with pytest.raises(IdxError, match="magic"):
        read_idx(junk)


def test_swapped_files_are_rejected(pair):
    _, _, img, lab = pair
    with pytest.raises(IdxError, match="expected images"):
        read_idx_pair(lab, img)


def test_label_count_must_match_images(pair, tmp_path):
    fewer = write(tmp_path / "fewer.gz", idx_bytes(pair[1][:4]))
    with pytest.raises(IdxError, match="5 images but .* 4 labels"):
        read_idx_pair(pair[2], fewer)


def test_item_count_and_labels_are_checked(pair, tmp_path):
    with pytest.raises(IdxError, match="5 items, expected 60000"):
        read_idx_pair(pair[2], pair[3], count=60_000)
    bad = write(tmp_path / "bad.gz", idx_bytes(np.array([0, 1, 2, 3, 12])))
    with pytest.raises(IdxError, match="label 12"):
        read_idx_pair(pair[2], bad)
