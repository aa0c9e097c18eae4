"""Snakemake adapter: CS-IST of echo, anti-echo and NUS inputs of one set."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import ist_job

    ist_job(snakemake.input.data, snakemake.output.ist, snakemake.output.run, snakemake.params.iterations,
            snakemake.wildcards.nmr_set)


run_logged(main, snakemake.log[0])
