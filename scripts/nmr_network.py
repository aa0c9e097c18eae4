"""Snakemake adapter: the cascade's echo and anti-echo reconstructions of one set."""

from reproflow.config import config_hash
from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import network_job

    w = snakemake.wildcards
    network_job(data=snakemake.input.data, stages=list(snakemake.input.stages), out=snakemake.output[0],
                damping_base=snakemake.params.damping, parent=snakemake.input.parent,
                config_hash=config_hash(snakemake.config), rule=snakemake.rule, arch=w.arch, set_name=w.nmr_set)


run_logged(main, snakemake.log[0])
