"""Hostile data files: decompression bombs and lying archives through
`reproflow.download.extract`, IDX files whose headers claim more than they
hold through `reproflow.relu.idx.read_idx`, data paths that are folders or
dangling links, outputs that are inputs (relu and data jobs), NaN in
training, and corrupt run manifests through `reproflow.tracking.publish`
(as rule mlflow_publish calls it)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bad_inputs.hostile import Case

REPO = Path(__file__).resolve().parents[2]
REGISTRY_SCHEMA = str(REPO / "workflow/schemas/datasets.schema.yaml")
MB = 2**20
ZEROS = bytes(MB)


# -- archives ---------------------------------------------------------------------------------
def zip_of(members: list[tuple[str, int]], name: str = "a.zip") -> Callable[[Path], None]:
    """A deflated zip whose members are `size` bytes of zeros each (about 1000:1)."""
    def make(folder: Path) -> None:
        with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, size in members:
                info = zipfile.ZipInfo(member)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as handle:
                    for _ in range(size // MB):
                        handle.write(ZEROS)
                    handle.write(bytes(size % MB))
    return make


def duplicate_zip(folder: Path) -> None:
    with zipfile.ZipFile(folder / "a.zip", "w") as archive:
        archive.writestr("data.txt", "first\n")
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")         # zipfile warns "Duplicate name", and writes it
            archive.writestr("data.txt", "second, written over the first\n")


def tar_of(members: list[tuple[str, int]], name: str = "a.tar.gz") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        with tarfile.open(folder / name, "w:gz", compresslevel=1) as archive:
            for member, size in members:
                info = tarfile.TarInfo(member)
                info.size = size
                archive.addfile(info, ZeroReader(size))
    return make


class ZeroReader(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def zip_member_lies(folder: Path) -> None:
    """A member whose headers say 10 bytes but whose data inflate to 100,000."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("small.txt", b"x" * 100_000)
    data = bytearray(buffer.getvalue())
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 10)               # local header: uncompressed size
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)             # central directory: uncompressed size
    (folder / "a.zip").write_bytes(bytes(data))


def extract_case(id: str, klass: str, make: Callable[[Path], None], expect: list[str], archive: str = "a.zip",
                 target: str = "{tmp}/out", max_bytes: int | None = None, **extra) -> Case:
    kwargs = {"archive": f"{{tmp}}/{archive}", "target_dir": target}
    if max_bytes is not None:
        kwargs["max_bytes"] = max_bytes
    return Case(id, klass, make, expect, runner="entry", entry="reproflow.download:extract", kwargs=kwargs,
                memory_mb=800, **extra)


# -- IDX --------------------------------------------------------------------------------------
def idx_header(shape: tuple[int, ...]) -> bytes:
    return struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def gz_file(name: str, header: bytes, zeros: int = 0, tail: bytes = b"") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        with gzip.open(folder / name, "wb", compresslevel=1) as handle:
            handle.write(header)
            for _ in range(zeros // MB):
                handle.write(ZEROS)
            handle.write(bytes(zeros % MB) + tail)
    return make


def plain_file(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def idx_case(id: str, klass: str, make: Callable[[Path], None], path: str, expect: list[str], ndim: int = 3,
             memory_mb: int = 600, **extra) -> Case:
    return Case(id, klass, make, expect, runner="entry", entry="reproflow.relu.idx:read_idx",
                kwargs={"path": path, "ndim": ndim}, memory_mb=memory_mb, **extra)


def mnist_folder(folder: Path) -> Path:
    """A tiny, valid MNIST-layout folder (3 train / 2 test items), as relu_data reads it."""
    mnist = folder / "mnist"
    mnist.mkdir()
    for prefix, count in (("train", 3), ("t10k", 2)):
        images = np.zeros((count, 28, 28), np.uint8)
        (mnist / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_header(images.shape) + images.tobytes()))
        (mnist / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_header((count,)) + bytes(count)))
    return mnist


