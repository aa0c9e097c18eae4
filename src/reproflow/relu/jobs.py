"""The Snakemake jobs of Study 2 (scripts/relu_*.py are thin adapters): one
(protocol, data set) prepared; its training configurations (model, head,
seed), all in one process (`train_jobs`, each configuration `train_job`);
the study's summary. Training and summary write run manifests.

Keras and scikit-learn are imported by the jobs that use them only: call
`reproflow.runtime.limit_threads` before `train_jobs`.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.arrays import load_npz, save_npz, write_csv
from reproflow.data import read_json_object, sha256_file
from reproflow.errors import ReproflowError
from reproflow.manifest import recording
from reproflow.outputs import atomic_output, check_finite, check_output_path, write_json, write_text
from reproflow.relu import report
from reproflow.relu.paths import JOB_FILES
from reproflow.relu.evaluate import (
    classification_metrics, confusion_rows, plot_confusion, predict_classes, silent_classes,
)
from reproflow.relu.report import DATA_LABELS, HEAD_LABELS, MODEL_LABELS, PROTOCOL_NOTE, cv_note
from reproflow.runtime import headline, per_configuration

log = logging.getLogger(__name__)
STUDY = "relu"
RELU_DATA = "the .npz that rule relu_data writes"
META, META_KEYS = "the data set's metadata (rule relu_data)", ("sha256", "n_train", "n_test", "n_classes", "class_names")
TRAIN_OUTPUTS = tuple(JOB_FILES)  # metrics, folds, confusion_csv, confusion_png, model, curves, run


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
    head: str, protocol: str, seed: int, options: Mapping[str, Any], backup_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train, cross-validate and test one job; write its files and, last, its run manifest.
    With `backup_dir`, every epoch is checkpointed there and a rerun resumes from it."""
    inputs = [npz, meta]
    for key in TRAIN_OUTPUTS:  # refused before minutes of training, not after
        check_output_path(out[key], inputs, key)
    info = read_json_object(meta, META, META_KEYS)
    arrays = load_npz(npz, ("y_train", "y_test"), RELU_DATA)
    # Keras, scikit-learn and matplotlib: imported once the inputs are read, by this job only
    import matplotlib.pyplot as plt
    from reproflow.relu.train import cv_summary, one_hot, run_job
    tags = {"protocol": protocol, "dataset": dataset, "model": model, "head": head, "seed": str(seed),
            **{f"dataset.{name}.sha256": sha256 for name, sha256 in sorted(info["sha256"].items())}}
    run_name = f"{protocol}/{dataset}/{model}-{head}/seed{seed}"
    job = {"dataset": dataset, "model": model, "head": head, "protocol": protocol, "seed": seed,
           "cv": cv_note(protocol, options)}
    with recording(out["run"], inputs, run_name, tags) as run:
        run.log_params({
            **job, "n_train": info["n_train"], "n_test": info["n_test"],
            **{k: options[k] for k in ("folds", "epochs", "batch_size", "learning_rate", "dropout")},
            **applicable_params(dataset, protocol, options),
        })
        for name, sha256 in sorted(info["sha256"].items()):
            run.log_dataset(name, sha256, npz)
        final, folds, history, key = run_job(
            arrays, info["n_classes"], dataset=dataset, model=model, head=head,
            protocol=protocol, seed=seed, options=options, backup_dir=backup_dir,
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
            **job, **cv_summary(folds), "test": test,
            "test_loss": float(test_loss), "zero_output_rows": zero_rows, "n_test": len(y_test),
            "dead_head_units": [info["class_names"][k] for k in dead],
            "n_train": info["n_train"], "epochs_per_fold": options["epochs"],
        }
        check_finite(float(test_loss), f"relu job {run_name}: test loss")
        write_csv(summary["folds"], out["folds"], inputs)
        write_csv(history, out["curves"], inputs)
        write_csv(confusion_rows(test["confusion"], info["class_names"]), out["confusion_csv"], inputs,
                  what="confusion table")
        title = (f"{MODEL_LABELS.get(model, model)}-{HEAD_LABELS.get(head, head)} on {DATA_LABELS.get(dataset, dataset)}"
                 f"\n{protocol} protocol, seed {seed}")
        figure = plot_confusion(test["confusion"], info["class_names"], title, out["confusion_png"], inputs)
        with atomic_output(out["model"], inputs, "model") as tmp:
            final.save(tmp)
        write_json(out["metrics"], summary, inputs)
        run.log_metrics({
            **{key: summary[key] for key in ("cv_accuracy_mean", "cv_accuracy_sd") if summary[key] is not None},
            "test_accuracy": test["accuracy"], "test_loss": summary["test_loss"],
            **{f"test_{name}_macro": test["macro"][name] for name in ("f1", "precision", "recall")},
            "zero_output_rows": zero_rows, "dead_head_units": len(dead),
        })
        plt.close(figure)
        for key in ("metrics", "folds", "confusion_csv", "confusion_png", "curves", "model"):
            run.log_artifact(out[key])
        run.log_keras_model(out["model"], x_test[:5], modules=("reproflow.relu.models",))
    cv = "no cv" if not folds else f"cv {summary['cv_accuracy_mean']:.4f} +- {summary['cv_accuracy_sd']:.4f}"
    headline("%s-%s/seed%d: %s, test accuracy %.4f, %d all-zero output rows, dead head units: %s",
             model, head, seed, cv, test["accuracy"], zero_rows,
             ", ".join(summary["dead_head_units"]) or "none")
    return summary


