"""nmr.uncertainty.signal_weight: the σ network's NLL weighs the signal
points (those the metrics score) more, so its σ there rises towards their
larger errors; weight 1 is the plain NLL."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from reproflow.nmr import models, train


def test_weighted_nll_weighs_points_and_reduces_to_the_plain_nll():
    y = np.zeros((1, 1, 2, 3), np.float32)
    y[..., 0] = [1.0, 0.0]  # reference: one point off by 1, one exact (mu 0)
    sigma = np.full((1, 1, 2, 1), 0.5, np.float32)
    off, exact = 1 / (2 * 0.25) + np.log(0.5), np.log(0.5)
    y[..., 2] = 1.0
    plain = float(keras.ops.convert_to_numpy(models.gaussian_nll(y[..., :2], sigma)))
    assert float(keras.ops.convert_to_numpy(models.weighted_gaussian_nll(y, sigma))) == pytest.approx(plain)
    y[..., 2] = [3.0, 1.0]
    weighted = float(keras.ops.convert_to_numpy(models.weighted_gaussian_nll(y, sigma)))
    assert weighted == pytest.approx((3 * off + exact) / 4, rel=1e-5)


def test_weights_ride_along_the_tiles_unscaled():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(1, 64, 128)).astype(np.float32) * 100
    weights = np.full((1, 64, 128), 7.0, np.float32)
    x, y = train.sample_tiles(inputs, [inputs], 4, np.random.default_rng(1), [weights])
    assert y.shape == (4, 32, 64, 2)
    assert np.all(y[..., 1] == 7.0)  # not divided by the tile norm as the targets are
    assert np.abs(y[..., 0]).max() < 1.0


def test_signal_points_are_the_metrics_points():
    reference = np.zeros((1, 4, 4))
    reference[0, 0, 0] = 1.0
    reference[0, 1, 1] = 0.005  # under 1% of max
    mu = np.zeros_like(reference)
    mu[0, 2, 2] = -0.02  # |mu| above 1%
    points = train.signal_points(reference, mu)
    assert points.sum() == 2 and points[0, 0, 0] == 1 and points[0, 2, 2] == 1


def test_signal_weight_raises_sigma_on_the_signal_points(tmp_path):
    """Signal points with 10x larger errors than the rest, in tiles the
    network cannot tell apart: unweighted, σ sits near the noise points'
    error; weighted 20x, nearer the signal points'."""
    rng = np.random.default_rng(0)
    shape = (3, 64, 128)
    # small inputs: the sigma floor, 1e-3 of each tile's norm, stays under the errors
    inputs = 0.01 * rng.normal(size=shape).astype(np.float32)
    references = np.zeros(shape, np.float32)
    references[:, ::8, ::8] = 1.0  # 1.6% signal points, max 1
    error = rng.normal(size=shape).astype(np.float32) * np.where(references > 0, 0.1, 0.001).astype(np.float32)
    mus = references + error
    options = dict(width=4, tiles=256, val_tiles=32, epochs=3, batch_size=16, learning_rate=0.03,
                   patience=5, lr_patience=5)
    signal = references[2] > 0
    ratio = {}
    for weight in (1.0, 20.0):
        model, _ = train.train_uncertainty(inputs[:2], references[:2], mus[:2], (inputs[2:], references[2:], mus[2:]),
                                           dict(options, signal_weight=weight), tmp_path / f"b{weight}", seed=0)
        sigma = models.uncertainty(model, inputs[2])
        ratio[weight] = float(np.mean(np.abs(error[2][signal]) <= 1.96 * sigma[signal]))
    assert ratio[20.0] > ratio[1.0] + 0.2, ratio
