"""Snakemake adapter: unpack one downloaded archive, refusing unsafe members."""

from pathlib import Path

from reproflow.download import extract
from reproflow.runtime import run_logged

run_logged(lambda: extract(Path(snakemake.input[0]), Path(snakemake.output[0])), snakemake.log[0])
