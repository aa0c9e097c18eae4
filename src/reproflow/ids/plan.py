"""What the study's rules need from the config (workflow/rules/ids.smk): days,
inputs and the runs to train. Kept here so the rule file holds rules only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reproflow import paths as common_paths
from reproflow.ids import paths
from reproflow.ids.synth import day_names

ARMS = ("gru_svm", "gru_softmax")


def days(ids: Mapping[str, Any]) -> list[str]:
    """The configured days, YYYYMMDD, in date order."""
    if ids["source"] == "synthetic":
        return day_names(ids["synth"]["first_day"], ids["synth"]["days"])
    return sorted(str(day) for day in ids["days"])


def day_source(ids: Mapping[str, Any], day: str) -> str:
    """A day's raw input: the synthetic file, or the extracted monthly archive
    folder (the daily file is found inside it by name)."""
    if ids["source"] == "synthetic":
        return paths.SYNTH_DAY.format(day=day)
    return common_paths.resource("kyoto2013", day[:6])


def lr_name(lr: float) -> str:
    return f"{float(lr):g}"


def final_runs(config: Mapping[str, Any]) -> list[tuple[str, str, str, int]]:
    """(protocol, feature set, arm, seed) of every model that is tested."""
    ids, runs = config["ids"], []
    for protocol in config["protocols"]:
        seeds = [ids["paper"]["seed"]] if protocol == "paper" else ids["clean"]["seeds"]
        for features in ids["feature_sets"][protocol]:
            runs += [(protocol, features, arm, seed) for arm in ARMS for seed in seeds]
    return runs


def final_metrics(config: Mapping[str, Any], template: str = paths.TRAIN_METRICS) -> list[str]:
    """`template` (a paths.TRAIN_* file) of every model that is tested."""
    return [template.format(protocol=p, features=f, arm=a, seed=s) for p, f, a, s in final_runs(config)]


def search_metrics(ids: Mapping[str, Any], protocol: str, features: str, arm: str,
                   template: str = paths.SEARCH_METRICS) -> list[str]:
    """The clean protocol's learning-rate search results a final model chooses
    from (or `template`, another paths.SEARCH_* file, of those jobs)."""
    if protocol != "clean":
        return []
    return [template.format(features=features, arm=arm, lr=lr_name(lr)) for lr in ids["clean"]["learning_rates"]]


def datasets(config: Mapping[str, Any]) -> dict[str, str]:
    return {f"{p}/{f}": paths.DATASET_INFO.format(protocol=p, features=f)
            for p in config["protocols"] for f in config["ids"]["feature_sets"][p]}


def baseline_files(config: Mapping[str, Any], template: str = paths.BASELINES) -> list[str]:
    """`template` (paths.BASELINES or BASELINES_RUN) of every clean feature set."""
    if "clean" not in config["protocols"]:
        return []
    return [template.format(features=f) for f in config["ids"]["feature_sets"]["clean"]]


def run_manifests(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """{rule: run manifests (run.json)} of every job the study runs, for rule mlflow_publish."""
    searches = sorted({path for p, f, a, _ in final_runs(config)
                       for path in search_metrics(config["ids"], p, f, a, paths.SEARCH_RUN)})
    return {"ids_train_search": searches,
            "ids_train": final_metrics(config, paths.TRAIN_RUN),
            "ids_baselines": baseline_files(config, paths.BASELINES_RUN),
            "ids_summary": [paths.LAYOUT.summary_run]}
