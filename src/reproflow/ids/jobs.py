"""The Snakemake jobs of Study 1 (scripts/ids_*.py are thin adapters): the
preprocessing steps as file-to-file functions (parse, fit, transform,
dataset), one training job, the baselines and the study summary, each of the
last three with its run manifest.

Each job imports what only it needs (Keras in `train_job`: call
`reproflow.runtime.limit_threads` before it; the report in `summary_job`),
so the many parse, fit and transform jobs start lean.

Training, `purpose="search"`: clean protocol's learning-rate search (fit on
the train days before the validation days, score the validation days).
`"final"`: the model that is tested; in `clean` its learning rate is the
search's best (validation balanced accuracy), the same grid for both arms.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.arrays import load_npz, save_npz, write_csv
from reproflow.data import read_json_object
from reproflow.errors import ReproflowError
from reproflow.ids import preprocess as pp
from reproflow.ids.evaluate import rates
from reproflow.ids.kyoto import (
    Columns, RejectLog, check_reject_share, find_day_file, open_day_file, parse_stream,
)
from reproflow.manifest import recording
from reproflow.outputs import atomic_output, check_output_path, write_json, write_text
from reproflow.runtime import headline

log = logging.getLogger(__name__)
STUDY = "ids"


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
    """Shared and per-protocol settings of one arm (clean: the learning rate is searched)."""
    shared = {key: options[key] for key in ("units", "epochs", "batch_size", "svm_c")}
    if protocol == "paper":
        return {**shared, **{key: options["paper"][key][arm] for key in ("keep_prob", "learning_rate")}}
    return {**shared, "keep_prob": options["clean"]["keep_prob"], "learning_rate": None}


def _summary_of_training(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The paper's training figures: accuracy as the running mean over all training
    steps, and confusion counts summed over all epochs."""
    counts = {k: int(round(sum(row[f"train_{k}"] for row in history))) for k in ("tp", "fp", "tn", "fn")}
    return {"accuracy_running": float(np.mean([row["train_accuracy"] for row in history])),
            "loss": float(np.mean([row["train_loss"] for row in history])),
            **counts, **{k: v for k, v in rates(counts).items() if k != "accuracy"},
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


def check_train_outputs(out: Mapping[str, str], data: str, info: str, transform: str | None = None,
                        search_files: Sequence[str] = (), **_: Any) -> None:
    """Refused before any work: an output that is (or lies in) an input (the model folder
    by its files). Takes `train_job`'s keyword arguments."""
    inputs = [data, info, transform, *search_files]
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
    check_train_outputs(out, data, info, transform, search_files)
    meta = read_json_object(info, DATASET_INFO, DATASET_KEYS)
    arrays = load_npz(data, ("x_train", "y_train", "day_train", "x_test", "y_test"), DATASET)
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
    from reproflow.ids.predict import save_model_dir
    from reproflow.ids.train import evaluate_set, one_hot_bins, train_arm  # Keras: once the inputs are read
    tags = {"protocol": protocol, f"dataset.{meta['source']}.sha256": meta["data_sha256"], "arm": arm,
            "feature_set": feature_set, "seed": str(seed), "purpose": purpose, "data_source": meta["source_label"]}
    run_name = f"{protocol}/{feature_set}/{arm}/seed{seed}" + (f"/lr{hp['learning_rate']:g}" if purpose == "search" else "")
    job = {"protocol": protocol, "feature_set": feature_set, "arm": arm, "seed": seed, "purpose": purpose}
    with recording(out["run"], [data, info], run_name, tags) as run:
        applies = {k: v for k, v in hp.items() if k != "svm_c" or arm == "gru_svm"}  # C is the SVM head's
        run.log_params({**job, **applies, "n_train": len(y_fit), "data_source": meta["source_label"],
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
            **job, **hp, "n_train": int(len(y_fit)), f"n_{name}": int(len(y_eval)), "source": meta["source"],
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
        # NaN where a metric is not defined (the ROC-AUC of a one-class pass), as in metrics.json
        write_csv(history, out["history"], [data, info], finite=False)
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
        check_train_outputs(**options)
    summaries = []
    for options in configurations:
        keras.backend.clear_session()
        summaries.append(train_job(**options, keep_checkpoint=True))
    for options in configurations:
        shutil.rmtree(options["backup_dir"], ignore_errors=True)   # all done: a rerun must train afresh
    return summaries


def parse_day(*, source: str, day: str, out: Mapping[str, str], max_reject_share: float,
              split_seed: int, test_share: float) -> dict[str, Any]:
    """Parse one daily file (a file, or a folder holding <day>.txt), write its columns,
    rejects and partial statistics; stop when too many lines are malformed."""
    path = Path(source)
    path = find_day_file(path, day) if path.is_dir() else path
    inputs = [source, path]
    for key in ("columns", "stats", "info", "rejects"):
        check_output_path(out[key], inputs, f"{key} output")
    digest = hashlib.sha256()
    # the rejects log is kept when the day then stops: it is what the error points to
    with atomic_output(out["rejects"], inputs, "rejects log") as tmp, RejectLog(tmp) as rejects, \
            open_day_file(path) as handle:
        columns, n_lines = parse_stream(str(path), handle, rejects, on_bytes=digest.update)
    for source_name, line, reason in rejects.examples:
        log.warning("reject %s:%d: %s", source_name, line, reason)
    check_reject_share(rejects.n_rejected, n_lines, max_reject_share, str(path), rejects)
    split = pp.paper_split(len(columns), day, split_seed, test_share)
    columns.save(out["columns"], inputs)
    # stored, not deflated: read once, by the fit, the one job no other job overlaps
    save_npz(out["stats"], compress=False, inputs=inputs,
             **pp.partial_stats(columns, split))
    info = {"day": day, "file": str(path), "sha256": digest.hexdigest(), "lines": n_lines,
            "records": len(columns), "rejected": rejects.n_rejected, "reject_reasons": dict(rejects.reasons),
            "attack": int(pp.attack_labels(columns.label).sum())}
    write_json(out["info"], info, inputs)
    log.info("%s: %d lines, %d records, %d rejected", day, n_lines, len(columns), rejects.n_rejected)
    return info


def split_days(protocol: str, days: Sequence[str], test_days: int) -> dict[str, list[str]]:
    """Which days feed which split's fit: paper, every day both; clean, by date."""
    days = sorted(days)
    if protocol == "paper":
        return {"train": days, "test": days}
    if not 0 < test_days < len(days):
        raise ReproflowError(f"ids.clean.test_days = {test_days} must be between 1 and {len(days) - 1} "
                             f"({len(days)} days configured)")
    split = {"train": days[:-test_days], "test": days[-test_days:]}
    pp.check_clean_days(split["train"], split["test"])
    return split


def fit_protocol(*, protocol: str, stats: Mapping[str, str], days: Sequence[str], test_days: int,
                 out: str) -> dict[str, Any]:
    """Fit one protocol's transform from the days' partial statistics ({day: path})."""
    split = split_days(protocol, days, test_days)
    fitted = pp.fit({name: [stats[day] for day in split[name]] for name in pp.SPLITS}, protocol)
    fitted["days"] = split
    write_json(out, fitted, stats.values())
    return fitted


def transform_day(*, columns: str, fitted: str, day: str, split_seed: int, test_share: float,
                  out: Mapping[str, str]) -> dict[str, Any]:
    """Bin one day with its protocol's fitted transform."""
    spec = read_json_object(fitted, FITTED)
    data = Columns.load(columns)
    if spec["protocol"] == "paper":
        split = pp.paper_split(len(data), day, split_seed, test_share)
    else:
        code = 1 if day in spec["days"]["test"] else 0
        split = np.full(len(data), code, np.uint8)
    arrays, issues = pp.transform(data, split, spec)
    # stored, not deflated (as the day's columns): read once, by the dataset step, and
    # deflating was a fifth of the job
    save_npz(out["binned"], compress=False, inputs=[columns, fitted], **arrays)
    info = {"day": day, "protocol": spec["protocol"], "rows": len(data), **issues}
    write_json(out["info"], info, [columns, fitted])
    return info


def transform_days(*, columns: Mapping[str, str], fitted: str, split_seed: int, test_share: float,
                   out: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    """`transform_day` for every day ({day: columns path}; out: {"binned"/"info": {day: path}})
    in one process: a process per day was mostly interpreter start-up."""
    return {day: transform_day(columns=columns[day], fitted=fitted, day=day, split_seed=split_seed,
                               test_share=test_share, out={key: out[key][day] for key in ("binned", "info")})
            for day in sorted(columns)}


def build_dataset(*, binned: Mapping[str, str], transform_info: Sequence[str], parse_info: Sequence[str],
                  protocol: str, feature_set: str, trim_multiple: int, source: str,
                  out: Mapping[str, str]) -> dict[str, Any]:
    """Concatenate the days (date order), deduplicate, split; arrays + counts."""
    days = sorted(binned)
    inputs = [*binned.values(), *transform_info, *parse_info]
    for path in out.values():
        check_output_path(path, inputs)
    # every input read before anything is written
    parsed = [read_json_object(p, "a day's parse info (rule ids_parse)", ("day", "sha256", "lines", "records",
                                                                          "rejected")) for p in parse_info]
    transformed = [read_json_object(path, BINNED_INFO) for path in transform_info]
    arrays, counts = pp.assemble([binned[d] for d in days], protocol, feature_set,
                                 trim_multiple=trim_multiple if protocol == "paper" else 1)
    issues: Counter[str] = Counter()
    for content in transformed:
        issues.update({key: int(value) for key, value in content.items() if key.startswith(("train.", "test."))})
    combined = hashlib.sha256("".join(f"{p['day']}:{p['sha256']};" for p in sorted(parsed, key=lambda p: p["day"]))
                              .encode()).hexdigest()
    info = {
        "protocol": protocol, "feature_set": feature_set, "days": days, "source": source,
        "source_label": SOURCE_LABELS[source], "data_sha256": combined,
        "features": [pp.FEATURES[i] for i in pp.FEATURE_SETS[feature_set]], "counts": counts,
        "lines": sum(p["lines"] for p in parsed), "records": sum(p["records"] for p in parsed),
        "rejected": sum(p["rejected"] for p in parsed),
        "unseen_categories": {k: v for k, v in issues.items() if ".unseen." in k},
        "out_of_range": {k: v for k, v in issues.items() if ".out_of_range." in k},
    }
    save_npz(out["data"], inputs, **arrays)   # every array checked finite
    write_json(out["info"], info, inputs)
    log.info("%s/%s: train %d rows (%d duplicates), test %d rows, %d test rows in train removed",
             protocol, feature_set, counts["train_final"], counts["train_duplicates"], counts["test_final"],
             counts["test_in_train_removed"])
    return info


SOURCE_LABELS = {"synthetic": "synthetic", "kyoto2013": "Kyoto 2013"}
DATASET_INFO = "a data set's info (rule ids_dataset)"
DATASET_KEYS = ("source", "source_label", "data_sha256", "features")
DATASET = "a data set's arrays (rule ids_dataset)"
FITTED = "a fitted transform (rule ids_fit)"
BINNED_INFO = "a day's transform info (rule ids_transform)"


def baselines_job(*, data: str, info: str, out: str, run_out: str, feature_set: str,
                  names: Sequence[str]) -> dict[str, Any]:
    for path in (out, run_out):   # refused before any work
        check_output_path(path, [data, info])
    meta = read_json_object(info, DATASET_INFO, DATASET_KEYS)
    arrays = load_npz(data, ("x_train", "y_train", "x_test", "y_test"), DATASET)
    from reproflow.ids.baselines import run_baseline
    tags = {"protocol": "clean", f"dataset.{meta['source']}.sha256": meta["data_sha256"],
            "feature_set": feature_set, "data_source": meta["source_label"]}
    results = {}
    with recording(run_out, [data, info], f"clean/{feature_set}/baselines", tags) as run:
        run.log_params({"feature_set": feature_set, "baselines": ",".join(names),
                       "n_train": len(arrays["y_train"]), "n_test": len(arrays["y_test"])})
        for name in names:
            results[name] = run_baseline(name, arrays)
            run.log_metrics({f"{name}_{k}": float(v) for k, v in results[name].items()
                            if isinstance(v, (int, float)) and np.isfinite(v)})
            log.info("%s/%s: accuracy %.4f, balanced %.4f", feature_set, name, results[name]["accuracy"],
                     results[name]["balanced_accuracy"])
        summary = {"protocol": "clean", "feature_set": feature_set, "source_label": meta["source_label"],
                   "baselines": results}
        write_text(out, json.dumps(summary, indent=2), [data, info])
        run.log_artifact(out)
    return summary


def summary_metrics(tables: Mapping[str, Any]) -> dict[str, float]:
    """clean_<features>_<model>_<metric>_{mean,sd} and paper_<model>_<parameter> (Table 3)."""
    values = {}
    for row in tables.get("clean", []):
        name = f"clean_{row['feature_set']}_{row['model']}".replace(" ", "_").replace("-", "_")
        values.update({f"{name}_{k}": float(v) for k, v in row.items()
                       if k.endswith(("_mean", "_sd")) and v is not None and np.isfinite(v)})
    for row in tables.get("table3", []):
        if isinstance(row["ours"], (int, float)):
            values[f"paper_{row['model']}_{row['parameter']}".replace("-", "_")] = float(row["ours"])
    return values


def summary_job(*, finals: Sequence[str], datasets: Mapping[str, str], baselines: Sequence[str],
                out: Mapping[str, str], run_out: str, source: str) -> dict[str, Any]:
    """Write the study's tables and metrics.json, and the run manifest that
    gives them to the MLflow parent run too."""
    from reproflow.ids.report import load_inputs, summarise

    label = SOURCE_LABELS[source]
    inputs = [*finals, *datasets.values(), *baselines]
    for path in [*out.values(), run_out]:   # refused before any work
        check_output_path(path, inputs)
    load_inputs(finals, datasets, baselines)   # and unreadable inputs before any output is written
    with recording(run_out, inputs, "summary", {"data_source": label}) as run:
        metrics = summarise(finals=finals, datasets=datasets, baselines=baselines, out=out, source_label=label)
        values = summary_metrics(metrics["tables"])
        run.log_metrics(values)
        for key, path in out.items():
            run.log_artifact(path, "figures" if key.startswith("fig") else "tables")
    headline("test accuracy (%s data): %s; table in %s", label,
             ", ".join(f"{row['model']} {row['protocol']} {row['ours']}%" for row in metrics["headline"]
                       if row["features"] != "without the 3 detection columns")[:300], out["summary_html"])
    return metrics
