"""Study 2 training resumes exactly, and a configuration's numbers do not
depend on what its process trained before it: a job killed after epoch k and
rerun ends with the weights and history of one uninterrupted run, in both
protocols; a batch of configurations in one process (rule relu_train_*)
writes the same metrics as each alone in a fresh process."""

import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from reproflow.relu.models import build_ffnn, compile_model  # noqa: E402
from reproflow.relu.train import clean_cv, paper_cv  # noqa: E402

FOLDS, EPOCHS = 2, 3  # 6 epochs in the paper protocol, 9 in the clean one (2 folds, the final model)
RUNNERS = {"paper": paper_cv, "clean": clean_cv}


class Killed(Exception):
    """Stands for the job being killed."""


class KillAfterEpoch(keras.callbacks.Callback):
    """Killed once `done` epochs (counted across folds) are finished and checkpointed."""

    def __init__(self, done: int):
        super().__init__()
        self.done, self.last = done, -1

    def on_epoch_begin(self, epoch, logs=None):  # the epoch before is checkpointed by now
        if epoch == self.done:
            raise Killed

    def on_epoch_end(self, epoch, logs=None):
        self.last = epoch

    def on_train_end(self, logs=None):  # a fold's or the job's last epoch: after every callback's epoch end
        if self.last + 1 == self.done:
            raise Killed


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    return x, y


def build():
    # dropout, so the per-epoch seeds matter
    return compile_model(build_ffnn(6, 3, "relu", hidden=(16, 8), dropout=0.3), "relu", learning_rate=0.01)


def run(protocol, data, backup=None, callbacks=()):
    return RUNNERS[protocol](build, *data, 3, folds=FOLDS, epochs=EPOCHS, batch_size=16, cv_seed=4, seed=7,
                             backup_dir=backup, callbacks=callbacks)


@pytest.fixture(scope="module")
def straight(data):
    return {protocol: run(protocol, data) for protocol in RUNNERS}


def assert_same_run(resumed, straight):
    (model, folds, history), (model_0, folds_0, history_0) = resumed, straight
    assert history == history_0  # every epoch, those before the kill too, bit for bit
    assert folds == folds_0
    for weights, weights_0 in zip(model.get_weights(), model_0.get_weights(), strict=True):
        np.testing.assert_array_equal(weights, weights_0)


@pytest.mark.parametrize(("protocol", "killed_after"), [
    (protocol, done) for protocol in RUNNERS
    # mid-fold; at the end of fold 1 (clean: the next fold starts a fresh model); in fold 2;
    # after the CV (clean: before its final model; paper: after its last epoch, before the
    # job wrote its files)
    for done in (1, EPOCHS, EPOCHS + 1, FOLDS * EPOCHS)
] + [("clean", (FOLDS + 1) * EPOCHS)])  # clean: after its last epoch
def test_killed_after_an_epoch_resumes_to_the_straight_run(tmp_path, data, straight, protocol, killed_after):
    with pytest.raises(Killed):
        run(protocol, data, tmp_path, [KillAfterEpoch(killed_after)])
    assert json.loads((tmp_path / "state.json").read_text())["epochs_done"] == killed_after
    assert_same_run(run(protocol, data, tmp_path), straight[protocol])


def test_a_checkpoint_changes_no_number(tmp_path, data, straight):
    assert_same_run(run("clean", data, tmp_path), straight["clean"])
    assert json.loads((tmp_path / "state.json").read_text())["epochs_done"] == (FOLDS + 1) * EPOCHS


def test_the_history_counts_epochs_per_fold_and_steps_across(straight):
    _, _, history = straight["clean"]
    assert [row["step"] for row in history] == list(range((FOLDS + 1) * EPOCHS))
    assert [(row["fold"], row["epoch"]) for row in history] == [
        (fold, epoch) for fold in (1, 2, 0) for epoch in range(1, EPOCHS + 1)]


# -- a batch of configurations in one process ---------------------------------------------------
OPTIONS = {"folds": 2, "epochs": 2, "batch_size": 16, "learning_rate": 0.01, "dropout": 0.2,
           "ffnn_hidden": [16], "wdbc_hidden": [16, 8], "pca_components": 16, "paper_cv_seed": 10,
           "drop_first_train": 0, "clean_cv": True}
KEYS = ("metrics", "folds", "confusion_csv", "confusion_png", "model", "curves", "run")
NAMES = ("metrics.json", "folds.csv", "confusion.csv", "confusion.png", "model.keras", "curves.csv", "run.json")


def write_inputs(folder, data):
    x, y = data
    np.savez(folder / "data.npz", features_train=x[:70], features_test=x[70:], y_train=y[:70], y_test=y[70:])
    (folder / "data.json").write_text(json.dumps({
        "dataset": "wdbc", "sha256": {"wdbc": "0" * 64}, "class_names": ["a", "b", "c"], "n_classes": 3,
        "n_train": 70, "n_test": 20, "features": 6, "image_shape": None}))


