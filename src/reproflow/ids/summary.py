"""Jobs without Keras: the baselines and the study summary, each with its run manifest."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reproflow.data import read_json_object
from reproflow.manifest import recording
from reproflow.outputs import check_finite, check_output_path, write_text
from reproflow.ids.baselines import run_baseline
from reproflow.ids.kyoto import open_npz
from reproflow.ids.report import load_inputs, summarise
from reproflow.runtime import headline

log = logging.getLogger(__name__)
STUDY = "ids"
SOURCE_LABELS = {"synthetic": "synthetic", "kyoto2013": "Kyoto 2013"}
DATASET_INFO = "a data set's info (rule ids_dataset)"
DATASET_KEYS = ("source", "source_label", "data_sha256", "features")


def baselines_job(*, data: str, info: str, out: str, run_out: str, feature_set: str,
                  names: Sequence[str]) -> dict[str, Any]:
    for path in (out, run_out):   # refused before any work
        check_output_path(path, [data, info])
    meta = read_json_object(info, DATASET_INFO, DATASET_KEYS)
    with open_npz(data, ("x_train", "y_train", "x_test", "y_test")) as loaded:
        arrays = {key: check_finite(loaded[key], f"{data}: {key}") for key in loaded.files}
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
    label = SOURCE_LABELS[source]
    inputs = [*finals, *datasets.values(), *baselines]
    for path in [*out.values(), run_out]:   # refused before any work
        check_output_path(path, inputs)
    load_inputs(finals, datasets, baselines)   # and unreadable inputs before any output is written
    with recording(run_out, inputs, "summary", {"data_source": label}) as run:
        metrics = summarise(finals=finals, datasets=datasets, baselines=baselines, out=out, source_label=label)
        values = summary_metrics(metrics["tables"])
        run.log_metrics(values)
        folders = {path: "figures" if key.startswith("fig") else "tables" for key, path in out.items()}
        for path, folder in folders.items():
            run.log_artifact(path, folder)
    headline("test accuracy (%s data): %s; table in %s", label,
             ", ".join(f"{row['model']} {row['protocol']} {row['ours']}%" for row in metrics["headline"]
                       if row["features"] != "without the 3 detection columns")[:300], out["summary_html"])
    return metrics
