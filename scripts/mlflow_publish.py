"""Snakemake adapter: send one study's run manifests to MLflow."""

from reproflow.runtime import run_logged


def main() -> None:
    from reproflow import tracking
    from reproflow.config import config_hash
    from reproflow.outputs import write_json

    study = snakemake.wildcards.study
    options = snakemake.params.tracking
    published = tracking.publish(
        study=study, run_name=snakemake.params.run_name,
        manifests={rule: list(paths) for rule, paths in snakemake.input.items()},
        summary_rule=f"{study}_summary", config_hash=config_hash(snakemake.config),
        uri=tracking.tracking_uri(options["uri"]), artifact_root=options["artifacts"],
    )
    write_json(snakemake.output[0], published, list(snakemake.input))


run_logged(main, snakemake.log[0])
