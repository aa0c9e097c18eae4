"""Preprocessing per protocol, test metrics, zero-output rows and the comparison with the paper."""

import numpy as np
import pytest

from reproflow.relu import paper
from reproflow.relu.data import RawData, as_cnn_images, preprocess
from reproflow.relu.evaluate import classification_metrics, predict_classes, silent_classes, starved_classes
from reproflow.relu.report import aggregate, comparison, fold_table


def images(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8), rng.integers(0, 10, size=n)


def test_paper_protocol_drops_first_images_and_fits_pca_on_train_only():
    x_train, y_train = images(120, 0)
    x_test, y_test = images(30, 1)
    raw = RawData("mnist", x_train, y_train, x_test, y_test, 255.0, {})
    paper_arrays = preprocess(raw, "paper", pca_components=16, drop_first_train=20)
    clean = preprocess(raw, "clean", pca_components=16, drop_first_train=20)
    assert paper_arrays["features_train"].shape == (100, 16)
    np.testing.assert_array_equal(paper_arrays["y_train"], y_train[20:])
    assert paper_arrays["images_train"].shape == (100, 16, 16, 1)  # PCA components as an image
    assert clean["features_train"].shape == (120, 16)
    assert clean["images_train"].shape == (120, 28, 28, 1)  # raw pixels in [0, 1]
    assert clean["images_train"].max() <= 1.0
    # fit on training data only: training features are centred, test features are not exactly
    np.testing.assert_allclose(paper_arrays["features_train"].mean(axis=0), 0, atol=1e-4)
    assert np.abs(paper_arrays["features_test"].mean(axis=0)).max() > 1e-3


def test_wdbc_is_raw_in_paper_and_standardised_in_clean():
    rng = np.random.default_rng(0)
    x, y = rng.normal(50, 10, size=(40, 3)), np.arange(40) % 2
    raw = RawData("wdbc", x[:30], y[:30], x[30:], y[30:], None, {})
    np.testing.assert_allclose(preprocess(raw, "paper", pca_components=256, drop_first_train=0)["features_train"],
                               x[:30], rtol=1e-6)
    clean = preprocess(raw, "clean", pca_components=256, drop_first_train=0)["features_train"]
    np.testing.assert_allclose(clean.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(clean.std(axis=0), 1, atol=1e-4)


def test_small_images_are_enlarged_for_the_cnn():
    out = as_cnn_images(np.arange(2 * 64, dtype=float).reshape(2, 64))
    assert out.shape == (2, 16, 16, 1)
    assert out[0, 0, 0, 0] == out[0, 1, 1, 0] == 0 and out[0, 0, 2, 0] == 1


def test_metrics_and_all_zero_rows():
    outputs = np.array([[0.0, 0.0, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    predicted, zero_rows = predict_classes(outputs)
    assert zero_rows == 2
    np.testing.assert_array_equal(predicted, [0, 1, 2, 0])  # all-zero rows -> class 0
    m = classification_metrics(np.array([0, 1, 2, 2]), predicted, ["a", "b", "c"])
    assert m["accuracy"] == 0.75
    assert m["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert m["per_class"]["a"]["precision"] == 0.5 and m["per_class"]["c"]["recall"] == 0.5
    assert m["macro"]["precision"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert m["weighted"]["recall"] == pytest.approx(0.75)


def job(protocol, head, seed, accuracy):
    test = {"accuracy": accuracy, "confusion": [[1]],
            **{avg: {"precision": accuracy, "recall": accuracy, "f1": accuracy} for avg in ("macro", "weighted")}}
    return {"protocol": protocol, "dataset": "wdbc", "model": "ffnn", "head": head, "seed": seed,
            "cv_accuracy_mean": accuracy, "cv_accuracy_sd": 0.01, "test": test, "zero_output_rows": 1,
            "n_test": 171, "folds": [{"fold": 1, "loss": 0.3, "accuracy": accuracy}]}


def test_comparison_with_the_paper():
    jobs = [job("paper", "relu", 0, 0.9), job("clean", "relu", 0, 0.8), job("clean", "relu", 1, 0.9)]
    summary = aggregate(jobs)
    clean = next(row for row in summary if row["protocol"] == "clean")
    assert clean["test_accuracy_mean"] == pytest.approx(0.85) and clean["zero_output_rows"] == 2
    table = comparison(summary, ["paper", "clean"])
    row = table[(table.metric == "test_accuracy") & (table["head"] == "relu")].iloc[0]
    assert row.table == "Table 9" and row.paper == paper.RESULTS[("Table 9", "wdbc", "ffnn")]["relu"]["test_accuracy"]
    assert row.ours_paper == pytest.approx(90.0) and row.ours_clean == pytest.approx(85.0)
    assert row.ours_clean_diff == pytest.approx(85.0 - 90.64)
    assert set(table["head"]) == {"relu"}  # softmax was not run
    folds = fold_table(jobs)
    assert len(folds) == 3 and folds.paper_loss.isna().all()  # Tables 5/8 are MNIST/Fashion CNN-ReLU


def test_a_class_whose_relu_output_never_fires_is_a_dead_unit():
    outputs = np.array([[0.0, 2.0, 0.0], [1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    assert silent_classes(outputs) == [2]
    # softmax outputs are never all zero
    assert silent_classes(np.full((4, 3), 1 / 3)) == []


def test_jobs_without_cv_leave_the_cv_columns_empty():
    no_cv = [job("clean", "relu", seed, 0.9) | {"cv_accuracy_mean": None, "cv_accuracy_sd": None, "folds": []}
             for seed in (0, 1)]
    summary = aggregate(no_cv + [job("paper", "relu", 0, 0.8)])
    clean = next(row for row in summary if row["protocol"] == "clean")
    assert clean["cv_accuracy_mean"] is None and clean["cv_accuracy_sd_within_seed"] is None
    assert clean["test_accuracy_mean"] == pytest.approx(0.9)
    table = comparison(summary, ["paper", "clean"]).set_index("metric")
    assert np.isnan(table.loc["cv_accuracy", "ours_clean"]) and table.loc["cv_accuracy", "ours_paper"] == 80.0
    assert table.loc["test_accuracy", "ours_clean"] == pytest.approx(90.0)


def test_a_class_predicted_far_less_often_than_it_occurs_is_starved():
    confusion = [[90, 10, 0], [5, 5, 90], [0, 0, 100]]  # class 1: 15 predicted of 100 true
    assert starved_classes(confusion) == [1]
    assert starved_classes(confusion, share=0.1) == []
    assert starved_classes([[50, 0], [0, 50]]) == []
    jobs = [job("clean", "relu", seed, 0.9) for seed in (0, 1)]
    jobs[1]["test"]["confusion"] = confusion
    assert aggregate(jobs)[0]["starved_classes"] == 1