def files(folder, configuration):
    name = f"{configuration['model']}-{configuration['head']}-seed{configuration['seed']}"
    return {key: str(folder / name / file) for key, file in zip(KEYS, NAMES)}


def numbers(path):
    return json.loads(open(path).read())


def test_a_configuration_trained_second_in_a_process_matches_a_fresh_process(tmp_path, data):
    from reproflow.relu.jobs import train_jobs

    write_inputs(tmp_path, data)
    first, second = {"model": "ffnn", "head": "softmax", "seed": 3}, {"model": "ffnn", "head": "relu", "seed": 1}
    batch = [files(tmp_path / "batch", c) for c in (first, second)]
    backup = tmp_path / "checkpoints"
    train_jobs(npz=str(tmp_path / "data.npz"), meta=str(tmp_path / "data.json"),
               out={key: [out[key] for out in batch] for key in KEYS}, configurations=[first, second],
               dataset="wdbc", protocol="clean", options=OPTIONS, backup_dir=str(backup))
    assert not backup.exists()  # done: a rerun trains afresh

    alone = files(tmp_path / "alone", second)
    call = (f"from reproflow.relu.jobs import train_job; train_job(npz={str(tmp_path / 'data.npz')!r}, "
            f"meta={str(tmp_path / 'data.json')!r}, out={alone!r}, dataset='wdbc', protocol='clean', "
            f"model='ffnn', head='relu', seed=1, options={OPTIONS!r})")
    subprocess.run([sys.executable, "-c", call], check=True, timeout=600, capture_output=True)
    assert numbers(batch[1]["metrics"]) == numbers(alone["metrics"])
    assert open(batch[1]["curves"]).read() == open(alone["curves"]).read()  # every epoch's numbers
    # the saved models: the same weights, and the same layer names (the session was cleared)
    saved = [keras.saving.load_model(path, compile=False) for path in (batch[1]["model"], alone["model"])]
    assert [layer.name for layer in saved[0].layers] == [layer.name for layer in saved[1].layers]
    for weights, weights_0 in zip(saved[0].get_weights(), saved[1].get_weights(), strict=True):
        np.testing.assert_array_equal(weights, weights_0)
    # and the first configuration is not the second's (the seeds and heads do differ)
    assert numbers(batch[0]["metrics"])["test_loss"] != numbers(batch[1]["metrics"])["test_loss"]


def test_a_stopped_batch_reuses_finished_configurations_of_the_same_inputs_only(tmp_path, data, caplog):
    from reproflow.errors import ReproflowError
    from reproflow.relu.jobs import train_jobs

    write_inputs(tmp_path, data)
    ffnn, cnn = {"model": "ffnn", "head": "softmax", "seed": 0}, {"model": "cnn", "head": "softmax", "seed": 0}
    out = [files(tmp_path / "out", c) for c in (ffnn, cnn)]
    backup = tmp_path / "checkpoints"

    def batch(*which):
        train_jobs(npz=str(tmp_path / "data.npz"), meta=str(tmp_path / "data.json"),
                   out={key: [out[k][key] for k in which] for key in KEYS},
                   configurations=[(ffnn, cnn)[k] for k in which], dataset="wdbc", protocol="paper",
                   options=OPTIONS, backup_dir=str(backup))

    # the CNN needs images: the batch stops after the FFNN finished, as a killed one would
    with pytest.raises(ReproflowError, match="needs an image data set"):
        batch(0, 1)
    finished = {key: open(out[0][key], "rb").read() for key in KEYS}
    for path in out[0].values():
        os.unlink(path)  # what Snakemake does to an incomplete job's outputs before its rerun
    with caplog.at_level("INFO", "reproflow"):
        batch(0)
    assert "ffnn-softmax/seed0: finished before the job was stopped" in caplog.text
    assert "fold 1 epoch 1" not in caplog.text  # not trained again
    assert {key: open(out[0][key], "rb").read() for key in KEYS} == finished
    assert not backup.exists()

    # stopped again, then rerun on other data: nothing of the stopped batch is reused
    with pytest.raises(ReproflowError, match="needs an image data set"):
        batch(0, 1)
    write_inputs(tmp_path, (data[0] * 2, data[1]))
    caplog.clear()
    with caplog.at_level("INFO", "reproflow"):
        batch(0)
    assert "made from other inputs or settings" in caplog.text and "fold 1 epoch 1" in caplog.text
    assert numbers(out[0]["metrics"])["test_loss"] != json.loads(finished["metrics"])["test_loss"]
