"""Our numbers beside the paper's: Tables 3, 4, 6, 7, 9 and the per-fold Tables 5, 8."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from reproflow.relu import paper
from reproflow.relu.evaluate import starved_classes

KEY = ("protocol", "dataset", "model", "head")
PROTOCOL_NOTE = {
    "paper": "authors' CV: one model trained across all folds (each fold validated on data "
             "seen in earlier folds); test from that final model",
    "clean": "fresh model per fold (stratified); final model trained on the whole training "
             "split, tested once",
}
NO_CV_NOTE = "no CV (relu.clean_cv: false): a fresh model trained on the whole training split, tested once"


def cv_note(protocol: str, options: Mapping[str, Any]) -> str:
    """What the job's CV columns mean, for its metrics and MLflow params."""
    return NO_CV_NOTE if protocol == "clean" and not options["clean_cv"] else PROTOCOL_NOTE[protocol]


def _mean_sd(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample sd; None where a job had no value (a clean run without CV)."""
    if any(value is None for value in values):
        return None, None
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


def aggregate(jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (protocol, data set, model, head): means (and sd) over seeds."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for job in jobs:
        groups[tuple(job[k] for k in KEY)].append(job)
    rows = []
    for key, members in sorted(groups.items()):
        row: dict[str, Any] = dict(zip(KEY, key, strict=True))
        row["seeds"] = sorted(job["seed"] for job in members)
        row["cv_accuracy_mean"], row["cv_accuracy_sd_over_seeds"] = _mean_sd([j["cv_accuracy_mean"] for j in members])
        row["cv_accuracy_sd_within_seed"] = _mean_sd([j["cv_accuracy_sd"] for j in members])[0]
        row["test_accuracy_mean"], row["test_accuracy_sd"] = _mean_sd([j["test"]["accuracy"] for j in members])
        for average in ("macro", "weighted"):
            for metric in ("precision", "recall", "f1"):
                row[f"{average}_{metric}_mean"], row[f"{average}_{metric}_sd"] = _mean_sd(
                    [j["test"][average][metric] for j in members])
        row["zero_output_rows"] = int(sum(j["zero_output_rows"] for j in members))
        row["dead_head_units"] = int(sum(len(j.get("dead_head_units", [])) for j in members))
        row["starved_classes"] = int(sum(len(starved_classes(j["test"]["confusion"])) for j in members))
        row["n_test"] = members[0]["n_test"]
        rows.append(row)
    return rows


def _ours(row: dict[str, Any], metric: str) -> tuple[float, float]:
    """Our value of one paper metric, in the paper's units (% or fraction)."""
    if metric == "cv_accuracy":
        if row["cv_accuracy_mean"] is None:
            return np.nan, np.nan
        return 100 * row["cv_accuracy_mean"], 100 * row["cv_accuracy_sd_over_seeds"]
    if metric == "test_accuracy":
        return 100 * row["test_accuracy_mean"], 100 * row["test_accuracy_sd"]
    return row[f"weighted_{metric}_mean"], row[f"weighted_{metric}_sd"]


def comparison(summary: Sequence[dict[str, Any]], protocols: Sequence[str]) -> pd.DataFrame:
    """The paper's tables beside ours (mean over seeds, sd, difference) per protocol."""
    index = {tuple(row[k] for k in KEY): row for row in summary}
    records = []
    for (table, dataset, model), heads in paper.RESULTS.items():
        for head, values in heads.items():
            if not any((p, dataset, model, head) in index for p in protocols):
                continue
            for metric in paper.METRICS:
                record = {"table": table, "dataset": dataset, "model": model, "head": head,
                          "metric": metric, "paper": values[metric]}
                for protocol in protocols:
                    row = index.get((protocol, dataset, model, head))
                    mean, sd = _ours(row, metric) if row else (np.nan, np.nan)
                    record[f"ours_{protocol}"] = mean
                    record[f"ours_{protocol}_sd"] = sd
                    record[f"ours_{protocol}_diff"] = mean - values[metric]
                records.append(record)
    columns = ["table", "dataset", "model", "head", "metric", "paper"] + [
        f"ours_{p}{suffix}" for p in protocols for suffix in ("", "_sd", "_diff")]
    return pd.DataFrame.from_records(records, columns=columns)


def fold_table(jobs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Every job's per-fold loss and accuracy; Tables 5/8 beside the paper protocol's CNN-ReLU."""
    records = []
    for job in sorted(jobs, key=lambda j: tuple(j[k] for k in KEY) + (j["seed"],)):
        reference = paper.paper_folds(job["dataset"], job["model"], job["head"])
        for fold in job["folds"]:
            record = {**{k: job[k] for k in KEY}, "seed": job["seed"], "fold": fold["fold"],
                      "loss": fold["loss"], "accuracy": fold["accuracy"],
                      "paper_table": None, "paper_loss": np.nan, "paper_accuracy": np.nan}
            if reference and job["protocol"] == "paper" and fold["fold"] <= len(reference[1]):
                record["paper_table"] = reference[0]
                record["paper_loss"], record["paper_accuracy"] = reference[1][fold["fold"] - 1]
            records.append(record)
    return pd.DataFrame.from_records(records)


def to_html(table: pd.DataFrame, title: str, note: str) -> str:
    """A small standalone HTML page for the Snakemake report."""
    body = table.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h2>{title}</h2><p>{note}</p>{body}</body></html>\n")
