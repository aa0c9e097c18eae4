"""Snakemake adapter: train one cascade stage (resumes from its backup if killed)."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import train_stage_job

    w = snakemake.wildcards
    train_stage_job(
        train=snakemake.input.train, val=snakemake.input.val, previous=list(snakemake.input.previous),
        out=snakemake.output.model, curves=snakemake.output.curves, run_out=snakemake.output.run,
        backup=snakemake.params.backup, architecture=w.arch, stage=int(w.stage), options=snakemake.params.options,
        seed=snakemake.params.seed,
    )


run_logged(main, snakemake.log[0])
