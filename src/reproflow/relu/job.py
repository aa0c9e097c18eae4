"""One training job: its files and its run manifest (scripts/relu_train.py).

Call `reproflow.runtime.limit_threads` before importing this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt

from reproflow.manifest import recording
from reproflow.data import read_json_object
from reproflow.outputs import atomic_output, check_finite, check_output_path, write_json
from reproflow.relu.data import load_arrays
from reproflow.runtime import headline
from reproflow.relu.evaluate import (
    classification_metrics, plot_confusion, predict_classes, silent_classes, write_confusion_csv, write_rows,
)
from reproflow.relu.report import DATA_LABELS, HEAD_LABELS, MODEL_LABELS, cv_note
from reproflow.relu.train import cv_summary, one_hot, run_job

STUDY = "relu"
TRAIN_OUTPUTS = ("metrics", "folds", "confusion_csv", "confusion_png", "model", "curves", "run")


def applicable_params(dataset: str, protocol: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that apply to this job only: PCA on the image data sets,
    the dropped rows and the fixed CV seed in the paper protocol."""
    params: dict[str, Any] = {"hidden": options["wdbc_hidden"] if dataset == "wdbc" else options["ffnn_hidden"]}
    if dataset != "wdbc":
        params["pca_components"] = options["pca_components"]
    if protocol == "paper":
        params["paper_cv_seed"] = options["paper_cv_seed"]
        if dataset != "wdbc":
            params["drop_first_train"] = options["drop_first_train"]
    return params


def train_job(
    *, npz: str, meta: str, out: Mapping[str, str], dataset: str, model: str,
    head: str, protocol: str, seed: int, options: Mapping[str, Any],
) -> dict[str, Any]:
    """Train, cross-validate and test one job; write its files and, last, its run manifest."""
    inputs = [npz, meta]
    for key in TRAIN_OUTPUTS:  # refused before minutes of training, not after
        check_output_path(out[key], inputs, key)
    info = read_json_object(meta, "the data set's metadata (rule relu_data)",
                            ("sha256", "n_train", "n_test", "n_classes", "class_names"))
    arrays = load_arrays(npz)
    tags = {"protocol": protocol, "dataset": dataset, "model": model, "head": head, "seed": str(seed),
            **{f"dataset.{name}.sha256": sha256 for name, sha256 in sorted(info["sha256"].items())}}
    run_name = f"{protocol}/{dataset}/{model}-{head}/seed{seed}"
    with recording(out["run"], inputs, run_name, tags) as run:
        run.log_params({
            "dataset": dataset, "model": model, "head": head, "protocol": protocol, "seed": seed,
            "cv": cv_note(protocol, options), "n_train": info["n_train"], "n_test": info["n_test"],
            **{k: options[k] for k in ("folds", "epochs", "batch_size", "learning_rate", "dropout")},
            **applicable_params(dataset, protocol, options),
        })
        for name, sha256 in sorted(info["sha256"].items()):
            run.log_dataset(name, sha256, npz)
        final, folds, history, key = run_job(
            arrays, info["n_classes"], dataset=dataset, model=model, head=head,
            protocol=protocol, seed=seed, options=options,
        )
        run.log_history(history, "step", skip=("epoch",))  # fold stays a metric: the same names in both protocols
        x_test, y_test = arrays[f"{key}_test"], arrays["y_test"]
        outputs = check_finite(final.predict(x_test, batch_size=options["batch_size"], verbose=0),
                               f"relu job {run_name}: test outputs")
        predicted, zero_rows = predict_classes(outputs)
        dead = silent_classes(check_finite(
            final.predict(arrays[f"{key}_train"], batch_size=options["batch_size"], verbose=0),
            f"relu job {run_name}: training outputs"))
        test = classification_metrics(y_test, predicted, info["class_names"])
        test_loss = final.evaluate(x_test, one_hot(y_test, info["n_classes"]),
                                   batch_size=options["batch_size"], verbose=0, return_dict=True)["loss"]
        summary = {
            "dataset": dataset, "model": model, "head": head, "protocol": protocol, "seed": seed,
            "cv": cv_note(protocol, options), **cv_summary(folds), "test": test,
            "test_loss": float(test_loss), "zero_output_rows": zero_rows, "n_test": len(y_test),
            "dead_head_units": [info["class_names"][k] for k in dead],
            "n_train": info["n_train"], "epochs_per_fold": options["epochs"],
        }
        check_finite(float(test_loss), f"relu job {run_name}: test loss")
        write_rows(summary["folds"], out["folds"], inputs)
        write_rows(history, out["curves"], inputs)
        write_confusion_csv(test["confusion"], info["class_names"], out["confusion_csv"], inputs)
        title = (f"{MODEL_LABELS.get(model, model)}-{HEAD_LABELS.get(head, head)} on {DATA_LABELS.get(dataset, dataset)}"
                 f"\n{protocol} protocol, seed {seed}")
        figure = plot_confusion(test["confusion"], info["class_names"], title, out["confusion_png"], inputs)
        with atomic_output(out["model"], inputs, "model") as tmp:
            final.save(tmp)
        write_json(out["metrics"], summary, inputs)
        run.log_metrics({
            **{key: summary[key] for key in ("cv_accuracy_mean", "cv_accuracy_sd") if summary[key] is not None},
            "test_accuracy": test["accuracy"], "test_loss": summary["test_loss"],
            "test_f1_macro": test["macro"]["f1"], "test_precision_macro": test["macro"]["precision"],
            "test_recall_macro": test["macro"]["recall"], "zero_output_rows": zero_rows,
            "dead_head_units": len(dead),
        })
        plt.close(figure)
        for key in ("metrics", "folds", "confusion_csv", "confusion_png", "curves", "model"):
            run.log_artifact(out[key])
        run.log_keras_model(out["model"], x_test[:5], modules=("reproflow.relu.models",))
    cv = "no cv" if not folds else f"cv {summary['cv_accuracy_mean']:.4f} +- {summary['cv_accuracy_sd']:.4f}"
    headline("%s, test accuracy %.4f, %d all-zero output rows, dead head units: %s",
             cv, test["accuracy"], zero_rows,
             ", ".join(summary["dead_head_units"]) or "none")
    return summary

