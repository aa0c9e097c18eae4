"""Snakemake adapter: fetch one registry file, verified, to resources/."""

from pathlib import Path

from reproflow.download import FileSpec, fetch
from reproflow.runtime import run_logged


def main() -> None:
    spec = dict(snakemake.params.spec)
    spec["urls"] = tuple(spec["urls"])
    options = snakemake.config["download"]
    fetch(
        FileSpec(**spec),
        Path(snakemake.output[0]),
        mirror=options["mirror"],
        retries=options["retries"],
        backoff_s=options["backoff_s"],
        timeout_s=options["timeout_s"],
        lockfile=Path(options["lockfile"]),
    )


run_logged(main, snakemake.log[0])
