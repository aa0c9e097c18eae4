"""Snakemake adapter: train and test the (model, head, seed) configurations of one (protocol, data set)."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.relu.jobs import train_jobs  # after the thread limit

    train_jobs(
        npz=snakemake.input.npz, meta=snakemake.input.meta,
        out={key: list(paths) for key, paths in snakemake.output.items()},
        configurations=snakemake.params.configurations, dataset=snakemake.wildcards.dataset,
        protocol=snakemake.params.protocol, options=snakemake.params.options,
        backup_dir=snakemake.params.backup_dir,
    )


run_logged(main, snakemake.log[0])
