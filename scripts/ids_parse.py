"""Snakemake adapter: parse one day, write its rejects and partial statistics."""

from reproflow.ids.jobs import parse_day
from reproflow.runtime import run_logged


def main() -> None:
    parse_day(source=snakemake.input[0], day=snakemake.wildcards.day, out=dict(snakemake.output.items()),
              max_reject_share=snakemake.params.max_reject_share, split_seed=snakemake.params.split_seed,
              test_share=snakemake.params.test_share)


run_logged(main, snakemake.log[0])
