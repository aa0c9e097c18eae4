"""Snakemake adapter: bin every day with its protocol's fitted transform."""

from reproflow.ids.jobs import transform_days
from reproflow.runtime import run_logged


def main() -> None:
    days = snakemake.params.days
    transform_days(columns=dict(zip(days, snakemake.input.columns)), fitted=snakemake.input.fitted,
                   split_seed=snakemake.params.split_seed, test_share=snakemake.params.test_share,
                   out={"binned": dict(zip(days, snakemake.output.binned)),
                        "info": dict(zip(days, snakemake.output.info))})


run_logged(main, snakemake.log[0])
