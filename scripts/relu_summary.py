"""Snakemake adapter: study 2's metrics.json, comparison with the paper, end of the parent run."""

from reproflow.relu.summary import summarize
from reproflow.config import config_hash
from reproflow.runtime import run_logged


def main() -> None:
    summarize(
        jobs=list(snakemake.input.jobs), parent=snakemake.input.parent,
        out=dict(snakemake.output.items()), protocols=snakemake.params.protocols,
        config_hash=config_hash(snakemake.config), rule=snakemake.rule,
    )


run_logged(main, snakemake.log[0])
