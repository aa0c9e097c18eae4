"""The study's job list, for the Snakemake rules (cheap to import: no ML libraries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")  # the CNN needs images
JOB_KEYS = ("protocol", "dataset", "model", "head", "seed")


def jobs(relu: Mapping[str, Any], protocols: Sequence[str]) -> list[dict[str, Any]]:
    """One job per (protocol, data set, model, head, seed); the CNN only on images."""
    return [
        {"protocol": protocol, "dataset": dataset, "model": model, "head": head, "seed": seed}
        for protocol in protocols
        for dataset in relu["datasets"]
        for model in relu["models"]
        if model == "ffnn" or dataset in IMAGE_DATASETS
        for head in relu["heads"]
        for seed in relu["seeds"][protocol]
    ]


def job_columns(relu: Mapping[str, Any], protocols: Sequence[str]) -> dict[str, list[Any]]:
    """The job list as columns, for expand(..., zip, **columns)."""
    planned = jobs(relu, protocols)
    return {key: [job[key] for job in planned] for key in JOB_KEYS}
