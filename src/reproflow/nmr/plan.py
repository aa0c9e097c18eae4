"""What Study 3's rules run on, for the Snakemake rules (cheap to import: no
ML libraries): which simulated sets exist and what each depends on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SIMULATED = ("train", "val", "test", "sigma_train", "sigma_val")
# the uncertainty networks' own train and val sets, when `uncertainty.vary` is set
SIGMA_SETS = {"train": "sigma_train", "val": "sigma_val"}


def quality_ranges(split: str, options: Mapping[str, Any]) -> dict[str, list[float]]:
    """How a simulated split varies (`simulate.varied` ranges): the test set
    by `vary`, the uncertainty networks' sets by `uncertainty.vary`, the
    cascade's train and val sets by `network.vary` (unset: not at all)."""
    if split == "test":
        return dict(options.get("vary", {}))
    if split in SIGMA_SETS.values():
        return dict(options["uncertainty"].get("vary", {}))
    return dict(options.get("network", {}).get("vary", {}))


def sigma_sets(options: Mapping[str, Any]) -> dict[str, str]:
    """The sets the uncertainty networks train and stop on: their own
    varied-quality sets when `uncertainty.vary` is set, else the cascade's."""
    return dict(SIGMA_SETS) if options["uncertainty"].get("vary") else {"train": "train", "val": "val"}


def split_recipe(split: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """All one simulated set depends on, as `simulate_job`'s keywords: rule
    nmr_simulate's params, so that a change elsewhere in the study's config
    (the networks' training) does not simulate the data again."""
    return {"simulation": dict(options["simulation"]), "count": options["sets"][split.removeprefix("sigma_")],
            "vary": quality_ranges(split, options), "nus_fraction": options["nus_fraction"],
            "seed": options["seed"] + SIMULATED.index(split) * 1000}


# config keys that say which models exist, not how one of them trains
WHICH_MODELS = ("architectures", "stages", "methods")


def training_options(section: Mapping[str, Any]) -> dict[str, Any]:
    """A training section (`network`, `uncertainty`) without WHICH_MODELS: the
    training rules' params, so that one more stage or method trains only that
    one, not again those already there."""
    return {key: value for key, value in section.items() if key not in WHICH_MODELS}

