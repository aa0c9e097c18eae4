"""Snakemake adapter: fetch one registry file, verified, to resources/."""

from pathlib import Path

from reproflow.download import fetch_registry_file
from reproflow.runtime import run_logged

# the keys of the config's download section that fetch takes
FETCH_OPTIONS = ("mirror", "retries", "backoff_s", "timeout_s", "lockfile")


def main() -> None:
    options = snakemake.config["download"]
    fetch_registry_file(
        snakemake.config["registry"],
        Path(snakemake.scriptdir).parent / "workflow/schemas/datasets.schema.yaml",
        snakemake.wildcards.dataset,
        snakemake.wildcards.file,
        snakemake.output[0],
        **{key: options[key] for key in FETCH_OPTIONS},
    )


run_logged(main, snakemake.log[0])
