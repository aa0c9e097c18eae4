"""The paper's leaky CV trains one model across folds; the clean CV a fresh one per fold."""

import numpy as np
import pytest

from reproflow.relu.models import build_ffnn, compile_model
from reproflow.relu.train import clean_cv, cv_summary, paper_cv, run_job

FOLDS, EPOCHS = 3, 2


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    return x, y


def counting_builder():
    built = []

    def build():
        model = compile_model(build_ffnn(4, 2, "softmax", hidden=(8,)), "softmax")
        built.append(model)
        return model
    return build, built


def test_paper_cv_keeps_training_one_model(tiny):
    build, built = counting_builder()
    final, folds, history = paper_cv(build, *tiny, 2, folds=FOLDS, epochs=EPOCHS, batch_size=16, cv_seed=10)
    assert len(built) == 1 and final is built[0]
    assert [f.fold for f in folds] == [1, 2, 3]
    assert [row["step"] for row in history] == list(range(FOLDS * EPOCHS))  # one global step across folds
    assert [row["fold"] for row in history] == [1, 1, 2, 2, 3, 3]
    assert {row["step"] for row in history} == set(range(FOLDS * EPOCHS))


def test_clean_cv_builds_a_fresh_model_per_fold_and_a_final_one(tiny):
    build, built = counting_builder()
    final, folds, history = clean_cv(build, *tiny, 2, folds=FOLDS, epochs=EPOCHS, batch_size=16, cv_seed=0)
    assert len(built) == FOLDS + 1 and final is built[-1]
    assert all(id(a) != id(b) for a, b in zip(built, built[1:]))
    assert [row["fold"] for row in history] == [1, 1, 2, 2, 3, 3, 0, 0]  # 0: the final fit
    # the paper protocol's names (what the job's manifest logs per step, less step and epoch):
    # the fold is a metric beside them, not part of the name
    assert {key for row in history for key in row} - {"step", "epoch"} == {
        "loss", "accuracy", "val_loss", "val_accuracy", "fold"}
    assert {row["step"] for row in history} == set(range((FOLDS + 1) * EPOCHS))
    assert {f.n_train + f.n_val for f in folds} == {60}


def test_cv_summary_is_mean_and_sample_sd(tiny):
    _, folds, _ = clean_cv(counting_builder()[0], *tiny, 2, folds=FOLDS, epochs=1, batch_size=16, cv_seed=0)
    summary = cv_summary(folds)
    accuracies = [f.accuracy for f in folds]
    assert summary["cv_accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert summary["cv_accuracy_sd"] == pytest.approx(np.std(accuracies, ddof=1))


def test_clean_without_cv_trains_only_the_final_model(tiny):
    build, built = counting_builder()
    final, folds, history = clean_cv(build, *tiny, 2, folds=0, epochs=EPOCHS, batch_size=16, cv_seed=0)
    assert len(built) == 1 and final is built[0] and folds == []
    assert [row["fold"] for row in history] == [0, 0]  # the final fit only
    assert cv_summary(folds) == {"cv_accuracy_mean": None, "cv_accuracy_sd": None, "folds": []}


@pytest.mark.parametrize(("protocol", "clean_cv_option", "folds_run"), [
    ("clean", False, 0), ("clean", True, FOLDS), ("paper", False, FOLDS),  # paper: always its folds
])
def test_clean_cv_option_reaches_the_clean_protocol_only(tiny, protocol, clean_cv_option, folds_run):
    x, y = tiny
    arrays = {"features_train": x, "y_train": y}
    options = {"wdbc_hidden": [8], "ffnn_hidden": [8], "dropout": 0.1, "learning_rate": 1e-3, "folds": FOLDS,
               "epochs": 1, "batch_size": 16, "paper_cv_seed": 10, "clean_cv": clean_cv_option}
    _, folds, history, key = run_job(arrays, 2, dataset="wdbc", model="ffnn", head="softmax",
                                     protocol=protocol, seed=0, options=options)
    assert key == "features" and len(folds) == folds_run
    final_fit = {0} if protocol == "clean" else set()
    assert {row["fold"] for row in history} == set(range(1, folds_run + 1)) | final_fit
