"""Study 3 training resumes exactly: a job killed and rerun ends with the
weights and history of one uninterrupted run (reproflow.resume)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from reproflow.nmr import train  # noqa: E402

EPOCHS = 4
# a high learning rate and lr_patience 1 so the plateau decay acts within the run
OPTIONS = {"width": 3, "damping": 0.05, "tiles": 48, "val_tiles": 16, "epochs": EPOCHS, "batch_size": 8,
           "learning_rate": 0.3, "lr_factor": 0.5, "patience": 10, "lr_patience": 1}


class Killed(Exception):
    """Stands for the job being killed."""


class KillAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Killed


class KillAfterLastEpoch(keras.callbacks.Callback):
    """Killed once the last epoch is checkpointed, before the job writes its outputs."""

    last = -1

    def on_epoch_end(self, epoch, logs=None):
        self.last = epoch

    def on_train_end(self, logs=None):
        if self.last == EPOCHS - 1:
            raise Killed


def spectra(seed: int, count: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {key: rng.normal(size=(count, 32, 64)).astype(np.float32) for key in ("echo", "antiecho", "reference")}


def run(backup, callbacks=()):
    return train.train_stage("wnn_bf", [], spectra(1, 2), spectra(2, 1), OPTIONS, backup, seed=7,
                             callbacks=callbacks)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    return run(tmp_path_factory.mktemp("straight"))


def assert_same_run(resumed, straight):
    (model, history), (model_0, history_0) = resumed, straight
    assert [row["epoch"] for row in history] == list(range(EPOCHS))
    for row, row_0 in zip(history, history_0):
        assert row == pytest.approx(row_0, rel=1e-5)
    for weights, weights_0 in zip(model.get_weights(), model_0.get_weights()):
        np.testing.assert_allclose(weights, weights_0, rtol=1e-5, atol=1e-7)


def test_killed_mid_training_resumes_exactly(tmp_path, straight):
    assert len({row["learning_rate"] for row in straight[1]}) > 1, "the schedule should act in this run"
    with pytest.raises(Killed):
        run(tmp_path, [KillAfterEpoch(1)])
    assert_same_run(run(tmp_path), straight)


def test_killed_after_the_last_epoch_gives_the_whole_history(tmp_path, straight):
    # was: the rerun trained no epoch and returned no history (jobs.py: min() of an empty sequence)
    with pytest.raises(Killed):
        run(tmp_path, [KillAfterLastEpoch()])
    assert_same_run(run(tmp_path), straight)


def test_whole_spectrum_training_resumes_and_reconstructs(tmp_path):
    options = {**OPTIONS, "fit": "whole", "batch_size": 2, "learning_rate": 0.01}
    data = spectra(1, 2), spectra(2, 1)
    model, history = train.train_stage("wnn_bf", [], *data, options, tmp_path / "straight", seed=7)
    assert len(history) == EPOCHS and all(np.isfinite(row["val_loss"]) for row in history)
    with pytest.raises(Killed):
        train.train_stage("wnn_bf", [], *data, options, tmp_path / "killed", seed=7, callbacks=[KillAfterEpoch(1)])
    assert_same_run(train.train_stage("wnn_bf", [], *data, options, tmp_path / "killed", seed=7), (model, history))
    from reproflow.nmr import models
    assert models.cascade([model], data[1]["echo"][0]).shape == (32, 64)
    with pytest.raises(train.ReproflowError, match="bias-free"):
        train.train_stage("wnn", [], *data, options, tmp_path / "wnn", seed=7)


def test_a_backup_of_other_settings_or_data_is_never_resumed(tmp_path, caplog):
    """A stage's backup stays after its job (one more stage, added later, reuses the finished
    ones), so a job of other settings or data can meet it: it trains afresh, as in an empty
    folder, instead of taking the other job's weights after their last epoch."""
    from bad_inputs.hostile_jobs import nmr_set

    from reproflow.nmr.jobs import train_stage_job

    sets = {name: str(nmr_set(tmp_path / f"{name}.npz", count=1)) for name in ("train", "val")}

    def job(folder, backup, options):
        out = tmp_path / folder
        return train_stage_job(**sets, previous=[], out=str(out / "stage0.keras"), curves=str(out / "curves.csv"),
                               run_out=str(out / "run.json"), backup=str(tmp_path / backup),
                               architecture="wnn_bf", stage=0, options=options, seed=7)

    job("first", "backup", OPTIONS)
    other = {**OPTIONS, "learning_rate": 0.05}
    history = job("other", "backup", other)
    assert [row["learning_rate"] for row in history][0] == pytest.approx(0.05)
    fresh = job("fresh", "empty", other)
    assert history == [pytest.approx(row, rel=1e-5) for row in fresh]
    assert "made from other inputs or settings" in caplog.text
    # the same settings and data again: resumed after the last epoch, not trained again
    caplog.clear()
    with caplog.at_level("INFO"):
        assert job("again", "empty", other) == [pytest.approx(row, rel=1e-5) for row in fresh]
    assert f"resuming after epoch {EPOCHS} of {EPOCHS}" in caplog.text
