"""The study's summary: the paper's Tables 2-5 in the same layout, each of our
numbers beside the paper's with the difference, the clean protocol's mean and
sd over seeds with the baselines, and the accuracy curves (Figures 2, 3).

Every row names its data source ("synthetic" or "Kyoto 2013"): numbers on
synthetic files are never Kyoto 2013 results.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reproflow import htmltable
from reproflow.arrays import write_csv
from reproflow.data import read_json_object
from reproflow.ids import paper
from reproflow.outputs import atomic_output, write_text
from reproflow.runtime import pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ARM_NAMES = {"gru_svm": "GRU-SVM", "gru_softmax": "GRU-Softmax"}
CURVE_LABELS = {"train_accuracy": "training accuracy (running mean over the epoch)",
                "test_accuracy": "test accuracy"}


FINAL_KEYS = ("protocol", "feature_set", "arm", "seed", "learning_rate", "test", "history")


def load_inputs(finals: Sequence[str | Path], datasets: Mapping[str, str | Path],
                baselines: Sequence[str | Path]) -> tuple[list[dict], dict[str, dict], list[dict]]:
    """The summary's inputs: each a JSON object with the keys it needs, else refused with the file named."""
    return ([read_json_object(p, "a final model's metrics (rule ids_train_final)", FINAL_KEYS) for p in finals],
            {key: read_json_object(p, "a data set's info (rule ids_dataset)") for key, p in datasets.items()},
            [read_json_object(p, "baseline results (rule ids_baselines)", ("feature_set", "baselines"))
             for p in baselines])


PARAMETER_LABELS = {
    "n_train": "training data points", "n_test": "test data points", "epochs": "epochs",
    "train_accuracy": "training accuracy", "test_accuracy": "test accuracy", "train_loss": "training loss",
    "test_loss": "test loss", "train_minutes": "training run time (min)", "test_minutes": "test run time (min)",
    "train_fp": "false positives, training", "test_fp": "false positives, test (one pass per epoch)",
    "train_fn": "false negatives, training", "test_fn": "false negatives, test (one pass per epoch)",
    "tpr": "true positive rate", "tnr": "true negative rate", "fpr": "false positive rate",
    "fnr": "false negative rate", "test_f1": "F1 of the attack class, test",
    "test_balanced_accuracy": "balanced accuracy, test", "test_roc_auc": "ROC-AUC, test",
    "test_fp_single_pass": "false positives, one test pass", "test_fn_single_pass": "false negatives, one test pass",
    "always_attack_test_accuracy": "test accuracy of always 'attack'",
}
FIELD_LABELS = {"feature_set": "features", "learning_rate": "learning rate", "paper_train": "paper, train",
                "paper_test": "paper, test", "seeds": "seeds", "data": "data"}
FEATURE_LABELS = {"all": "all 21 features", "no_detection": "without the 3 detection columns"}
MODEL_LABELS = {"always_attack": "always 'attack'", "always attack": "always 'attack'",
                "logreg": "logistic regression", "hgb": "gradient boosting (HGB)"}
MEASURE_LABELS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "f1": "F1 (attack)",
                  "roc_auc": "ROC-AUC", "tpr": "TPR", "fpr": "FPR"}


