"""Snakemake adapter: one provenance row per downloaded file."""

from reproflow.data import datasets_card
from reproflow.runtime import run_logged

run_logged(
    lambda: datasets_card(
        snakemake.params.entries, snakemake.config["download"]["lockfile"], snakemake.output[0]
    ),
    snakemake.log[0],
)
