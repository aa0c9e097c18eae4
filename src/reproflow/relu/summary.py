"""The study's summary: metrics.json, the comparison with the paper and the
run manifest that gives the MLflow parent run its summary (scripts/relu_summary.py; no Keras needed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reproflow.data import read_json_object
from reproflow.errors import ReproflowError
from reproflow.manifest import recording
from reproflow.outputs import atomic_output, check_finite, check_output_path, write_json, write_text
from reproflow.runtime import headline as say
from reproflow.relu import report
from reproflow.relu.report import PROTOCOL_NOTE

STUDY = "relu"


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
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ReproflowError(f"{path}: {key} = {value!r}; expected numbers") from None
        check_finite(array, f"{path}: {key}")
    return job


def summarize(
    *, jobs: Sequence[str], out: Mapping[str, str], protocols: Sequence[str],
) -> dict[str, Any]:
    """Aggregate the jobs, compare with the paper, write the study's files and its run manifest."""
    inputs = list(jobs)
    for path in out.values():
        check_output_path(path, inputs)
    runs = [checked_job(path) for path in jobs]
    summary = report.aggregate(runs)
    compared = report.comparison(summary, protocols)
    folds = report.fold_table(runs)
    result = {
        "study": STUDY, "protocols": list(protocols),
        "protocol_notes": PROTOCOL_NOTE, "summary": summary,
        "comparison": json.loads(compared.to_json(orient="records")), "jobs": runs,
    }
    write_json(out["metrics"], result, inputs)
    with atomic_output(out["comparison_csv"], inputs) as tmp:
        compared.to_csv(tmp, index=False)
    write_text(out["comparison_html"], report.comparison_html(compared, protocols), inputs)
    headline = report.summary_rows(summary)
    write_text(out["summary_html"], report.summary_html(headline, protocols), inputs)
    with atomic_output(out["folds"], inputs) as tmp:
        folds.to_csv(tmp, index=False)
    write_text(out["folds_html"], report.folds_html(folds), inputs)
    with recording(out["run"], inputs, "summary") as run:  # its metrics and tables go to the parent too
        run.log_metrics(summary_metrics(summary))
        for key, path in out.items():
            if key != "run":
                run.log_artifact(path)
    first = headline[0]
    say("%d rows beside the paper in %s; first: %s %s-%s, %s protocol, test accuracy %s%% (paper %s)", len(headline),
        out["summary_html"], first["dataset"], first["model"], first["head"], first["protocol"], first["ours"],
        "–" if first["paper"] is None else f"{first['paper']:.2f}")
    return result

