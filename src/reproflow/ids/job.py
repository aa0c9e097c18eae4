"""One training job: its files and its run manifest (scripts/ids_train.py).

Call `reproflow.runtime.limit_threads` before importing this module.
`purpose="search"`: clean protocol's learning-rate search (fit on the train
days before the validation days, score the validation days). `"final"`: the
model that is tested; in `clean` its learning rate is the search's best
(validation balanced accuracy), the same grid for both arms.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")

from reproflow.errors import ReproflowError  # noqa: E402
from reproflow.runtime import headline  # noqa: E402
from reproflow.data import read_json_object  # noqa: E402
from reproflow.manifest import recording  # noqa: E402
from reproflow.outputs import check_output_path, write_text  # noqa: E402
from reproflow.ids.summary import DATASET_INFO, DATASET_KEYS  # noqa: E402
from reproflow.ids.evaluate import rates, write_rows  # noqa: E402
from reproflow.ids.kyoto import open_npz  # noqa: E402
from reproflow.ids.predict import save_model_dir  # noqa: E402
from reproflow.ids.train import evaluate_set, one_hot_bins, train_arm  # noqa: E402

log = logging.getLogger(__name__)
STUDY = "ids"


def load_dataset(path: str | Path) -> dict[str, np.ndarray]:
    with open_npz(path, ("x_train", "y_train", "day_train", "x_test", "y_test")) as data:
        return {key: data[key] for key in data.files}


def validation_split(arrays: Mapping[str, np.ndarray], val_days: int) -> tuple[tuple, tuple]:
    """Train rows of the last `val_days` train days are the validation set."""
    days = np.unique(arrays["day_train"])
    if len(days) <= val_days:
        raise ReproflowError(f"ids.clean.val_days = {val_days} leaves no training day (train has {len(days)} days)")
    val = np.isin(arrays["day_train"], days[-val_days:])
    x, y = arrays["x_train"], arrays["y_train"]
    return (x[~val], y[~val]), (x[val], y[val])


def best_learning_rate(search_files: Sequence[str | Path]) -> tuple[float, list[dict[str, Any]]]:
    results = [read_json_object(path, "a learning-rate search result (rule ids_train_search)",
                                ("learning_rate", "val")) for path in search_files]
    if not results:
        raise ReproflowError("ids: no learning-rate search results for the clean protocol")
    best = max(results, key=lambda r: (r["val"]["balanced_accuracy"], -r["learning_rate"]))
    return float(best["learning_rate"]), [{"learning_rate": r["learning_rate"], **{
        f"val_{k}": r["val"][k] for k in ("accuracy", "balanced_accuracy", "f1", "roc_auc")}} for r in results]


def hyperparameters(options: Mapping[str, Any], protocol: str, arm: str) -> dict[str, Any]:
    """Shared and per-protocol settings of one arm."""
    if protocol == "paper":
        keep_prob = options["paper"]["keep_prob"][arm]
        learning_rate = options["paper"]["learning_rate"][arm]
    else:
        keep_prob, learning_rate = options["clean"]["keep_prob"], None
    return {"units": options["units"], "epochs": options["epochs"], "batch_size": options["batch_size"],
            "svm_c": options["svm_c"], "keep_prob": keep_prob, "learning_rate": learning_rate}


def _summary_of_training(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The paper's training figures: accuracy as the running mean over all training
    steps, and confusion counts summed over all epochs."""
    counts = {k: int(round(sum(row[f"train_{k}"] for row in history))) for k in ("tp", "fp", "tn", "fn")}
    return {"accuracy_running": float(np.mean([row["train_accuracy"] for row in history])),
            "loss": float(np.mean([row["train_loss"] for row in history])),
            **counts, **{f"{k}": v for k, v in rates(counts).items() if k != "accuracy"},
            "seconds": float(sum(row["train_seconds"] for row in history))}


