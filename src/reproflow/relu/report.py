"""Our numbers beside the paper's: Tables 3, 4, 6, 7, 9 and the per-fold Tables 5, 8."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from reproflow import htmltable
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
        reference = paper.FOLDS_OF.get((job["dataset"], job["model"], job["head"]))
        for fold in job["folds"]:
            record = {**{k: job[k] for k in KEY}, "seed": job["seed"], "fold": fold["fold"],
                      "loss": fold["loss"], "accuracy": fold["accuracy"],
                      "paper_table": None, "paper_loss": np.nan, "paper_accuracy": np.nan}
            if reference and job["protocol"] == "paper" and fold["fold"] <= len(reference[1]):
                record["paper_table"] = reference[0]
                record["paper_loss"], record["paper_accuracy"] = reference[1][fold["fold"] - 1]
            records.append(record)
    return pd.DataFrame.from_records(records)


DATA_LABELS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "wdbc": "WDBC",
               "digits": "digits (scikit-learn)"}
MODEL_LABELS = {"ffnn": "FFNN", "cnn": "CNN"}
HEAD_LABELS = {"softmax": "softmax", "relu": "ReLU"}
# within this many points of the paper's test accuracy counts as matching it
TOLERANCE_POINTS = 1.0


def _verdict(row: Mapping[str, Any], difference: float | None) -> str:
    if difference is None:
        return "no paper figure (not in the paper)"
    text = htmltable.verdict(difference, TOLERANCE_POINTS)
    problems = [f"{row['dead_head_units']} dead output unit(s)" if row["dead_head_units"] else "",
                f"{row['starved_classes']} starved class(es)" if row["starved_classes"] else ""]
    return "; ".join([text] + [p for p in problems if p])


def summary_rows(summary: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every trained (data set, model, head, protocol): test accuracy beside the paper's."""
    order = {name: k for k, name in enumerate(DATA_LABELS)}
    rows = []
    for row in sorted(summary, key=lambda r: (order.get(r["dataset"], 99), r["dataset"], r["model"],
                                              r["head"] != "softmax", r["protocol"] != "paper")):
        table = paper.TABLE_OF.get((row["dataset"], row["model"]))
        theirs = paper.RESULTS[(table, row["dataset"], row["model"])][row["head"]]["test_accuracy"] if table else None
        ours, sd = 100 * row["test_accuracy_mean"], 100 * row["test_accuracy_sd"]
        difference = None if theirs is None else ours - theirs
        rows.append({
            "dataset": DATA_LABELS.get(row["dataset"], row["dataset"]),
            "model": MODEL_LABELS.get(row["model"], row["model"]), "head": HEAD_LABELS.get(row["head"], row["head"]),
            "protocol": row["protocol"], "seeds": len(row["seeds"]),
            "ours": f"{ours:.2f}" + (f" ± {sd:.2f}" if len(row["seeds"]) > 1 else ""),
            "paper": theirs, "paper_table": table or "–", "difference": difference,
            "verdict": _verdict(row, difference),
        })
    return rows


SUMMARY_COLUMNS = [
    htmltable.Column("dataset", "data"), htmltable.Column("model", "model"), htmltable.Column("head", "head"),
    htmltable.Column("protocol", "protocol"), htmltable.Column("seeds", "seeds"),
    htmltable.Column("ours", "test accuracy % (ours)", numeric=True),
    htmltable.Column("paper", "paper %", htmltable.fixed(2)), htmltable.Column("paper_table", "paper's table"),
    htmltable.Column("difference", "difference (points)", htmltable.signed(2)),
    htmltable.Column("verdict", "verdict"),
]


def summary_html(rows: Sequence[Mapping[str, Any]], protocols: Sequence[str]) -> str:
    """Study 2's answer first: ours beside the paper's test accuracy, with a verdict."""
    note = (f"Test accuracy in %, mean ± sd over seeds. Verdict: 'matches' within {TOLERANCE_POINTS:g} point "
            "of the paper, else 'better' or 'below'; a dead output unit is a class whose ReLU output is zero on "
            "every training example, a starved class one predicted for fewer than half of its test rows. "
            + " ".join(f"{p} protocol: {PROTOCOL_NOTE[p]}." for p in protocols))
    return htmltable.page("Study 2: ReLU as classifier (relu), ours beside the paper",
                          [htmltable.table(rows, SUMMARY_COLUMNS)], note=note)


COMPARISON_METRICS = {"cv_accuracy": "CV accuracy %", "test_accuracy": "test accuracy %",
                      "precision": "precision (weighted)", "recall": "recall (weighted)", "f1": "F1 (weighted)"}


def comparison_html(compared: pd.DataFrame, protocols: Sequence[str]) -> str:
    """The paper's Tables 3, 4, 6, 7, 9 beside ours, every metric, readable labels."""
    columns = [htmltable.Column("table", "table")] + [
        htmltable.Column(key, key, htmltable.labelled(labels)) for key, labels in (
            ("dataset", DATA_LABELS), ("model", MODEL_LABELS), ("head", HEAD_LABELS), ("metric", COMPARISON_METRICS))
    ] + [htmltable.Column("paper", "paper", htmltable.fixed(2))]
    for protocol in protocols:
        columns += [htmltable.Column(f"ours_{protocol}", f"ours, {protocol}", htmltable.fixed(2)),
                    htmltable.Column(f"ours_{protocol}_sd", "sd over seeds", htmltable.fixed(2)),
                    htmltable.Column(f"ours_{protocol}_diff", "difference", htmltable.signed(2))]
    return htmltable.page(
        "Study 2: ReLU as classifier (relu), the paper's Tables 3, 4, 6, 7 and 9 beside ours",
        [htmltable.table(compared.to_dict(orient="records"), columns)],
        note="Mean over seeds; accuracies in %, precision/recall/F1 support-weighted as in the paper; "
             "difference = ours - paper. " + " ".join(f"{p} protocol: {PROTOCOL_NOTE[p]}." for p in protocols))


def folds_html(folds: pd.DataFrame) -> str:
    columns = [htmltable.Column("protocol", "protocol"),
               htmltable.Column("dataset", "data", htmltable.labelled(DATA_LABELS)),
               htmltable.Column("model", "model", htmltable.labelled(MODEL_LABELS)),
               htmltable.Column("head", "head", htmltable.labelled(HEAD_LABELS)),
               htmltable.Column("seed", "seed"), htmltable.Column("fold", "fold"),
               htmltable.Column("loss", "validation loss", htmltable.fixed(4)),
               htmltable.Column("accuracy", "validation accuracy", htmltable.fixed(4)),
               htmltable.Column("paper_table", "paper's table"),
               htmltable.Column("paper_loss", "paper loss", htmltable.fixed(4)),
               htmltable.Column("paper_accuracy", "paper accuracy", htmltable.fixed(4))]
    return htmltable.page("Study 2: ReLU as classifier (relu), validation loss and accuracy per fold (Tables 5, 8)",
                          [htmltable.table(folds.to_dict(orient="records"), columns)],
                          note="paper protocol: one model trains on fold after fold; clean: a fresh model per fold.")
