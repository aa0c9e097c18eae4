"""Snakemake adapter: table, uncertainty calibration, pSQ and Figure 2a of one set."""

from reproflow.runtime import limit_threads, run_logged


def main() -> None:
    limit_threads(snakemake.threads)
    from reproflow.nmr.jobs import evaluate_job

    inputs = snakemake.input
    params = snakemake.params
    evaluate_job(
        name=snakemake.wildcards.nmr_set, data=inputs.data, ist_out=inputs.ist,
        networks={a: inputs[f"network_{a}"] for a in params.archs},
        sigma_models={m: inputs[f"sigma_{m}"] for m in params.methods}, primary=params.primary,
        out=dict(snakemake.output.items()), spectrum=inputs.get("spectrum"),
    )


run_logged(main, snakemake.log[0])