def _summed_test(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Test confusion counts summed over the per-epoch test passes (the paper's 5x counts)."""
    counts = {k: int(sum(row[f"test_{k}"] for row in history)) for k in ("tp", "fp", "tn", "fn")}
    return {**counts, **rates(counts), "passes": len(history)}


# The arms optimise different losses: MLflow keys name the kind, so one name is one quantity.
LOSS_KINDS = {"gru_svm": "svm_hinge", "gru_softmax": "cross_entropy"}
COUNTS = ("tp", "fp", "tn", "fn")


def named_losses(metrics: Mapping[str, float], arm: str) -> dict[str, float]:
    """`*_loss` keys renamed `*_loss_<kind>` (svm_hinge or cross_entropy)."""
    return {f"{key}_{LOSS_KINDS[arm]}" if key.endswith("_loss") else key: value for key, value in metrics.items()}


def check_train_outputs(out: Mapping[str, str], inputs: Sequence[str | None]) -> None:
    """Refused before any work: an output that is (or lies in) an input (the model folder by its files)."""
    for key, path in out.items():
        check_output_path(Path(path) / "model.keras" if key == "model_dir" else path, inputs)


def train_job(
    *, data: str, info: str, out: Mapping[str, str], protocol: str, feature_set: str,
    arm: str, seed: int, purpose: str, options: Mapping[str, Any],
    backup_dir: str, learning_rate: float | None = None, search_files: Sequence[str] = (),
    transform: str | None = None, keep_checkpoint: bool = False,
) -> dict[str, Any]:
    """Train and score one (protocol, feature set, arm, seed[, learning rate]); write its files.
    Its checkpoint folder is removed when done, unless `keep_checkpoint` (see `train_jobs`)."""
    inputs = [data, info, transform, *search_files]
    check_train_outputs(out, inputs)
    meta = read_json_object(info, DATASET_INFO, DATASET_KEYS)
    arrays = load_dataset(data)
    hp = hyperparameters(options, protocol, arm)
    search_table: list[dict[str, Any]] = []
    if purpose == "search":
        (x_fit, y_fit), (x_val, y_val) = validation_split(arrays, options["clean"]["val_days"])
        hp["learning_rate"] = float(learning_rate)
        eval_sets = {"val": (x_val, y_val)}
    else:
        x_fit, y_fit = arrays["x_train"], arrays["y_train"]
        if protocol == "clean":
            hp["learning_rate"], search_table = best_learning_rate(search_files)
        eval_sets = {"test": (arrays["x_test"], arrays["y_test"])}
    tags = {"protocol": protocol, f"dataset.{meta['source']}.sha256": meta["data_sha256"], "arm": arm,
            "feature_set": feature_set, "seed": str(seed), "purpose": purpose, "data_source": meta["source_label"]}
    run_name = f"{protocol}/{feature_set}/{arm}/seed{seed}" + (f"/lr{hp['learning_rate']:g}" if purpose == "search" else "")
    with recording(out["run"], [data, info], run_name, tags) as run:
        applies = {k: v for k, v in hp.items() if k != "svm_c" or arm == "gru_svm"}  # C is the SVM head's
        run.log_params({"protocol": protocol, "feature_set": feature_set, "arm": arm, "seed": seed,
                       "purpose": purpose, **applies, "n_train": len(y_fit), "data_source": meta["source_label"],
                       "loss_kind": LOSS_KINDS[arm], **{f"n_{name}": len(s[1]) for name, s in eval_sets.items()}})
        run.log_dataset(meta["source"], meta["data_sha256"], data)
        model, history, _ = train_arm(x_fit, y_fit, eval_sets, arm=arm, protocol=protocol, seed=seed,
                                      backup_dir=backup_dir, label=f"ids {run_name}", **hp)
        # every epoch, also those before a resume: from the job's history, losses named by kind
        run.log_history([named_losses(row, arm) for row in history], "epoch")
        name, (x_eval, y_eval) = next(iter(eval_sets.items()))
        started = time.perf_counter()
        final = evaluate_set(model, x_eval, y_eval, arm, hp["svm_c"], hp["batch_size"])
        eval_seconds = time.perf_counter() - started
        summary: dict[str, Any] = {
            "protocol": protocol, "feature_set": feature_set, "arm": arm, "seed": seed, "purpose": purpose,
            **hp, "n_train": int(len(y_fit)), f"n_{name}": int(len(y_eval)), "source": meta["source"],
            "source_label": meta["source_label"], "train": _summary_of_training(history), name: final,
            f"{name}_seconds": eval_seconds, "history": history,
        }
        if purpose == "final":
            summary["test_summed_over_epochs"] = _summed_test(history)
            summary["learning_rate_search"] = search_table
            save_model_dir(model, out["model_dir"], transform, {
                "arm": arm, "protocol": protocol, "feature_set": feature_set, "features": meta["features"],
                "seed": seed, "source_label": meta["source_label"], "learning_rate": hp["learning_rate"]})
            run.log_artifacts(out["model_dir"], "model")
            run.log_keras_model(Path(out["model_dir"]) / "model.keras", one_hot_bins(x_eval[:5]),
                                modules=("reproflow.ids.models",))
            # the report's test counts (summed over the per-epoch passes), under the same numbers
            run.log_metrics({f"summed_test_{k}": float(summary["test_summed_over_epochs"][k]) for k in COUNTS})
        write_rows(history, out["history"], inputs=[data, info])
        write_text(out["metrics"], json.dumps(summary, indent=2), [data, info])
        run.log_metrics(named_losses({f"final_{name}_{k}": float(final[k]) for k in
                                      ("accuracy", "balanced_accuracy", "f1", "roc_auc", "loss", *COUNTS)
                                      if np.isfinite(final[k])}, arm))
        run.log_artifact(out["history"])
        run.log_artifact(out["metrics"])
    if not keep_checkpoint:
        shutil.rmtree(backup_dir, ignore_errors=True)   # done: a rerun must train afresh
    headline("%s accuracy %.4f, balanced %.4f (lr %g)", name, final["accuracy"],
             final["balanced_accuracy"], hp["learning_rate"])
    return summary


def train_jobs(configurations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Several `train_job` configurations (its keyword arguments) in one process,
    so they pay Python's and TensorFlow's start-up once. Each trains in a fresh
    Keras session (`clear_session`: layer names, graphs) from its own seed, as
    in a process of its own: the same files and numbers. Every output is
    checked before the first trains. The checkpoints stay until the last
    configuration is done: a killed batch, rerun, resumes its finished
    configurations after their last epoch (scored again, not retrained)."""
    import keras

    for options in configurations:
        check_train_outputs(options["out"], [options["data"], options["info"], options.get("transform"),
                                             *options.get("search_files", ())])
    summaries = []
    for options in configurations:
        keras.backend.clear_session()
        summaries.append(train_job(**options, keep_checkpoint=True))
    for options in configurations:
        shutil.rmtree(options["backup_dir"], ignore_errors=True)   # all done: a rerun must train afresh
    return summaries
