"""Snakemake adapter: results/nmr/metrics.json, figures and report; ends the parent run."""

from reproflow.nmr.jobs import summary_job
from reproflow.config import config_hash
from reproflow.runtime import run_logged


def main() -> None:
    summary_job(evaluations=list(snakemake.input.evaluations), boxes=list(snakemake.input.boxes),
                out=dict(snakemake.output.items()), parent=snakemake.input.parent,
                config_hash=config_hash(snakemake.config), rule=snakemake.rule, options=snakemake.params.options)


run_logged(main, snakemake.log[0])
