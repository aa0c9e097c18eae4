"""Study 3 networks: WNN-2D, tiling, cascade, uncertainty net, training."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from reproflow.nmr import models, simulate, train, ve  # noqa: E402


def test_wnn2d_is_the_authors_network():
    model = models.wnn2d("wnn")
    assert model.count_params() == 30_801
    assert model.output_shape == (None, 32, 64, 1)
    assert models.wnn2d("wnn_bf").count_params() == 30_600
    assert models.uncertainty_net().count_params() == 30_801


def test_tiles_wrap_around_and_untile():
    spectrum = np.arange(64 * 128, dtype=np.float32).reshape(64, 128)
    windows = models.tiles(spectrum)
    assert windows.shape == (4, 63, 127)
    (b1, _), (b2, _) = models.MARGIN
    # central block of each window is its output tile
    centre = windows[:, b1:b1 + 32, b2:b2 + 64]
    assert np.array_equal(models.untile(centre, spectrum.shape), spectrum)
    # the first window starts with wrapped rows/columns
    assert windows[0, 0, 0] == spectrum[-b1, -b2]
    with pytest.raises(ValueError):
        models.tiles(spectrum[:, :100])


def test_bias_free_one_pass_equals_normalised_tiles():
    model = models.wnn2d("wnn_bf")
    spectrum = np.random.default_rng(0).normal(size=(64, 128)).astype(np.float32)
    tiled = models.predict_tiled(model, spectrum)
    full = models.predict_full(models.full_size(model), spectrum)
    assert np.abs(tiled - full).max() < 1e-5 * np.abs(tiled).max()


def test_cascade_keeps_the_measured_echo():
    rng = np.random.default_rng(1)
    stages = [models.wnn2d("wnn", width=4), models.wnn2d("wnn_bf", width=4)]
    reference = rng.normal(size=(64, 128))
    for mode in ("echo", "antiecho"):
        measured = ve.apply_mask(reference, ve.mask_for(mode, reference.shape))
        seen = []
        out = models.cascade(stages, measured, mode, on_stage=lambda k, estimate: seen.append((k, estimate)))
        kept = ve.apply_mask(out, ve.mask_for(mode, out.shape))
        assert np.abs(kept - measured).max() < 1e-4 * np.abs(measured).max()
        # each stage is seen as the result is (the anti-echo's conjugated back), the last one is it
        assert [k for k, _ in seen] == [0, 1] and np.array_equal(seen[-1][1], out), mode
    assert models.damping(0) == pytest.approx(0.95) and models.damping(2) == pytest.approx(0.9875)


def test_uncertainty_sigma_floor_and_nll(tmp_path):
    model = models.uncertainty_net(width=4)
    sigma = models.uncertainty(model, np.zeros((64, 128), np.float32))
    assert sigma.shape == (64, 128)
    y = np.zeros((1, 2, 2, 2), np.float32)
    y[..., 0] = 1.0  # reference 1, mu 0
    small = float(keras.ops.convert_to_numpy(models.gaussian_nll(y, np.full((1, 2, 2, 1), 0.5, np.float32))))
    assert small == pytest.approx(1 / (2 * 0.25) + np.log(0.5), rel=1e-5)
    model.save(tmp_path / "u.keras")
    assert models.load(str(tmp_path / "u.keras")).count_params() == model.count_params()


def test_training_learns_resumes_and_logs(tmp_path):
    cfg = simulate.SimConfig(n1=32, n2=64, peaks=8)
    data = simulate.simulate_set(0, 4, cfg, 0.5)
    options = dict(width=8, tiles=64, val_tiles=32, epochs=2, batch_size=16, learning_rate=1e-3,
                   patience=5, lr_patience=5, damping=0.05)
    model, history = train.train_stage("wnn_bf", [], data, data, options, tmp_path / "backup", seed=0)
    assert [row["epoch"] for row in history] == [0, 1]
    assert all(np.isfinite(row["val_loss"]) for row in history)
    # a second stage trains on the first stage's cascade output
    second, _ = train.train_stage("wnn_bf", [model], data, data, dict(options, epochs=1),
                                  tmp_path / "backup2", seed=1)
    assert second.count_params() == model.count_params()


def test_uncertainty_training_fits_the_error_of_mu(tmp_path):
    """train_uncertainty fits sigma to the method's error |reference - mu| (per
    tile, in the input's norm): 10 times the error gives about 10 times the
    sigma. Training on the wrong target (mu = reference, or the input) would
    leave sigma at the 1e-3 floor or the same for both scales."""
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, 64, 128)).astype(np.float32)
    references = inputs + rng.normal(size=inputs.shape).astype(np.float32)  # what the method must fill in
    noise = rng.normal(size=inputs.shape).astype(np.float32)
    options = dict(width=4, tiles=128, val_tiles=32, epochs=2, batch_size=16, learning_rate=0.03,
                   patience=5, lr_patience=5)
    # the training tiles' inputs and their rms error at scale 1 (errors are linear in the scale)
    x, y = train.sample_tiles(inputs[:2], [references[:2], references[:2] + noise[:2]], 64,
                              np.random.default_rng(1))
    unit_error = float(np.sqrt(np.mean(np.square(y[..., 0] - y[..., 1]))))
    sigmas = {}
    for scale in (0.5, 5.0):
        mus = references + scale * noise
        model, history = train.train_uncertainty(inputs[:2], references[:2], mus[:2],
                                                 (inputs[2:], references[2:], mus[2:]), options,
                                                 tmp_path / f"backup{scale}", seed=0)
        assert [row["epoch"] for row in history] == [0, 1]
        assert all(np.isfinite(row["val_loss"]) for row in history)
        assert history[1]["loss"] < history[0]["loss"]  # the NLL goes down
        sigma = keras.ops.convert_to_numpy(model(x))
        assert sigma.min() >= np.float32(1e-3)  # sigma = 1e-3 + relu(0.01 x)
        assert 1 / 3 < sigma.mean() / (scale * unit_error) < 3, (scale, sigma.mean(), scale * unit_error)
        sigmas[scale] = float(sigma.mean())
    assert sigmas[5.0] / sigmas[0.5] > 4, sigmas
    # saved as the workflow does and loaded as the CLI does (safe mode, the Sigma layer registered)
    model.save(tmp_path / "sigma.keras")
    loaded = models.load(str(tmp_path / "sigma.keras"))
    spectrum_sigma = models.uncertainty(loaded, inputs[2])
    assert spectrum_sigma.shape == (64, 128) and (spectrum_sigma > 0).all()
    assert np.allclose(spectrum_sigma, models.uncertainty(model, inputs[2]), rtol=1e-5)


def test_a_nan_loss_stops_training_naming_the_stage_and_epoch(tmp_path):
    """A NaN in the training data makes the loss NaN: the training stops with
    an error naming the stage and epoch, and returns no model to save."""
    from reproflow.errors import ReproflowError

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, *models.TILE_IN, 1)).astype("float32")
    y = rng.normal(size=(8, *models.TILE_OUT, 1)).astype("float32")
    y[0, 0, 0, 0] = np.nan
    options = {"learning_rate": 1e-3, "lr_patience": 2, "patience": 3, "epochs": 3, "batch_size": 4}
    with pytest.raises(ReproflowError, match=r"cascade stage 1 \(wnn_bf\): epoch 1: loss = nan"):
        train.fit(models.wnn2d("wnn_bf", 4), (x, y), (x, y), options, tmp_path / "backup",
                  what="training of cascade stage 1 (wnn_bf)")
