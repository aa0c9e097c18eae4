"""Snakemake adapter: results/nmr/metrics.json, figures and report; its run manifest."""

from reproflow.nmr.jobs import summary_job
from reproflow.runtime import run_logged


def main() -> None:
    summary_job(evaluations=list(snakemake.input.evaluations), boxes=list(snakemake.input.boxes),
                out=dict(snakemake.output.items()), options=snakemake.params.options)


run_logged(main, snakemake.log[0])
