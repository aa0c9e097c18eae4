"""Snakemake adapter: fetch one registry file, verified, to resources/."""

from pathlib import Path

from reproflow.config import load_registry
from reproflow.download import fetch, file_specs
from reproflow.runtime import run_logged


def main() -> None:
    schema = Path(snakemake.scriptdir).parent / "workflow/schemas/datasets.schema.yaml"
    registry = load_registry(snakemake.config["registry"], schema)
    spec = file_specs(registry)[(snakemake.wildcards.dataset, snakemake.wildcards.file)]
    options = snakemake.config["download"]
    fetch(
        spec,
        Path(snakemake.output[0]),
        mirror=options["mirror"],
        retries=options["retries"],
        backoff_s=options["backoff_s"],
        timeout_s=options["timeout_s"],
        lockfile=Path(options["lockfile"]),
    )


run_logged(main, snakemake.log[0])
