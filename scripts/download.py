"""Snakemake adapter: fetch one registry file, verified, to resources/."""

from pathlib import Path

from reproflow.download import fetch_registry_file
from reproflow.runtime import run_logged


def main() -> None:
    options = snakemake.config["download"]
    fetch_registry_file(
        snakemake.config["registry"],
        Path(snakemake.scriptdir).parent / "workflow/schemas/datasets.schema.yaml",
        snakemake.wildcards.dataset,
        snakemake.wildcards.file,
        snakemake.output[0],
        mirror=options["mirror"],
        retries=options["retries"],
        backoff_s=options["backoff_s"],
        timeout_s=options["timeout_s"],
        lockfile=options["lockfile"],
    )


run_logged(main, snakemake.log[0])
