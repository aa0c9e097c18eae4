# reproflow: three published ML studies reproduced, corrected and extended.
# Rules live in workflow/rules/<stage>.smk; logic in the reproflow package.
from snakemake.utils import min_version

from reproflow.config import validate

min_version("9.0")


configfile: "config/config.yaml"


# jsonschema errors reworded so each names the offending key
validate(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml", "config")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/relu.smk"


rule all:
    input:
        all_targets(),
    default_target: True