RELU_OPTIONS = {"test_fraction": 0.3, "split_seed": 0, "pca_components": 16, "drop_first_train": 0}


def prepare_case(id: str, make: Callable[[Path], None], expect: list[str], npz: str, meta: str,
                 idx: str = "{tmp}/mnist") -> Case:
    return Case(id, "output is an input", make, expect, runner="entry", entry="reproflow.relu.jobs:prepare",
                kwargs={"name": "mnist", "protocol": "paper", "options": RELU_OPTIONS, "idx_folder": idx,
                        "npz_path": npz, "meta_path": meta}, memory_mb=2000)


# -- relu training job ------------------------------------------------------------------------
def relu_job_inputs(features_scale: float = 1.0, nan: bool = False, features: int = 4) -> Callable[[Path], None]:
    """A prepared WDBC-like data set (npz + meta);
    `features` of +-`features_scale` (3e38, near float32's largest: finite, but the first
    layer's sums overflow when the initial weights add up: with 16 features and seed 0's
    weights they do; whether they do is the seed's draw)."""
    def make(folder: Path) -> None:
        rng = np.random.default_rng(0)
        x = (np.sign(rng.normal(size=(40, features))) * features_scale).astype(np.float32)
        if nan:
            x[3, 2] = np.nan
        y = (x[:, 0] > 0).astype(np.int64)
        np.savez(folder / "data.npz", features_train=x[:30], features_test=x[30:], y_train=y[:30], y_test=y[30:])
        (folder / "data.json").write_text(json.dumps({
            "dataset": "wdbc", "sha256": {"wdbc": "0" * 64}, "class_names": ["malignant", "benign"],
            "n_classes": 2, "n_train": 30, "n_test": 10, "features": features, "image_shape": None}))
    return make


TRAIN_OPTIONS = {"folds": 2, "epochs": 2, "batch_size": 8, "learning_rate": 1.0, "dropout": 0.0,
                 "ffnn_hidden": [8], "wdbc_hidden": [8], "pca_components": 16, "paper_cv_seed": 10,
                 "drop_first_train": 0, "clean_cv": False}
TRAIN_FILES = [("metrics", "metrics.json"), ("folds", "folds.csv"), ("confusion_csv", "confusion.csv"),
               ("confusion_png", "confusion.png"), ("model", "model.keras"), ("curves", "curves.csv"),
               ("run", "run.json")]
# the rule's job: its configurations' files, key by key (one configuration unless said)
TRAIN_OUT = {key: [f"{{tmp}}/job/{name}"] for key, name in TRAIN_FILES}
TRAIN_CONFIGURATION = {"model": "ffnn", "head": "relu", "seed": 0}
TRAIN_BACKUP = "{tmp}/job/checkpoints"


def train_case(id: str, klass: str, make: Callable[[Path], None], expect: list[str],
               out: dict[str, list[str]] | None = None, configurations: list[dict] | None = None,
               **extra) -> Case:
    return Case(id, klass, make, expect, runner="entry", entry="reproflow.relu.jobs:train_jobs",
                kwargs={"npz": "{tmp}/data.npz", "meta": "{tmp}/data.json", "out": out or TRAIN_OUT,
                        "configurations": configurations or [TRAIN_CONFIGURATION], "dataset": "wdbc",
                        "protocol": "clean", "options": TRAIN_OPTIONS, "backup_dir": TRAIN_BACKUP},
                memory_mb=8000, timeout=240, **extra)


def relu_checkpoint(file: str, text: str) -> Callable[[Path], None]:
    """The inputs, and the checkpoint folder an interrupted job of these inputs
    left, with `file` (under its configuration's folder) holding `text`."""
    def make(folder: Path) -> None:
        relu_job_inputs()(folder)
        backup = folder / "job" / "checkpoints"
        (backup / "ffnn-relu" / "seed0" / "checkpoint").mkdir(parents=True)
        (backup / "inputs.json").write_text(json.dumps({
            "npz_sha256": hashlib.sha256((folder / "data.npz").read_bytes()).hexdigest(),
            "meta_sha256": hashlib.sha256((folder / "data.json").read_bytes()).hexdigest(),
            "protocol": "clean", "dataset": "wdbc", "options": TRAIN_OPTIONS}))
        (backup / "ffnn-relu" / "seed0" / file).write_text(text)
    return make


