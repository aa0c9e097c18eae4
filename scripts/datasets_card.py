"""Snakemake adapter: one provenance row per downloaded file (CSV, and HTML for the report)."""

from pathlib import Path

from reproflow.data import datasets_card, datasets_card_html
from reproflow.outputs import write_text
from reproflow.runtime import run_logged


def main() -> None:
    rows = datasets_card(snakemake.params.entries, snakemake.config["download"]["lockfile"], snakemake.output.csv)
    write_text(snakemake.output.html, datasets_card_html(rows))
    # DVC's data stage tracks resources/: it must exist even when this config downloads nothing
    Path("resources").mkdir(exist_ok=True)


run_logged(main, snakemake.log[0])
