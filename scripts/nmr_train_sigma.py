"""Snakemake adapter: train the NLL uncertainty network of every method."""

from reproflow.runtime import limit_threads, per_configuration, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import train_sigma_jobs

    inputs = snakemake.input
    params = snakemake.params
    configurations = []
    for method, out, backup in zip(params.methods, per_configuration(snakemake.output, len(params.methods)),
                                   params.backup):
        kind = "network" if method == "network_echo" else "ist"
        outputs = {s: inputs[f"{kind}_{s}"] for s in ("train", "val")}
        configurations.append(dict(
            method=method, data={"train": inputs.train, "val": inputs.val},
            ist_out=outputs if kind == "ist" else {}, network_out=outputs if kind == "network" else {},
            out=out["model"], curves=out["curves"], run_out=out["run"], backup=backup,
            options=params.options, seed=params.seed,
        ))
    train_sigma_jobs(configurations)


run_logged(main, snakemake.log[0])
