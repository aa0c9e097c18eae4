# Helpers shared by the other .smk files (functions and constants only).
import re

from reproflow.config import config_hash, load_registry

REGISTRY = load_registry(
    config["registry"], f"{workflow.basedir}/workflow/schemas/datasets.schema.yaml"
)
CONFIG_HASH = config_hash(config)
ENV = "../../envs/reproflow.yaml"
TF_ENV = "../../envs/tensorflow.yaml"


def file_spec(dataset, name):
    """The registry entry of one remote file, as a plain dict for params."""
    spec = REGISTRY[dataset]["files"][name]
    return {
        "dataset": dataset,
        "name": name,
        "mirror_dir": REGISTRY[dataset].get("mirror_dir", dataset),
        **spec,
    }


def dataset_files(dataset):
    """Local paths of a dataset's files; archives stand for their folder."""
    paths = []
    for name, spec in REGISTRY[dataset]["files"].items():
        if spec.get("extract"):
            paths.append(f"resources/{dataset}/{archive_stem(name)}")
        else:
            paths.append(f"resources/{dataset}/{name}")
    return paths


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


def run_datasets():
    """Registry datasets this run needs: the studies' plus download.datasets."""
    needed = list(config["download"]["datasets"])
    for study in config["studies"]:
        needed += STUDY_DATASETS.get(study, lambda: [])()
    unknown = sorted(set(needed) - set(REGISTRY))
    if unknown:
        raise ValueError(
            f"config: dataset(s) {unknown} are not in the registry {config['registry']} "
            f"(known: {sorted(REGISTRY)})"
        )
    return list(dict.fromkeys(needed))


# Each study's rule file registers a function listing the registry datasets
# it needs, and its final targets.
STUDY_DATASETS = {}
STUDY_TARGETS = {}


def all_targets():
    targets = ["results/data/datasets.csv"]
    for study in config["studies"]:
        targets += STUDY_TARGETS[study]()
    return targets