def _keep_finished(folder: Path, out: Mapping[str, str], summary: Mapping[str, Any]) -> None:
    """A copy of a finished configuration's files beside its checkpoint, then
    `finished.json` (last): a killed batch's rerun copies them back instead of
    training again (Snakemake deletes an incomplete job's outputs first)."""
    kept = folder / "finished"
    for key in TRAIN_OUTPUTS:
        with atomic_output(kept / f"{key}{Path(out[key]).suffix}", [out[key]], key) as tmp:
            shutil.copyfile(out[key], tmp)
    write_json(folder / "finished.json", {"out": dict(out), "summary": summary})
    shutil.rmtree(folder / "checkpoint", ignore_errors=True)


def _recover_finished(folder: Path, out: Mapping[str, str]) -> dict[str, Any] | None:
    """The summary of a configuration finished by an earlier, killed batch,
    its files copied back to `out`; None if it did not finish (or went elsewhere)."""
    record = folder / "finished.json"
    if not record.exists():
        return None
    try:
        finished = json.loads(record.read_text())
        if finished["out"] != dict(out):
            return None
        for key in TRAIN_OUTPUTS:
            with atomic_output(out[key], [], key) as tmp:
                shutil.copyfile(folder / "finished" / f"{key}{Path(out[key]).suffix}", tmp)
        return dict(finished["summary"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReproflowError(
            f"{record}: not a usable record of a finished configuration ({type(error).__name__}: {error}); "
            f"expected what an interrupted training job leaves: remove {folder} to train it again") from None


def train_jobs(
    *, npz: str, meta: str, out: Mapping[str, Sequence[str]], configurations: Sequence[Mapping[str, Any]],
    dataset: str, protocol: str, options: Mapping[str, Any], backup_dir: str | Path,
) -> list[dict[str, Any]]:
    """Train the configurations (model, head, seed) of one (protocol, data set)
    in this process, one Python + TensorFlow start-up for all, each writing
    its files (`out[key][k]` for configuration k) as `train_job` would in a
    fresh process, with the same numbers: every random stream comes from its
    seed and the Keras session is cleared between them.

    `backup_dir` (no Snakemake output, so an incomplete rerun keeps it) holds
    each configuration's epoch checkpoint and, once finished, a copy of its
    files: a killed batch's rerun copies the finished ones back and resumes
    the one it was training. It is removed when all are done.
    """
    outs = per_configuration({key: out[key] for key in TRAIN_OUTPUTS}, len(configurations))
    inputs = [npz, meta]
    for files in outs:  # refused before minutes of training, not after
        for key in TRAIN_OUTPUTS:
            check_output_path(files[key], inputs, key)
    # bad inputs refused before the checkpoint folder is made (each job reads them again)
    read_json_object(meta, META, META_KEYS)
    load_npz(npz, ("y_train", "y_test"), RELU_DATA)
    import keras  # after the inputs are read

    from reproflow.resume import same_inputs_or_fresh

    backup_dir = Path(backup_dir)
    same_inputs_or_fresh(backup_dir, {"npz_sha256": sha256_file(npz), "meta_sha256": sha256_file(meta),
                                      "protocol": protocol, "dataset": dataset, "options": options})
    summaries = []
    for configuration, files in zip(configurations, outs):
        folder = backup_dir / f"{configuration['model']}-{configuration['head']}" / f"seed{configuration['seed']}"
        summary = _recover_finished(folder, files)
        if summary is not None:
            log.info("%s-%s/seed%s: finished before the job was stopped; its files are back from %s",
                     configuration["model"], configuration["head"], configuration["seed"], folder)
        else:
            keras.backend.clear_session()  # as in a fresh process: layer names and uids start again
            summary = train_job(npz=npz, meta=meta, out=files, dataset=dataset, protocol=protocol,
                                model=configuration["model"], head=configuration["head"],
                                seed=int(configuration["seed"]), options=options,
                                backup_dir=folder / "checkpoint")
            _keep_finished(folder, files, summary)
        summaries.append(summary)
    shutil.rmtree(backup_dir, ignore_errors=True)  # done: a rerun trains afresh
    return summaries


def summary_metrics(summary: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """<protocol>.<dataset>.<model>-<head>.{cv,test}_accuracy_mean of each summary row."""
    metrics = {}
    for row in summary:
        name = f"{row['protocol']}.{row['dataset']}.{row['model']}-{row['head']}"
        if row["cv_accuracy_mean"] is not None:
            metrics[f"{name}.cv_accuracy_mean"] = row["cv_accuracy_mean"]
        metrics[f"{name}.test_accuracy_mean"] = row["test_accuracy_mean"]
    return metrics


JOB = "a relu job's metrics (rule relu_train)"
JOB_KEYS = (*report.KEY, "seed", "cv_accuracy_mean", "cv_accuracy_sd", "zero_output_rows", "n_test", "test")


def checked_job(path: str) -> dict[str, Any]:
    """One job's metrics.json with the numbers the summary reads, each finite (None: a run without CV)."""
    job = read_json_object(path, JOB, JOB_KEYS)
    try:
        test = job["test"]
        numbers = {"cv_accuracy_mean": job["cv_accuracy_mean"], "cv_accuracy_sd": job["cv_accuracy_sd"],
                   "test.accuracy": test["accuracy"], "test.confusion": test["confusion"],
                   **{f"test.{a}.{m}": test[a][m] for a in ("macro", "weighted") for m in ("precision", "recall", "f1")}}
    except (KeyError, TypeError) as error:
        raise ReproflowError(f"{path}: not {JOB} (no {error}); expected the metrics.json rule relu_train writes") from None
    for key, value in numbers.items():
        if value is None and key.startswith("cv_"):
            continue
        try:
            check_finite(np.asarray(value, dtype=float), f"{path}: {key}")
        except (TypeError, ValueError):  # not numbers (check_finite raises a ReproflowError)
            raise ReproflowError(f"{path}: {key} = {value!r}; expected numbers") from None
    return job


def summarize(*, jobs: Sequence[str], out: Mapping[str, str], protocols: Sequence[str]) -> dict[str, Any]:
    """Aggregate the jobs, compare with the paper, write the study's files and its run manifest."""
    inputs = list(jobs)
    for path in out.values():
        check_output_path(path, inputs)
    runs = [checked_job(path) for path in jobs]
    summary = report.aggregate(runs)
    compared = report.comparison(summary, protocols)
    folds = report.fold_table(runs)
    result = {"study": STUDY, "protocols": list(protocols), "protocol_notes": PROTOCOL_NOTE, "summary": summary,
              "comparison": json.loads(compared.to_json(orient="records")), "jobs": runs}
    write_json(out["metrics"], result, inputs)
    write_text(out["comparison_csv"], compared.to_csv(index=False), inputs)
    write_text(out["comparison_html"], report.comparison_html(compared, protocols), inputs)
    rows = report.summary_rows(summary)
    write_text(out["summary_html"], report.summary_html(rows, protocols), inputs)
    write_text(out["folds"], folds.to_csv(index=False), inputs)
    write_text(out["folds_html"], report.folds_html(folds), inputs)
    with recording(out["run"], inputs, "summary") as run:  # its metrics and tables go to the parent too
        run.log_metrics(summary_metrics(summary))
        for key, path in out.items():
            if key != "run":
                run.log_artifact(path)
    first = rows[0]
    headline("%d rows beside the paper in %s; first: %s %s-%s, %s protocol, test accuracy %s%% (paper %s)",
             len(rows), out["summary_html"], first["dataset"], first["model"], first["head"], first["protocol"],
             first["ours"], "–" if first["paper"] is None else f"{first['paper']:.2f}")
    return result


def prepare(
    name: str, protocol: str, options: Mapping[str, Any], idx_folder: str | Path | None,
    npz_path: str | Path, meta_path: str | Path,
) -> dict[str, Any]:
    """Load, preprocess and save one (protocol, data set); returns the metadata.

    Outputs are written through temporary files, never over an input, and
    only when every array is finite."""
    from reproflow.relu.data import (  # scikit-learn: only this job needs it
        CLASS_NAMES, IDX_DATASETS, IDX_NAMES, load_idx_dataset, load_sklearn_dataset, preprocess,
    )

    inputs = []
    if name in IDX_DATASETS:
        if idx_folder is None:
            raise ReproflowError(f"relu: {name} needs its downloaded IDX files")
        inputs = [Path(idx_folder) / file for file in IDX_NAMES]
        for output in (npz_path, meta_path):  # refused before minutes of PCA, not after
            check_output_path(output, [*inputs, idx_folder])
        raw = load_idx_dataset(name, idx_folder)
    else:
        raw = load_sklearn_dataset(name, options["test_fraction"], options["split_seed"])
    arrays = preprocess(raw, protocol, pca_components=options["pca_components"],
                        drop_first_train=options["drop_first_train"])
    save_npz(npz_path, inputs, compress=False, **arrays)   # every array checked finite
    meta = {
        "dataset": name, "protocol": protocol, "sha256": raw.sha256,
        "class_names": CLASS_NAMES[name], "n_classes": len(CLASS_NAMES[name]),
        "n_train": len(arrays["y_train"]), "n_test": len(arrays["y_test"]),
        "features": arrays["features_train"].shape[1],
        "image_shape": list(arrays["images_train"].shape[1:]) if "images_train" in arrays else None,
    }
    write_text(meta_path, json.dumps(meta, indent=2), inputs)
    return meta
