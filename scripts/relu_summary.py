"""Snakemake adapter: study 2's metrics.json, comparison with the paper, the run manifest."""

from reproflow.relu.jobs import summarize
from reproflow.runtime import run_logged


def main() -> None:
    summarize(
        jobs=list(snakemake.input.jobs),
        out=dict(snakemake.output.items()), protocols=snakemake.params.protocols,
    )


run_logged(main, snakemake.log[0])
