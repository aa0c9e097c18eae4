"""What the study's rules need from the config (workflow/rules/ids.smk): days,
inputs and the runs to train. Kept here so the rule file holds rules only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reproflow.ids.synth import day_names

WORK = "results/ids/work"
ARMS = ("gru_svm", "gru_softmax")


def days(ids: Mapping[str, Any]) -> list[str]:
    """The configured days, YYYYMMDD, in date order."""
    if not ids:
        return []
    if ids["source"] == "synthetic":
        return day_names(ids["synth"]["first_day"], ids["synth"]["days"])
    return sorted(str(day) for day in ids["days"])


def day_source(ids: Mapping[str, Any], day: str) -> str:
    """A day's raw input: the synthetic file, or the extracted monthly archive
    folder (the daily file is found inside it by name)."""
    if ids["source"] == "synthetic":
        return f"{WORK}/synth/{day}.txt"
    return f"resources/kyoto2013/{day[:6]}"


def lr_name(lr: float) -> str:
    return f"{float(lr):g}"


def final_runs(config: Mapping[str, Any]) -> list[tuple[str, str, str, int]]:
    """(protocol, feature set, arm, seed) of every model that is tested."""
    ids, runs = config.get("ids"), []
    if not ids:
        return []
    for protocol in config["protocols"]:
        seeds = [ids["paper"]["seed"]] if protocol == "paper" else ids["clean"]["seeds"]
        for features in ids["feature_sets"][protocol]:
            runs += [(protocol, features, arm, seed) for arm in ARMS for seed in seeds]
    return runs


def final_metrics(config: Mapping[str, Any]) -> list[str]:
    return [f"{WORK}/{p}/{f}/{a}/seed{s}/metrics.json" for p, f, a, s in final_runs(config)]


def search_metrics(ids: Mapping[str, Any], protocol: str, features: str, arm: str) -> list[str]:
    """The clean protocol's learning-rate search results a final model chooses from."""
    if protocol != "clean":
        return []
    return [f"{WORK}/clean/{features}/search/{arm}/lr{lr_name(lr)}/metrics.json"
            for lr in ids["clean"]["learning_rates"]]


def datasets(config: Mapping[str, Any]) -> dict[str, str]:
    if not config.get("ids"):
        return {}
    return {f"{p}/{f}": f"{WORK}/{p}/{f}/data.json"
            for p in config["protocols"] for f in config["ids"]["feature_sets"][p]}


def baseline_files(config: Mapping[str, Any]) -> list[str]:
    if not config.get("ids") or "clean" not in config["protocols"]:
        return []
    return [f"{WORK}/clean/{f}/baselines.json" for f in config["ids"]["feature_sets"]["clean"]]



def run_manifests(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """{rule: run manifests (run.json)} of every job the study runs, for rule mlflow_publish."""
    def manifest(path: str) -> str:
        return path.replace("metrics.json", "run.json").replace("baselines.json", "baselines_run.json")

    finals = final_runs(config)
    searches = sorted({path for p, f, a, _ in finals for path in search_metrics(config["ids"], p, f, a)})
    return {"ids_train_search": [manifest(p) for p in searches],
            "ids_train": [manifest(p) for p in final_metrics(config)],
            "ids_baselines": [manifest(p) for p in baseline_files(config)],
            "ids_summary": ["results/ids/summary_run.json"]}
