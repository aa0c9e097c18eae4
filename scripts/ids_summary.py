"""Snakemake adapter: the study's tables, curves, metrics.json and run manifest."""

from reproflow.ids.jobs import summary_job
from reproflow.runtime import run_logged


def main() -> None:
    outputs = {key: value for key, value in snakemake.output.items() if key != "run"}
    summary_job(finals=snakemake.input.finals, datasets=dict(zip(snakemake.params.dataset_keys, snakemake.input.datasets)),
                baselines=snakemake.input.baselines, out=outputs, run_out=snakemake.output.run,
                source=snakemake.params.source)


run_logged(main, snakemake.log[0])
