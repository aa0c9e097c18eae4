"""Snakemake adapter: unpack one downloaded archive, refusing unsafe members."""

from pathlib import Path

from reproflow.download import extract
from reproflow.runtime import run_logged

cap_gb = snakemake.config["download"].get("max_extract_gb")
run_logged(
    lambda: extract(Path(snakemake.input[0]), Path(snakemake.output[0]),
                    max_bytes=None if cap_gb is None else int(cap_gb * 2**30)),
    snakemake.log[0],
)
