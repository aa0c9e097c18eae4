"""Each study's path templates and wildcard constraints (reproflow.<study>.paths):
a value the config allows matches its wildcard, else Snakemake finds no rule."""

from __future__ import annotations

import re

import yaml

from reproflow import paths
from reproflow.ids import paths as ids_paths
from reproflow.ids import plan as ids_plan
from reproflow.nmr import paths as nmr_paths
from reproflow.nmr import plan as nmr_plan
from reproflow.relu import paths as relu_paths
from workflow_utils import REPO

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())["properties"]
CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())


def allowed(*keys: str) -> set[str]:
    """The values the config schema allows in the list at `keys`."""
    node = SCHEMA
    for key in keys:
        node = node[key]["properties"] if "properties" in node.get(key, {}) else node[key]
    return set(node["items"]["enum"])


def alternatives(pattern: str) -> set[str]:
    return set(pattern.split("|"))


def test_enumerated_wildcards_take_exactly_what_the_config_allows():
    protocols = allowed("protocols")
    assert alternatives(relu_paths.WILDCARDS["protocol"]) == alternatives(ids_paths.WILDCARDS["protocol"]) == protocols
    assert alternatives(relu_paths.WILDCARDS["dataset"]) == allowed("relu", "datasets")
    assert alternatives(relu_paths.WILDCARDS["model"]) == allowed("relu", "models")
    assert alternatives(relu_paths.WILDCARDS["head"]) == allowed("relu", "heads")
    assert alternatives(ids_paths.WILDCARDS["features"]) == allowed("ids", "feature_sets", "clean")
    assert alternatives(ids_paths.WILDCARDS["arm"]) == set(ids_plan.ARMS)
    assert alternatives(nmr_paths.WILDCARDS["arch"]) == allowed("nmr", "network", "architectures")
    assert alternatives(nmr_paths.WILDCARDS["method"]) == allowed("nmr", "uncertainty", "methods")
    assert alternatives(nmr_paths.WILDCARDS["split"]) == set(nmr_plan.SIMULATED)
    assert alternatives(nmr_paths.WILDCARDS["nmr_set"]) == {*nmr_plan.SIMULATED, "malt1"}


def test_the_default_runs_values_match_their_wildcards():
    ids = CONFIG["ids"]
    values = {
        "day": ids_plan.days(ids),
        "lr": [ids_plan.lr_name(lr) for lr in ids["clean"]["learning_rates"]],
        "seed": [str(seed) for seed in ids["clean"]["seeds"]],
    }
    for wildcard, found in values.items():
        assert found and all(re.fullmatch(ids_paths.WILDCARDS[wildcard], value) for value in found), wildcard
    assert all(re.fullmatch(nmr_paths.WILDCARDS["stage"], str(k)) for k in range(CONFIG["nmr"]["network"]["stages"]))


def test_templates_filled_in_name_the_files_a_job_writes():
    job = {"protocol": "clean", "dataset": "wdbc", "model": "ffnn", "head": "relu", "seed": 2}
    assert relu_paths.JOB_METRICS.format(**job) == "results/relu/work/clean/wdbc/ffnn-relu/seed2/metrics.json"
    assert relu_paths.LAYOUT.log("train/" + relu_paths.JOB.format(**job)) == "logs/relu/train/clean/wdbc/ffnn-relu/seed2.log"
    assert paths.fill(ids_paths.DATASET, protocol="clean") == "results/ids/work/clean/{features}/data.npz"
    assert nmr_paths.model("wnn_bf", 1, "_run.json") == "results/nmr/work/models/wnn_bf/stage1_run.json"
    assert nmr_paths.data() == "results/nmr/work/data/{nmr_set}.npz"
