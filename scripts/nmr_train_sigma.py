"""Snakemake adapter: train the NLL uncertainty network of one method."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import train_sigma_job

    inputs = snakemake.input
    method = snakemake.wildcards.method
    kind = "network" if method == "network_echo" else "ist"
    outputs = {s: inputs[f"{kind}_{s}"] for s in ("train", "val")}
    train_sigma_job(
        method=method, data={"train": inputs.train, "val": inputs.val},
        ist_out=outputs if kind == "ist" else {}, network_out=outputs if kind == "network" else {},
        out=snakemake.output.model, curves=snakemake.output.curves, run_out=snakemake.output.run,
        backup=snakemake.params.backup, options=snakemake.params.options, seed=snakemake.params.seed,
    )


run_logged(main, snakemake.log[0])