# -- the datasets card and downloads -------------------------------------------------------------
def card_inputs(resource_is_folder: bool = False, lock: object | None = None) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / "res" / "toy").mkdir(parents=True)
        if resource_is_folder:
            (folder / "res" / "toy" / "a.csv").mkdir()
        else:
            (folder / "res" / "toy" / "a.csv").write_text("x\n1\n")
        (folder / "lock.json").write_text(json.dumps(lock if lock is not None else {}))
    return make


CARD_ENTRIES = {"toy": {"licence": "CC0", "citation": "tests", "description": "toy",
                        "files": {"a.csv": {"urls": ["https://example.org/a.csv"], "sha256": None, "size": None}}}}


def card_case(id: str, klass: str, make: Callable[[Path], None], expect: list[str], out: str = "{tmp}/card.csv") -> Case:
    return Case(id, klass, make, expect, runner="entry", entry="reproflow.data:datasets_card",
                kwargs={"entries": CARD_ENTRIES, "lockfile": "{tmp}/lock.json", "out_csv": out,
                        "resources": "{tmp}/res"})


def mirror_with(kind: str) -> Callable[[Path], None]:
    """A registry of one file and a mirror folder where that file is a folder or a dangling link."""
    def make(folder: Path) -> None:
        (folder / "mirror" / "toy").mkdir(parents=True)
        target = folder / "mirror" / "toy" / "a.csv"
        if kind == "folder":
            target.mkdir()
        else:
            os.symlink(folder / "gone.csv", target)
        (folder / "registry.yaml").write_text(
            "datasets:\n  toy:\n    description: toy\n    licence: CC0\n    citation: tests\n    files:\n"
            "      a.csv: {urls: ['https://example.org/a.csv'], sha256: null, size: null}\n")
    return make


def fetch_case(id: str, make: Callable[[Path], None], expect: list[str], lockfile: str = "{tmp}/lock.json") -> Case:
    return Case(id, "data path", make, expect, runner="entry", entry="reproflow.download:fetch_registry_file",
                kwargs={"registry": "{tmp}/registry.yaml", "schema": REGISTRY_SCHEMA, "dataset": "toy",
                        "name": "a.csv", "dest": "{tmp}/res/toy/a.csv", "mirror": "{tmp}/mirror", "retries": 0,
                        "lockfile": lockfile},
                may_create=["res", "res/toy"])


# -- run manifests: publish refuses a corrupt one, naming file and key, before the store --------
def manifest_body(**changes: object) -> dict:
    body = {"format": "reproflow-run/1", "run_name": "clean/wdbc/ffnn-relu/seed0", "params": {"lr": "0.1"},
            "tags": {"protocol": "clean"}, "metrics": [{"step": 0, "time": 1, "values": {"loss": 0.5}}],
            "artifacts": [], "models": [], "datasets": []}
    return {**body, **changes}


def manifests(body: bytes | dict | None, folder_instead: bool = False, summary: bool = True) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        path = folder / "run.json"
        if folder_instead:
            path.mkdir()
        else:
            path.write_bytes(body if isinstance(body, bytes) else json.dumps(body).encode())
        if summary:
            (folder / "summary.json").write_text(json.dumps(manifest_body(run_name="summary")))
    return make


def publish_case(id: str, make: Callable[[Path], None], expect: list[str]) -> Case:
    return Case(id, "corrupt, partial or foreign file", make, expect, runner="entry", entry="reproflow.tracking:publish",
                kwargs={"study": "relu", "run_name": "hostile", "summary_rule": "relu_summary", "config_hash": "0",
                        "manifests": {"relu_train": ["{tmp}/run.json"], "relu_summary": ["{tmp}/summary.json"]},
                        "uri": "sqlite:///{tmp}/store/mlflow.db"}, memory_mb=2500)


