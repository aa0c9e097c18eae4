"""Snakemake adapter: the cascade's echo and anti-echo reconstructions of one set."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import network_job

    w = snakemake.wildcards
    network_job(data=snakemake.input.data, stages=list(snakemake.input.stages), out=snakemake.output.network,
                run_out=snakemake.output.run, damping_base=snakemake.params.damping, arch=w.arch, set_name=w.nmr_set)


run_logged(main, snakemake.log[0])
