"""The study's job list, for the Snakemake rules (cheap to import: no ML libraries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")  # the CNN needs images
# one training rule per (protocol, kind); one of its jobs trains all configurations of one data set
DATASET_KINDS = {"images": IMAGE_DATASETS, "tabular": ("wdbc",)}
JOB_KEYS = ("protocol", "dataset", "model", "head", "seed")


def jobs(relu: Mapping[str, Any], protocols: Sequence[str]) -> list[dict[str, Any]]:
    """One configuration per (protocol, data set, model, head, seed), the CNN only on images (a
    training job trains those of one (protocol, data set): `configurations`)."""
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


def configurations(relu: Mapping[str, Any], protocol: str, kind: str) -> list[dict[str, Any]]:
    """The (model, head, seed) one training job of `protocol` trains on one
    data set of `kind` (DATASET_KINDS), in the order of `jobs`."""
    return [
        {"model": model, "head": head, "seed": seed}
        for model in relu["models"]
        if model == "ffnn" or kind == "images"
        for head in relu["heads"]
        for seed in relu["seeds"][protocol]
    ]


def configuration_paths(template: str, protocol: str, configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """`template` (fields protocol, dataset, model, head, seed) for each configuration, {dataset} left a wildcard."""
    return [template.format(protocol=protocol, dataset="{dataset}", **config) for config in configs]
