"""Snakemake adapter: open the MLflow parent run of one study run."""

from reproflow import tracking
from reproflow.config import config_hash
from reproflow.outputs import write_json
from reproflow.runtime import run_logged


def main() -> None:
    study = snakemake.wildcards.study
    tags = tracking.run_tags(config_hash=config_hash(snakemake.config), rule=snakemake.rule)
    uri = tracking.tracking_uri(snakemake.config["tracking"]["uri"])
    run_id = tracking.start_parent_run(
        study, f"{study}-{snakemake.params.run_name}", tags, uri, snakemake.config["tracking"]["artifacts"]
    )
    write_json(snakemake.output[0], {"run_id": run_id, "uri": uri})


run_logged(main, snakemake.log[0])
