"""Snakemake adapter: train and test one (data set, model, head, protocol, seed)."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.relu.jobs import train_job  # after the thread limit

    w = snakemake.wildcards
    train_job(
        npz=snakemake.input.npz, meta=snakemake.input.meta,
        out=dict(snakemake.output.items()), dataset=w.dataset, model=w.model, head=w.head,
        protocol=w.protocol, seed=int(w.seed), options=snakemake.params.options,
    )


run_logged(main, snakemake.log[0])
