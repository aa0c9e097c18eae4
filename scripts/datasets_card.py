"""Snakemake adapter: one provenance row per downloaded file."""

from pathlib import Path

from reproflow.data import datasets_card
from reproflow.runtime import run_logged


def main() -> None:
    datasets_card(snakemake.params.entries, snakemake.config["download"]["lockfile"], snakemake.output[0])
    # DVC's data stage tracks resources/: it must exist even when this config downloads nothing
    Path("resources").mkdir(exist_ok=True)


run_logged(main, snakemake.log[0])
