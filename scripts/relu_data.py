"""Snakemake adapter: load and preprocess one (protocol, data set) of study 2."""

from pathlib import Path

from reproflow.relu.jobs import prepare
from reproflow.runtime import run_logged


def main() -> None:
    folder = Path(snakemake.input[0]).parent if snakemake.input else None
    prepare(snakemake.wildcards.dataset, snakemake.wildcards.protocol, snakemake.params.options,
            folder, snakemake.output.npz, snakemake.output.meta)


run_logged(main, snakemake.log[0])
