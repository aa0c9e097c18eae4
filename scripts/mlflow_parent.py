"""Snakemake adapter: open the MLflow parent run of one study run."""

import json
from pathlib import Path

from reproflow import tracking
from reproflow.runtime import run_logged


def main() -> None:
    study = snakemake.wildcards.study
    tags = tracking.run_tags(config_hash=snakemake.params.config_hash, rule=snakemake.rule)
    uri = tracking.tracking_uri(snakemake.params.uri)
    run_id = tracking.start_parent_run(study, f"{study}-{snakemake.params.run_name}", tags, uri)
    Path(snakemake.output[0]).write_text(json.dumps({"run_id": run_id, "uri": uri}, indent=2))


run_logged(main, snakemake.log[0])
