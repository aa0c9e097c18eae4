"""Snakemake adapter: one simulated set of Study 3."""

from reproflow.nmr.jobs import simulate_job
from reproflow.runtime import run_logged


def main() -> None:
    options = snakemake.params.options
    simulate_job(snakemake.output[0], snakemake.wildcards.split, options, options["seed"])


run_logged(main, snakemake.log[0])
