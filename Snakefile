# reproflow: three published ML studies reproduced, corrected and extended.
# Rules live in workflow/rules/<stage>.smk; logic in the reproflow package.
from snakemake.utils import min_version

from reproflow.config import check_config, load_yaml_file, validate

min_version("9.0")


configfile: "config/config.yaml"


CONFIG_SOURCE = "config (" + " + ".join(map(str, workflow.configfiles)) + ")"
# Snakemake has read the files; read again what it lets through: YAML
# aliases (a few lines can stand for billions of values), non-string keys
for path in workflow.configfiles:
    load_yaml_file(path, "config file")
# jsonschema errors reworded so each names the offending key; NaN and
# infinities refused at every key
validate(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml", CONFIG_SOURCE)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# what a dry run can know beyond the schema (dates, day counts, NMR tiles, sizes)
check_config(config, CONFIG_SOURCE, REGISTRY)


wildcard_constraints:
    dataset="|".join(map(re.escape, REGISTRY)),


include: "workflow/rules/download.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/ids.smk"
include: "workflow/rules/relu.smk"
include: "workflow/rules/nmr.smk"


rule all:
    input:
        all_targets(),
    default_target: True
    localrule: True


onsuccess:
    say_pending_journals()


onerror:
    say_pending_journals()


# One target per study (`snakemake relu_all`): what each DVC stage runs.
for study in config["studies"]:

    rule:
        name:
            f"{study}_all"
        input:
            STUDY_TARGETS[study](),
        localrule: True