def paper_number(value: Any) -> str:
    """As the paper prints: counts in full, rates and accuracies to 4 decimals, the rest to 2."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"


def _label(field: str) -> str:
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    measure, _, statistic = field.rpartition("_")
    if statistic in ("mean", "sd") and measure in MEASURE_LABELS:
        return f"{MEASURE_LABELS[measure]} ({statistic})"
    return field.replace("_", " ")


def write_html(rows: Sequence[Mapping[str, Any]], path: str | Path, title: str, banner: str | None = None) -> None:
    """One table, readable labels, numbers as the paper prints them."""
    fields = list(dict.fromkeys(k for row in rows for k in row))
    formats = {"parameter": htmltable.labelled(PARAMETER_LABELS), "feature_set": htmltable.labelled(FEATURE_LABELS),
               "difference": lambda v: ("+" if v > 0 else "") + paper_number(v),
               "model": htmltable.labelled(MODEL_LABELS), "learning_rate": lambda v: f"{v:g}"}
    columns = [htmltable.Column(f, _label(f), formats.get(f, paper_number)) for f in fields]
    write_text(path, htmltable.page(title, [htmltable.table(rows, columns)], banner=banner))


SYNTHETIC_BANNER = ("SYNTHETIC data: these numbers come from generated Kyoto-format files "
                    "(reproflow kyoto synth), not from Kyoto 2013; they are not Kyoto 2013 results.")
# within this many points of the paper's accuracy counts as matching it
TOLERANCE_POINTS = 1.0


def summary_rows(tables: Mapping[str, Sequence[Mapping[str, Any]]], source: str) -> list[dict[str, Any]]:
    """Test accuracy of every arm and baseline, both protocols, beside the paper's GRU figures."""
    paper_accuracy = {ARM_NAMES[arm]: 100 * values["test_accuracy"] for arm, values in paper.TABLE3.items()}
    paper_accuracy[MODEL_LABELS["always_attack"]] = 100 * paper.ALWAYS_ATTACK_TEST_ACCURACY
    rows = []
    for row in [*tables.get("table3", []), *tables.get("comparison", [])]:
        if row["parameter"] in ("test_accuracy", "always_attack_test_accuracy"):   # the arms', then always attack
            rows.append({"protocol": "paper", "model": MODEL_LABELS.get(row["model"], row["model"]),
                         "features": FEATURE_LABELS["all"] if row["parameter"] == "test_accuracy" else "–", "seeds": 1,
                         "ours": f"{100 * row['ours']:.2f}", "value": 100 * row["ours"]})
    arms = list(ARM_NAMES.values())
    for row in sorted(tables.get("clean", []), key=lambda r: (r["feature_set"] != "all", r["feature_set"],
                                                              arms.index(r["model"]) if r["model"] in arms else 9)):
        ours = f"{100 * row['accuracy_mean']:.2f}"
        if row["seeds"] > 1:
            ours += f" ± {100 * row['accuracy_sd']:.2f}"
        rows.append({"protocol": "clean", "model": MODEL_LABELS.get(row["model"], row["model"]), "seeds": row["seeds"], "ours": ours,
                     "features": FEATURE_LABELS.get(row["feature_set"], row["feature_set"]),
                     "value": 100 * row["accuracy_mean"]})
    for row in rows:
        theirs = paper_accuracy.get(row["model"])
        row["paper"] = theirs
        row["difference"] = None if theirs is None else row["value"] - theirs
        row["verdict"] = ("no paper figure (baseline of ours)" if theirs is None
                          else "not comparable: synthetic data" if source == "synthetic"
                          else htmltable.verdict(row["difference"], TOLERANCE_POINTS))
    return rows


SUMMARY_COLUMNS = [
    htmltable.Column("protocol", "protocol"), htmltable.Column("model", "model"),
    htmltable.Column("features", "features"), htmltable.Column("seeds", "seeds"),
    htmltable.Column("ours", "test accuracy % (ours)", numeric=True), htmltable.Column("paper", "paper %", htmltable.fixed(2)),
    htmltable.Column("difference", "difference (points)", htmltable.signed(2)), htmltable.Column("verdict", "verdict"),
]


def write_summary(rows: Sequence[Mapping[str, Any]], path: str | Path, source: str) -> None:
    note = (f"Test accuracy in % (clean: mean ± sd over seeds); the paper's figures are its Table 3 on Kyoto 2013 "
            f"(the always-'attack' figure derived from its Table 2). Verdict: 'matches' within "
            f"{TOLERANCE_POINTS:g} point of the paper. Data: {source}.")
    write_text(path, htmltable.page("Study 1: GRU-SVM intrusion detection (ids), ours beside the paper",
                                    [htmltable.table(rows, SUMMARY_COLUMNS)], note=note,
                                    banner=SYNTHETIC_BANNER if source == "synthetic" else None))


