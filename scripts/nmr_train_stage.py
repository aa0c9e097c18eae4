"""Snakemake adapter: train every cascade stage of one architecture (each resumes from its backup if killed)."""

from reproflow.runtime import limit_threads, per_configuration, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import train_stages_job

    params = snakemake.params
    outs = per_configuration(snakemake.output, len(params.backup))
    train_stages_job(
        train=snakemake.input.train, val=snakemake.input.val,
        outs=[{**out, "backup": backup} for out, backup in zip(outs, params.backup)],
        architecture=snakemake.wildcards.arch, options=params.options, seed=params.seed,
    )


run_logged(main, snakemake.log[0])
