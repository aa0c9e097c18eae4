"""Snakemake adapter: the clean protocol's baselines on one feature set."""

from reproflow.ids.jobs import baselines_job
from reproflow.runtime import run_logged


def main() -> None:
    baselines_job(data=snakemake.input.data, info=snakemake.input.info, out=snakemake.output.baselines,
                  run_out=snakemake.output.run, feature_set=snakemake.wildcards.features,
                  names=snakemake.params.baselines)


run_logged(main, snakemake.log[0])
