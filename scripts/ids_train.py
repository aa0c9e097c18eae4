"""Snakemake adapter: train one GRU arm (learning-rate search or final model)."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.ids.jobs import train_job  # after the thread limit

    w = snakemake.wildcards
    search = snakemake.rule == "ids_train_search"
    train_job(
        data=snakemake.input.data, info=snakemake.input.info,
        out=dict(snakemake.output.items()), protocol="clean" if search else w.protocol,
        feature_set=w.features, arm=w.arm, seed=int(snakemake.params.seed if search else w.seed),
        purpose="search" if search else "final", options=snakemake.params.options,
        backup_dir=snakemake.params.backup_dir,
        learning_rate=float(w.lr) if search else None,
        search_files=[] if search else list(snakemake.input.search),
        transform=None if search else snakemake.input.transform,
    )


run_logged(main, snakemake.log[0])