CASES = [
    # -- archives: bombs, duplicates, lies --------------------------------------------------------
    extract_case("archive-zip-bomb", "bounded resources", zip_of([("zeros.bin", 200 * MB)]),
                 ["a.zip", "declare more than 52428800 bytes", "zeros.bin", "a decompression bomb"],
                 max_bytes=50 * MB),
    extract_case("archive-zip-many-members-bomb", "bounded resources",
                 zip_of([(f"part{i:03d}.bin", MB) for i in range(60)]),
                 ["a.zip", "declare more than 20971520 bytes", "part020.bin"], max_bytes=20 * MB),
    extract_case("archive-targz-bomb", "bounded resources", tar_of([("zeros.bin", 120 * MB)]),
                 ["a.tar.gz", "declare more than 10485760 bytes", "zeros.bin"], archive="a.tar.gz",
                 max_bytes=10 * MB),
    extract_case("archive-targz-bomb-late-member", "bounded resources",
                 tar_of([("small.txt", 100), ("zeros.bin", 120 * MB)]),
                 ["a.tar.gz", "at 'zeros.bin'", "past the extraction cap"], archive="a.tar.gz", max_bytes=10 * MB),
    extract_case("archive-zip-duplicate-member", "bounded resources", duplicate_zip,
                 ["a.zip", "member 'data.txt' appears twice", "overwrite each other"]),
    extract_case("archive-tar-duplicate-member", "bounded resources", tar_of([("dir/a.txt", 5), ("dir/a.txt", 7)], "a.tar"),
                 ["a.tar", "member 'dir/a.txt' appears twice"], archive="a.tar"),
    extract_case("archive-zip-member-lies-about-size", "bounded resources", zip_member_lies,
                 ["a.zip", "is corrupt or truncated", "Bad CRC-32"]),
    extract_case("archive-target-is-its-folder", "output is an input", zip_of([("a.txt", 10)]),
                 ["a.zip", "is or holds the archive itself"], target="{tmp}"),
    extract_case("archive-dangling-link", "data path", lambda f: os.symlink(f / "gone.zip", f / "a.zip"),
                 ["a.zip is a dangling symbolic link", "gone.zip"]),
    extract_case("archive-is-a-folder", "data path", lambda f: (f / "a.zip").mkdir(),
                 ["a.zip is a folder", "expected a zip or tar file"]),

    # -- IDX: headers that claim more than they hold ------------------------------------------------
    idx_case("idx-gzip-bomb-past-mnist-size", "bounded resources",
             gz_file("train-images-idx3-ubyte.gz", idx_header((60000, 28, 28)), zeros=300 * MB),
             "{tmp}/train-images-idx3-ubyte.gz",
             ["train-images-idx3-ubyte.gz", "has trailing data: at least", "says 47040000"]),
    idx_case("idx-gzip-bomb-of-zeros", "bounded resources", gz_file("train-images-idx3-ubyte.gz", b"", zeros=10 * MB),
             "{tmp}/train-images-idx3-ubyte.gz", ["train-images-idx3-ubyte.gz", "magic number 0x00000000"]),
    idx_case("idx-header-claims-4g-items-plain", "bounded resources",
             plain_file("labels-idx1-ubyte", idx_header((2**32 - 1,)) + bytes(10)), "{tmp}/labels-idx1-ubyte",
             ["labels-idx1-ubyte", "truncated: 10 data bytes", "says 4294967295"], ndim=1),
    idx_case("idx-header-claims-terabytes-gz", "bounded resources",
             gz_file("images-idx3-ubyte.gz", idx_header((2**32 - 1, 28, 28))), "{tmp}/images-idx3-ubyte.gz",
             ["images-idx3-ubyte.gz", "claims 3367254359280 data bytes", "more than a gzip file of"]),
    idx_case("idx-header-claims-past-memory", "bounded resources",
             gz_file("labels-idx1-ubyte.gz", idx_header((2_000_000_000,)), tail=np.random.default_rng(0).bytes(3 * MB)),
             "{tmp}/labels-idx1-ubyte.gz",
             ["labels-idx1-ubyte.gz", "claims: 2000000000 bytes", "bytes of memory", "refusing to allocate"], ndim=1),
    idx_case("idx-gzip-shorter-than-header-says", "bounded resources",
             gz_file("labels-idx1-ubyte.gz", idx_header((1000,)), zeros=10), "{tmp}/labels-idx1-ubyte.gz",
             ["labels-idx1-ubyte.gz", "truncated: 10 data bytes", "says 1000"], ndim=1),
    idx_case("idx-path-is-a-folder", "data path", lambda f: (f / "images.gz").mkdir(), "{tmp}/images.gz",
             ["images.gz: is a folder", "expected an IDX file"]),
    idx_case("idx-dangling-link", "data path", lambda f: os.symlink(f / "gone.gz", f / "images.gz"),
             "{tmp}/images.gz", ["images.gz: a dangling symbolic link", "gone.gz"]),

    # -- relu jobs: outputs that are inputs, NaN ------------------------------------------------------
    prepare_case("relu-data-output-is-input", mnist_folder, ["train-images-idx3-ubyte.gz", "is the input"],
                 npz="{tmp}/mnist/train-images-idx3-ubyte.gz", meta="{tmp}/meta.json"),
    prepare_case("relu-data-output-inside-input-folder", mnist_folder, ["lies inside the input folder", "mnist"],
                 npz="{tmp}/data.npz", meta="{tmp}/mnist/meta.json"),
    prepare_case("relu-data-idx-dangling-link",
                 lambda f: (mnist_folder(f) / "train-labels-idx1-ubyte.gz").unlink() or os.symlink(
                     f / "gone.gz", f / "mnist" / "train-labels-idx1-ubyte.gz"),
                 ["train-labels-idx1-ubyte.gz: a dangling symbolic link"], npz="{tmp}/data.npz", meta="{tmp}/meta.json"),
    train_case("relu-train-output-is-input", "output is an input", relu_job_inputs(),
               ["data.npz", "is the input"], out={**TRAIN_OUT, "metrics": ["{tmp}/data.npz"]}),
    # refused before the first configuration trains: nothing of it written
    train_case("relu-train-second-configuration-output-is-input", "output is an input", relu_job_inputs(),
               ["data.npz", "is the input"],
               configurations=[TRAIN_CONFIGURATION, {**TRAIN_CONFIGURATION, "seed": 1}],
               out={key: [f"{{tmp}}/job/{name}", "{tmp}/data.npz" if key == "model" else f"{{tmp}}/job1/{name}"]
                    for key, name in TRAIN_FILES}),
    train_case("relu-train-truncated-checkpoint-state", "corrupt, partial or foreign file",
               relu_checkpoint("checkpoint/state.json", '{"epochs_done": 3, "weigh'),
               ["checkpoint/state.json", "not a usable epoch checkpoint", "remove"]),
    train_case("relu-train-checkpoint-without-weights", "corrupt, partial or foreign file",
               relu_checkpoint("checkpoint/state.json",
                               json.dumps({"epochs_done": 1, "weights": "epoch1.weights.h5",
                                           "extra": {"history": [{"step": 0, "fold": 0, "epoch": 1, "loss": 1.0}]}})),
               ["epoch1.weights.h5", "not a usable epoch checkpoint"]),
    train_case("relu-train-truncated-finished-record", "corrupt, partial or foreign file",
               relu_checkpoint("finished.json", '{"out": {"metrics": '),
               ["finished.json", "not a usable record of a finished configuration", "remove"]),
    train_case("relu-train-nan-in-prepared-data", "non-finite or out-of-range number", relu_job_inputs(nan=True),
               ["data.npz: array 'features_train'", "NaN or infinite", "first at index (3, 2)"]),
    train_case("relu-train-diverges-to-nan", "non-finite or out-of-range number", relu_job_inputs(features_scale=3e38, features=16),
               ["relu job clean/wdbc/ffnn-relu/seed0, final model, epoch 1", "training diverged"],
               may_create=["job", "job/checkpoints*"]),  # the checkpoint folder stays, as after a kill

    # -- the datasets card and downloads ---------------------------------------------------------
    card_case("data-card-output-is-lockfile", "output is an input", card_inputs(), ["lock.json", "is the input"],
              out="{tmp}/lock.json"),
    card_case("data-card-output-is-resource", "output is an input", card_inputs(), ["a.csv", "is the input"],
              out="{tmp}/res/toy/a.csv"),
    card_case("data-card-resource-is-folder", "data path", card_inputs(resource_is_folder=True),
              ["res/toy/a.csv: is a folder", "expected a data file"]),
    card_case("data-card-lockfile-entry-corrupt", "corrupt, partial or foreign file", card_inputs(lock={"toy/a.csv": {"sha256": "abc"}}),
              ["lock.json", "entry 'toy/a.csv'", "64 hex digits"]),
    fetch_case("download-mirror-file-is-folder", mirror_with("folder"),
               ["mirror/toy/a.csv is a folder", "expected the file", "could not download toy/a.csv"]),
    fetch_case("download-mirror-file-dangling-link", mirror_with("dangling"),
               ["mirror/toy/a.csv is a dangling symbolic link", "gone.csv"]),
    fetch_case("download-lockfile-is-folder", lambda f: (mirror_with("folder")(f), (f / "lock").mkdir()),
               ["checksum lockfile", "lock is a folder", "expected a JSON file"], lockfile="{tmp}/lock"),

    # -- run manifests: publish names the file and the key, and touches no store -------------------
    publish_case("manifest-truncated", manifests(json.dumps(manifest_body()).encode()[:60]),
                 ["run.json: cannot read a job's run manifest"]),
    publish_case("manifest-binary-junk", manifests(np.random.default_rng(1).bytes(4096)),
                 ["run.json: cannot read a job's run manifest"]),
    publish_case("manifest-is-a-folder", manifests(None, folder_instead=True), ["run.json: is a folder", "expected a job's run manifest"]),
    publish_case("manifest-wrong-type", manifests([1, 2, 3]),
                 ["run.json: not a job's run manifest", "expected a JSON object with"]),
    publish_case("manifest-unknown-format", manifests(manifest_body(format="journal")),
                 ["run.json: run manifest key 'format' is 'journal'", "reproflow-run/1"]),
    publish_case("manifest-metric-not-a-number",
                 manifests(manifest_body(metrics=[{"step": 0, "time": 1, "values": {"loss": "high"}}])),
                 ["run.json: run manifest metrics[0] value 'loss' is 'high'", "finite number"]),
    publish_case("manifest-param-not-a-string", manifests(manifest_body(params={"lr": 0.1})),
                 ["run.json: run manifest params['lr'] is 0.1", "expected a string"]),
    publish_case("manifest-empty-file", manifests(b""), ["run.json: cannot read a job's run manifest"]),
    publish_case("manifest-deep-nesting", manifests(b"[" * 100_000 + b"]" * 100_000),
                 ["run.json: cannot read a job's run manifest"]),
    publish_case("manifest-names-a-missing-output",
                 manifests(manifest_body(artifacts=[{"path": "/nonexistent/model.keras", "artifact_path": None,
                                                     "folder": False}])),
                 ["run.json: run manifest names /nonexistent/model.keras, which does not exist", "rerun the job"]),
    publish_case("manifest-model-without-example",
                 manifests(manifest_body(models=[{"path": "m.keras", "name": "model", "modules": [], "example": {}}])),
                 ["run.json: run manifest models[0]['example']", "input rows"]),
    publish_case("manifest-summary-missing", manifests(manifest_body(), summary=False),
                 ["summary.json: no such file", "expected a job's run manifest"]),
]