def paper_rows(final: Mapping[str, Mapping[str, Any]], data: Mapping[str, Any], source: str) -> dict[str, list]:
    """Tables 2-5 of the paper protocol (feature set `all`), ours beside the paper's."""
    counts = data["counts"]
    table2 = [{"class": cls, "data": source, "train": counts[f"train_{cls}"], "paper_train": paper.TABLE2["train"][cls],
               "test": counts[f"test_{cls}"], "paper_test": paper.TABLE2["test"][cls]} for cls in ("normal", "attack")]
    tables: dict[str, list] = {"table2": table2, "table3": [], "table4": [], "table5": [], "comparison": []}

    def add(table: str, key: str, model: str, ours: Any, theirs: Any) -> None:
        tables[table].append({"parameter": key, "model": model, "data": source, "ours": ours, "paper": theirs,
                              "difference": None if ours is None or theirs is None else ours - theirs})

    for arm, result in final.items():
        train, test, summed = result["train"], result["test"], result["test_summed_over_epochs"]
        ours = {
            "n_train": result["n_train"], "n_test": result["n_test"], "epochs": result["epochs"],
            "train_accuracy": train["accuracy_running"], "test_accuracy": test["accuracy"],
            "train_loss": train["loss"], "test_loss": test["loss"], "train_minutes": train["seconds"] / 60,
            "test_minutes": result["test_seconds"] / 60, "train_fp": train["fp"], "test_fp": summed["fp"],
            "train_fn": train["fn"], "test_fn": summed["fn"],
        }
        for table, values, theirs in (("table3", ours, paper.TABLE3), ("table4", train, paper.TABLE4),
                                      ("table5", test, paper.TABLE5)):
            for key, value in theirs[arm].items():
                add(table, key, ARM_NAMES[arm], values[key], value)
        extra = {"test_f1": test["f1"], "test_balanced_accuracy": test["balanced_accuracy"],
                 "test_roc_auc": test["roc_auc"], "test_fp_single_pass": test["fp"],
                 "test_fn_single_pass": test["fn"]}
        for key, value in extra.items():
            add("comparison", key, ARM_NAMES[arm], value, paper.DERIVED[arm].get(key))
    add("comparison", "always_attack_test_accuracy", "always attack",
        counts["test_attack"] / max(counts["test_final"], 1), paper.ALWAYS_ATTACK_TEST_ACCURACY)
    return tables


CLEAN_MEASURES = ("accuracy", "balanced_accuracy", "f1", "roc_auc", "tpr", "fpr")


def clean_rows(finals: Sequence[Mapping[str, Any]], baselines: Sequence[Mapping[str, Any]], source: str) -> list[dict]:
    """Clean protocol: mean and sd over seeds per (feature set, arm), and the baselines."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for result in finals:
        groups[(result["feature_set"], result["arm"])].append(result)
    rows = []
    for (feature_set, arm), results in sorted(groups.items()):
        row: dict[str, Any] = {"feature_set": feature_set, "model": ARM_NAMES[arm], "data": source,
                               "seeds": len(results), "learning_rate": results[0]["learning_rate"]}
        for key in CLEAN_MEASURES:
            values = np.array([r["test"][key] for r in results], float)
            row[f"{key}_mean"] = float(np.mean(values))
            row[f"{key}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        rows.append(row)
    for entry in baselines:
        for name, result in entry["baselines"].items():
            row = {"feature_set": entry["feature_set"], "model": name, "data": source, "seeds": 1,
                   "learning_rate": None}
            for key in CLEAN_MEASURES:
                row[f"{key}_mean"], row[f"{key}_sd"] = result[key], None
            rows.append(row)
    return rows


def curve_rows(finals: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"protocol": r["protocol"], "feature_set": r["feature_set"], "arm": r["arm"], "seed": r["seed"],
             "epoch": h["epoch"], "train_accuracy": h["train_accuracy"], "test_accuracy": h["test_accuracy"],
             "train_loss": h["train_loss"], "test_loss": h["test_loss"]} for r in finals for h in r["history"]]


def plot_curves(rows: Sequence[Mapping[str, Any]], key: str, title: str, path: str | Path) -> Figure:
    """One line per (protocol, arm) on feature set `all`; clean averaged over seeds."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, axis = plt.subplots(figsize=(8, 5))
    series: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["feature_set"] == "all":
            series[(row["protocol"], row["arm"])][row["epoch"]].append(row[key])
    for (protocol, arm), by_epoch in sorted(series.items()):
        epochs = sorted(by_epoch)
        axis.plot(epochs, [np.mean(by_epoch[e]) for e in epochs], marker="o",
                  label=f"{ARM_NAMES[arm]}, {protocol} protocol" + (" (mean over seeds)" if protocol == "clean" else ""))
    epochs = sorted({epoch for by_epoch in series.values() for epoch in by_epoch})
    if epochs and len(epochs) <= 15:   # one tick per epoch, never 0.95 or 1.05
        axis.set_xticks(epochs)
        axis.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
    else:
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel(CURVE_LABELS.get(key, key.replace("_", " ")))
    axis.set_title(title)
    axis.legend(title="feature set: all 21 features", fontsize=9, loc="best")
    figure.tight_layout()
    with atomic_output(path, what="figure") as tmp:
        figure.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")
    return figure


