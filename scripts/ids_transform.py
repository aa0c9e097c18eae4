"""Snakemake adapter: bin one day with its protocol's fitted transform."""

from reproflow.ids.jobs import transform_day
from reproflow.runtime import run_logged


def main() -> None:
    transform_day(columns=snakemake.input.columns, fitted=snakemake.input.fitted, day=snakemake.wildcards.day,
                  split_seed=snakemake.params.split_seed, test_share=snakemake.params.test_share,
                  out=dict(snakemake.output.items()))


run_logged(main, snakemake.log[0])
