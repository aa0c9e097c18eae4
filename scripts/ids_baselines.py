"""Snakemake adapter: the clean protocol's baselines on one feature set."""

from reproflow.ids.summary import baselines_job
from reproflow.config import config_hash
from reproflow.runtime import run_logged


def main() -> None:
    baselines_job(data=snakemake.input.data, info=snakemake.input.info, parent=snakemake.input.parent,
                  out=snakemake.output[0], feature_set=snakemake.wildcards.features,
                  names=snakemake.params.baselines, config_hash=config_hash(snakemake.config), rule=snakemake.rule)


run_logged(main, snakemake.log[0])
