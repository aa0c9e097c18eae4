"""Snakemake adapter: one simulated set of Study 3."""

from reproflow.nmr.jobs import simulate_job
from reproflow.runtime import run_logged


def main() -> None:
    simulate_job(snakemake.output[0], snakemake.wildcards.split, **snakemake.params.recipe)


run_logged(main, snakemake.log[0])
