"""Snakemake adapter: assemble, deduplicate and split one (protocol, feature set)."""

from reproflow.ids.jobs import build_dataset
from reproflow.runtime import run_logged


def main() -> None:
    build_dataset(binned=dict(zip(snakemake.params.days, snakemake.input.binned)),
                  transform_info=snakemake.input.transform_info, parse_info=snakemake.input.parse_info,
                  protocol=snakemake.wildcards.protocol, feature_set=snakemake.wildcards.features,
                  trim_multiple=snakemake.params.trim_multiple, source=snakemake.params.source,
                  out=dict(snakemake.output.items()))


run_logged(main, snakemake.log[0])
