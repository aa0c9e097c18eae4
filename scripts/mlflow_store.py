"""Snakemake adapter: create the MLflow store and the studies' experiments."""

import json
from pathlib import Path

from reproflow import tracking
from reproflow.runtime import run_logged


def main() -> None:
    uri = tracking.tracking_uri(snakemake.params.uri)
    ids = tracking.init_store(snakemake.params.experiments, uri, snakemake.params.artifacts)
    Path(snakemake.output[0]).write_text(json.dumps({"uri": uri, "experiments": ids}, indent=2))


run_logged(main, snakemake.log[0])