def summarise(*, finals: Sequence[str], datasets: Mapping[str, str], baselines: Sequence[str],
              out: Mapping[str, str], source_label: str) -> dict[str, Any]:
    """Write metrics.json, the tables (CSV + HTML), curves CSV and figures."""
    results, data, base = load_inputs(finals, datasets, baselines)   # (each output makes its folder)
    metrics: dict[str, Any] = {"data_source": source_label, "synthetic": source_label == "synthetic",
                               "note": "synthetic Kyoto-format data: not Kyoto 2013 results"
                               if source_label == "synthetic" else "Kyoto 2013 honeypot data",
                               "datasets": data, "runs": [{k: v for k, v in r.items() if k != "history"}
                                                          for r in results]}
    tables: dict[str, list] = {}
    paper_final = {r["arm"]: r for r in results if r["protocol"] == "paper" and r["feature_set"] == "all"}
    if paper_final and "paper/all" in data:
        tables.update(paper_rows(paper_final, data["paper/all"], source_label))
    tables["clean"] = clean_rows([r for r in results if r["protocol"] == "clean"], base, source_label)
    metrics.update(tables=tables, baselines=base)
    titles = {"table2": "Table 2: class distribution", "table3": "Table 3: summary of results",
              "table4": "Table 4: training measures", "table5": "Table 5: test measures",
              "comparison": "Further measures beside the paper's", "clean": "Clean protocol: mean and sd over seeds"}
    banner = SYNTHETIC_BANNER if source_label == "synthetic" else None
    for name, title in titles.items():
        rows = tables.get(name, [])
        # finite=False: NaN where a metric is not defined (the ROC-AUC of a one-class set)
        write_csv(rows, out[f"{name}_csv"], fields=None if rows else ["note"], finite=False)
        write_html(rows or [{"note": "not run in this configuration"}], out[f"{name}_html"],
                   f"{title} (data: {source_label})", banner)
    headline = summary_rows(tables, source_label)
    write_summary(headline, out["summary_html"], source_label)
    curves = curve_rows(results)
    write_csv(curves, out["curves"], finite=False)
    for key, name, title in (("train_accuracy", "fig2", "Figure 2: training accuracy"),
                             ("test_accuracy", "fig3", "Figure 3: test accuracy")):
        pyplot().close(plot_curves(curves, key, f"{title} ({source_label.upper() if source_label == 'synthetic' else source_label} data)", out[name]))
    write_text(out["metrics"], json.dumps(metrics, indent=2, default=float), [*finals, *datasets.values(), *baselines])
    metrics["headline"] = headline   # for the job's terminal line, not metrics.json
    return metrics
