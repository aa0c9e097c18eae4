"""The study's job list, for the Snakemake rules (cheap to import: no ML libraries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reproflow.relu.paths import JOB_FILES

IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")  # the CNN needs images
# one training rule per (protocol, kind); one of its jobs trains all configurations of one data set
DATASET_KINDS = {"images": IMAGE_DATASETS, "tabular": ("wdbc",)}
JOB_KEYS = ("protocol", "dataset", "model", "head", "seed")
# the settings (config relu.*) each rule passes to its job
DATA_OPTIONS = ("test_fraction", "split_seed", "pca_components", "drop_first_train")
TRAIN_OPTIONS = ("folds", "epochs", "batch_size", "learning_rate", "dropout", "ffnn_hidden", "wdbc_hidden",
                 "pca_components", "paper_cv_seed", "drop_first_train", "clean_cv")


def jobs(relu: Mapping[str, Any], protocols: Sequence[str]) -> list[dict[str, Any]]:
    """One configuration per (protocol, data set, model, head, seed), the CNN only on images (a
    training job trains those of one (protocol, data set): `configurations`)."""
    return [
        {"protocol": protocol, "dataset": dataset, **config}
        for protocol in protocols
        for dataset in relu["datasets"]
        for config in configurations(relu, protocol, "images" if dataset in IMAGE_DATASETS else "tabular")
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


def configuration_outputs(protocol: str, configs: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """A training job's outputs: each of JOB_FILES for each configuration, {dataset} left a wildcard."""
    return {key: [template.format(protocol=protocol, dataset="{dataset}", **config) for config in configs]
            for key, template in JOB_FILES.items()}
