"""The shared .npz and CSV files (reproflow.arrays) every study's jobs read and write."""

import csv
import pickle
import zipfile

import numpy as np
import pytest

from reproflow.arrays import load_npz, open_npz, save_npz, write_csv
from reproflow.errors import ReproflowError


@pytest.mark.parametrize("compress", [True, False])
def test_saved_arrays_load_back_as_numpy_reads_them(tmp_path, compress):
    path = tmp_path / "a.npz"
    x, names = np.arange(12, dtype=np.float32).reshape(3, 4), np.array(["tcp", "udp"])
    save_npz(path, compress=compress, x=x, names=names)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    assert {info.compress_type for info in zipfile.ZipFile(path).infolist()} == {method}
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["x"], x)
    loaded = load_npz(path, ("x", "names"))
    np.testing.assert_array_equal(loaded["names"], names)
    assert loaded["x"].dtype == np.float32
    assert not list(tmp_path.glob(".*partial*"))


def test_a_nan_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "a.npz"
    with pytest.raises(ReproflowError, match=r"a\.npz: array 'x': 1 of 3 values are NaN"):
        save_npz(path, x=np.array([1.0, np.nan, 2.0]))
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_an_input_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    save_npz(path, x=np.ones(2))
    with pytest.raises(ReproflowError, match="is the input"):
        save_npz(path, [path], x=np.zeros(2))
    np.testing.assert_array_equal(load_npz(path)["x"], np.ones(2))


def bad_files():
    """name -> (make the file, what the message says)."""
    def truncated(path):
        save_npz(path, x=np.arange(1000.0))
        path.write_bytes(path.read_bytes()[:300])

    def damaged_member(path):
        save_npz(path, x=np.arange(1000.0))
        data = bytearray(path.read_bytes())
        data[100:140] = bytes(40)   # inside the deflated member: the archive opens, the array does not
        path.write_bytes(bytes(data))

    def object_array(path):
        objects = np.empty(2, dtype=object)
        objects[:] = [{"a": 1}, [2]]
        np.savez(path, x=objects)

    def single_npy(path):
        with open(path, "wb") as handle:   # np.save would add .npy to the name
            np.save(handle, np.ones(3))

    return {
        "missing": (lambda path: None, "no such file"),
        "folder": (lambda path: path.mkdir(), "is a folder"),
        "npy": (single_npy, "a single .npy array"),
        "pickle": (lambda path: path.write_bytes(pickle.dumps({"x": [1.0]})), "not a readable .npz file"),
        "text": (lambda path: path.write_text("x,y\n1,2\n"), "not a readable .npz file"),
        "truncated": (truncated, "not a readable .npz file"),
        "damaged member": (damaged_member, "not a readable .npz file"),
        "object array": (object_array, "allow_pickle=False"),
        "lacks a key": (lambda path: np.savez(path, y=np.ones(2)), "lacks the arrays x; expected the test's arrays"),
        "nan": (lambda path: np.savez(path, x=np.array([0.0, np.inf])), "array 'x': 1 of 2 values are NaN or infinite"),
    }


@pytest.mark.parametrize("kind", list(bad_files()))
def test_a_bad_npz_is_refused_naming_the_file_and_what_was_expected(tmp_path, kind):
    make, says = bad_files()[kind]
    path = tmp_path / "in.npz"
    make(path)
    with pytest.raises(ReproflowError) as raised:
        load_npz(path, ("x",), "the test's arrays")
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and says in message, message
    assert ("expected finite numbers" if kind == "nan" else "expected the test's arrays") in message, message


def test_open_npz_reads_members_on_access(tmp_path):
    path = tmp_path / "a.npz"
    save_npz(path, x=np.arange(3), y=np.ones(2))
    with open_npz(path, ("x",)) as data:
        assert sorted(data.files) == ["x", "y"]
        np.testing.assert_array_equal(data["x"], np.arange(3))
    with pytest.raises(ReproflowError, match="lacks the arrays z"):
        open_npz(path, ("z",))


def test_csv_rows_keep_every_column_in_first_seen_order(tmp_path):
    path = tmp_path / "history.csv"
    write_csv([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25, "val_loss": 0.3}], path)
    with open(path, newline="") as handle:
        assert list(csv.reader(handle)) == [["epoch", "loss", "val_loss"], ["1", "0.5", ""], ["2", "0.25", "0.3"]]


def test_csv_fields_pick_the_columns(tmp_path):
    path = tmp_path / "t.csv"
    write_csv([{"a": 1, "b": 2}], path, fields=["b"])
    assert path.read_text().splitlines() == ["b", "2"]


def test_a_nan_in_a_csv_row_is_refused_unless_nan_is_allowed(tmp_path):
    path = tmp_path / "history.csv"
    rows = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": float("nan")}]
    with pytest.raises(ReproflowError, match=r"history\.csv: row 2, column 'loss' is nan; expected a finite number"):
        write_csv(rows, path)
    assert not path.exists()
    write_csv(rows, path, finite=False)
    assert path.read_text().splitlines()[-1] == "2,nan"
