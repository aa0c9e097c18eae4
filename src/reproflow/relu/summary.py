"""The study's summary: metrics.json, the comparison with the paper and the
run manifest that gives the MLflow parent run its summary (scripts/relu_summary.py; no Keras needed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reproflow.data import read_json_object
from reproflow.manifest import recording
from reproflow.outputs import atomic_output, check_output_path, write_json, write_text
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


def summarize(
    *, jobs: Sequence[str], out: Mapping[str, str], protocols: Sequence[str],
) -> dict[str, Any]:
    """Aggregate the jobs, compare with the paper, write the study's files and its run manifest."""
    inputs = list(jobs)
    for path in out.values():
        check_output_path(path, inputs)
    runs = [read_json_object(path, "a relu job's metrics (rule relu_train)", ("test",)) for path in jobs]
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

