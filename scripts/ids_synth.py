"""Snakemake adapter: write the synthetic Kyoto-format days (never Kyoto results)."""

from reproflow.ids.synth import write_days
from reproflow.runtime import run_logged


def main() -> None:
    synth = snakemake.params.synth
    write_days(snakemake.params.out, synth["days"], synth["rows_per_day"], synth["seed"],
               synth["first_day"], synth["label_noise"])


run_logged(main, snakemake.log[0])
