# Helpers shared by the other .smk files (functions and constants only).
import re

from reproflow import paths as shared_paths
from reproflow.config import ConfigError, config_hash, load_registry
from reproflow.paths import fill

REGISTRY = load_registry(
    config["registry"], f"{ROOT}/workflow/schemas/datasets.schema.yaml"
)
ENV = "../../envs/reproflow.yaml"
# The report's categories (its menu): the data card, then one per study.
REPORT_CATEGORIES = {
    "data": "Data",
    "ids": "Study 1: GRU-SVM intrusion detection (ids)",
    "relu": "Study 2: ReLU as classifier (relu)",
    "nmr": "Study 3: MR-Ai NMR reconstruction (nmr)",
}
# The report lists subcategories in name order: each study's own summary first.
SUMMARY_SUBCATEGORY = "1. Ours beside the paper"
TF_ENV = "../../envs/tensorflow.yaml"


def report_entry(path, category, subcategory, caption, labels):
    """`path` flagged for the report, under REPORT_CATEGORIES[category] and
    `subcategory` (None: none), captioned by workflow/report/<caption>;
    `labels` may hold wildcards."""
    return report(
        path,
        caption=f"../report/{caption}",
        category=REPORT_CATEGORIES[category],
        subcategory=subcategory,
        labels=labels,
    )


def dataset_files(dataset, names=None):
    """Local paths of a dataset's files (all, or `names`); an archive stands
    for the folder it is extracted to."""
    files = REGISTRY[dataset]["files"]
    return [
        shared_paths.resource(
            dataset, archive_stem(name) if files[name].get("extract") else name
        )
        for name in names or files
    ]


def archive_stem(name):
    return re.sub(r"(\.tar\.gz|\.tgz|\.tar|\.zip)$", "", name)


def archive_names():
    """{(dataset, stem): archive file name} for every archive to extract."""
    return {
        (dataset, archive_stem(name)): name
        for dataset, entry in REGISTRY.items()
        for name, spec in entry["files"].items()
        if spec.get("extract")
    }


def run_files():
    """{dataset: [file names]} this run downloads: what the studies need plus
    download.datasets. An item is a dataset name (all its files) or
    "dataset/file" (one file, e.g. one month of an archive series)."""
    items = list(config["download"]["datasets"])
    for study in config["studies"]:
        items += STUDY_DATASETS.get(study, lambda: [])()
    wanted = {}
    for item in items:
        dataset, _, name = item.partition("/")
        if dataset not in REGISTRY or (name and name not in REGISTRY[dataset]["files"]):
            raise ConfigError(
                f"config: {item!r} is not in the data registry {config['registry']} "
                f"(datasets: {sorted(REGISTRY)})"
            )
        names = wanted.setdefault(dataset, [])
        names += [
            n
            for n in ([name] if name else REGISTRY[dataset]["files"])
            if n not in names
        ]
    return wanted


# Each study's rule file registers a function listing the registry items it
# needs (see run_files), and one returning its final targets.
STUDY_DATASETS = {}
STUDY_TARGETS = {}


def all_targets():
    targets = [shared_paths.DATASETS_CARD]
    for study in config["studies"]:
        targets += STUDY_TARGETS[study]()
    return targets
