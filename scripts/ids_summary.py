"""Snakemake adapter: the study's tables, curves, metrics.json; ends the parent run."""

from reproflow.ids.summary import summary_job
from reproflow.config import config_hash
from reproflow.runtime import run_logged


def main() -> None:
    outputs = {key: value for key, value in snakemake.output.items()}
    summary_job(finals=snakemake.input.finals, datasets=dict(zip(snakemake.params.dataset_keys, snakemake.input.datasets)),
                baselines=snakemake.input.baselines, parent=snakemake.input.parent, out=outputs,
                source=snakemake.params.source, config_hash=config_hash(snakemake.config), rule=snakemake.rule)


run_logged(main, snakemake.log[0])
