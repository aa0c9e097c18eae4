"""Snakemake adapter: create the MLflow store and the studies' experiments."""

from reproflow import tracking
from reproflow.outputs import write_json
from reproflow.runtime import run_logged


def main() -> None:
    options = snakemake.config["tracking"]
    uri = tracking.tracking_uri(options["uri"])
    ids = tracking.init_store(snakemake.config["studies"], uri, options["artifacts"])
    write_json(snakemake.output[0], {"uri": uri, "experiments": ids})


run_logged(main, snakemake.log[0])
