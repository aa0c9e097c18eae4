# reproflow: three published ML studies reproduced, corrected and extended.
# Rules live in workflow/rules/<stage>.smk; logic in the reproflow package.
import os

from snakemake.utils import min_version

from reproflow.config import check_config, load_yaml_file, module_config, validate

min_version("9.0")


configfile: "config/config.yaml"


# This checkout, also when the workflow is a module of another one (there
# workflow.basedir is the other workflow's folder, and Snakemake skips the
# configfile above: the user's config is laid over config/config.yaml).
ROOT = os.path.realpath(str(workflow.current_basedir))
if os.path.realpath(workflow.basedir) not in (ROOT, os.path.join(ROOT, "workflow")):
    config = module_config(config, ROOT)


CONFIG_SOURCE = "config (" + " + ".join(map(str, workflow.configfiles)) + ")"
# Snakemake has read the files; read again what it lets through: YAML
# aliases (a few lines can stand for billions of values), non-string keys
for path in workflow.configfiles:
    load_yaml_file(path, "config file")
# jsonschema errors reworded so each names the offending key; NaN and
# infinities refused at every key
validate(config, f"{ROOT}/workflow/schemas/config.schema.yaml", CONFIG_SOURCE)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# what a dry run can know beyond the schema (dates, day counts, NMR tiles, sizes)
check_config(config, CONFIG_SOURCE, REGISTRY)


include: "workflow/rules/download.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/ids.smk"
include: "workflow/rules/relu.smk"
include: "workflow/rules/nmr.smk"


rule all:
    default_target: True
    input:
        all_targets(),
    localrule: True


# One target per study (`snakemake relu_all`): what each DVC stage runs.
for study in config["studies"]:

    rule:
        name:
            f"{study}_all"
        input:
            STUDY_TARGETS[study](),
        localrule: True
