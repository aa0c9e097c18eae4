"""Loading and preprocessing of the study's four data sets, per protocol.

`paper` follows the authors' code (REFERENCE.md, study 2): pixels to [0, 1],
the first 5,000 MNIST/Fashion training images dropped, StandardScaler then
PCA fit on the training split only; WDBC raw. The CNN sees the PCA
components as a 16x16 image. `clean` uses all training images, the same PCA
features for the FFNN, the raw images for the CNN and standardised WDBC.
scikit-learn's 8x8 digits follow the MNIST recipe (PCA keeps all 64
components, an 8x8 "image"); images under 16x16 are enlarged (pixel
repetition) so the paper's CNN (Table 1, valid convolutions) fits.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from reproflow.data import sha256_file
from reproflow.errors import ReproflowError
from reproflow.relu.idx import read_idx_pair

IDX_DATASETS = ("mnist", "fashion-mnist")
SKLEARN_DATASETS = ("wdbc", "digits")
PROTOCOLS = ("paper", "clean")
CNN_MIN_SIDE = 16  # the smallest input Table 1's valid convolutions accept
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "digits": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "wdbc": ["malignant", "benign"],  # scikit-learn's coding: 0 malignant
}
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}
IDX_NAMES = [file for images, labels, _ in IDX_FILES.values() for file in (images, labels)]


@dataclass
class RawData:
    """One data set before preprocessing; images (n, h, w) or features (n, f)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    pixel_max: float | None  # None: tabular features
    sha256: dict[str, str]


def array_sha256(*arrays: np.ndarray) -> str:
    """Checksum of in-memory data (the scikit-learn sets have no file)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def load_idx_dataset(name: str, folder: str | Path) -> RawData:
    """MNIST or Fashion-MNIST from the four downloaded IDX files in `folder`."""
    folder = Path(folder)
    parts = {split: read_idx_pair(folder / images, folder / labels, count=count)
             for split, (images, labels, count) in IDX_FILES.items()}
    return RawData(name, *parts["train"], *parts["test"], pixel_max=255.0,
                   sha256={f"{name}/{file}": sha256_file(folder / file) for file in IDX_NAMES})


def load_sklearn_dataset(name: str, test_fraction: float, split_seed: int) -> RawData:
    """WDBC or digits with a stratified train/test split (the authors split
    WDBC without a seed; `split_seed` makes ours repeatable)."""
    if name == "wdbc":
        x, y = load_breast_cancer(return_X_y=True)
        pixel_max = None
    elif name == "digits":
        x, y = load_digits(return_X_y=True)
        x, pixel_max = x.reshape(-1, 8, 8), 16.0
    else:
        raise ReproflowError(f"relu: unknown scikit-learn data set {name!r} (known: {SKLEARN_DATASETS})")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, stratify=y,
                                                        random_state=split_seed)
    return RawData(name, x_train, y_train, x_test, y_test, pixel_max, {name: array_sha256(x, y)})


def pca_features(x_train: np.ndarray, x_test: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray]:
    """StandardScaler then PCA, both fit on the training split only."""
    scaler = StandardScaler().fit(x_train)
    components = min(components, *x_train.shape)
    pca = PCA(components, svd_solver="full").fit(scaler.transform(x_train))
    return pca.transform(scaler.transform(x_train)), pca.transform(scaler.transform(x_test))


def as_cnn_images(x: np.ndarray) -> np.ndarray:
    """(n, k) with square k or (n, s, s) -> (n, S, S, 1), S >= 16 by pixel repetition."""
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ReproflowError(f"relu: {x.shape[1]} features do not form a square image for the CNN")
        x = x.reshape(-1, side, side)
    factor = math.ceil(CNN_MIN_SIDE / x.shape[1])
    if factor > 1:
        x = x.repeat(factor, axis=1).repeat(factor, axis=2)
    return x[..., None]


def preprocess(raw: RawData, protocol: str, *, pca_components: int, drop_first_train: int) -> dict[str, np.ndarray]:
    """Arrays of one (protocol, data set): features_*, labels, images_* for the CNN."""
    if protocol not in PROTOCOLS:
        raise ReproflowError(f"relu: unknown protocol {protocol!r} (known: {PROTOCOLS})")
    x_train, y_train = raw.x_train, raw.y_train
    if protocol == "paper" and raw.name in IDX_DATASETS:
        x_train, y_train = x_train[drop_first_train:], y_train[drop_first_train:]
    out = {"y_train": y_train.astype(np.int64), "y_test": raw.y_test.astype(np.int64)}
    if raw.pixel_max is None:  # tabular (WDBC): raw in paper, standardised in clean
        train, test = x_train.astype(np.float64), raw.x_test.astype(np.float64)
        if protocol == "clean":
            scaler = StandardScaler().fit(train)
            train, test = scaler.transform(train), scaler.transform(test)
        out["features_train"], out["features_test"] = train, test
    else:
        flat_train = x_train.reshape(len(x_train), -1) / raw.pixel_max
        flat_test = raw.x_test.reshape(len(raw.x_test), -1) / raw.pixel_max
        out["features_train"], out["features_test"] = pca_features(flat_train, flat_test, pca_components)
        # the CNN's input: the PCA components in paper (as the authors did), else the images
        images = ((out["features_train"], out["features_test"]) if protocol == "paper"
                  else (x_train / raw.pixel_max, raw.x_test / raw.pixel_max))
        out["images_train"], out["images_test"] = (as_cnn_images(x) for x in images)
    return {key: value.astype(np.float32) if key.startswith(("features", "images")) else value
            for key, value in out.items()}
