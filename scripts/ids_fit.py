"""Snakemake adapter: fit one protocol's transform from the days' statistics."""

from reproflow.ids.jobs import fit_protocol
from reproflow.runtime import run_logged


def main() -> None:
    days = snakemake.params.days
    fit_protocol(protocol=snakemake.wildcards.protocol, stats=dict(zip(days, snakemake.input.stats)),
                 days=days, test_days=snakemake.params.test_days, out=snakemake.output[0])


run_logged(main, snakemake.log[0])
