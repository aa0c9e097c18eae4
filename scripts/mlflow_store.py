"""Snakemake adapter: create the MLflow store and the studies' experiments."""

import json
from pathlib import Path

from reproflow import tracking
from reproflow.runtime import run_logged


def main() -> None:
    options = snakemake.config["tracking"]
    uri = tracking.tracking_uri(options["uri"])
    ids = tracking.init_store(snakemake.config["studies"], uri, options["artifacts"])
    Path(snakemake.output[0]).write_text(json.dumps({"uri": uri, "experiments": ids}, indent=2))


run_logged(main, snakemake.log[0])
