"""Snakemake adapter: MALT1 reference and its simulated echo, anti-echo and NUS inputs."""

from reproflow.nmr.jobs import malt1_job
from reproflow.runtime import run_logged


def main() -> None:
    malt1_job(snakemake.input.spectrum, snakemake.output[0], snakemake.params.nus_fraction, snakemake.params.seed)


run_logged(main, snakemake.log[0])
