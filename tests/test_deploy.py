"""The workflow used as a module of another workflow, as Snakemake users pick
up a published workflow (`module ...: snakefile:, config:`; what
`snakedeploy deploy-workflow` writes), in a folder that holds nothing else."""

from __future__ import annotations

from collections import Counter

from workflow_utils import REPO, copy_workflow, snakemake


def planned(result) -> Counter:
    """{rule: jobs} of a dry run's `--quiet rules` table."""
    rows = (line.split() for line in result.stdout.splitlines())
    return Counter({row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()})


def test_the_workflow_runs_as_a_module_with_a_user_config(tmp_path):
    user = tmp_path / "user"
    (user / "config").mkdir(parents=True)
    # the user overrides one study: study 2 on WDBC only (the default: WDBC and digits)
    (user / "config/config.yaml").write_text("relu:\n  datasets: [wdbc]\n")
    (user / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n'
        f'module reproflow:\n    snakefile: "{REPO}/workflow/Snakefile"\n    config: config\n'
        "use rule * from reproflow\n"
    )
    jobs = planned(snakemake(user, "-n", "--cores", "1", "--quiet", "rules"))

    # the workflow's own dry run of its default config, for comparison
    default = planned(snakemake(copy_workflow(tmp_path / "copy"), "-n", "--cores", "1", "--quiet", "rules"))
    # relu: one training job per (protocol, data set): the user's WDBC in 2, the default's WDBC and digits in 4
    relu_train = {name: sum(n for rule, n in planned.items() if rule.startswith("relu_train_"))
                  for name, planned in (("user", jobs), ("default", default))}
    assert relu_train == {"user": 2, "default": 4}, (jobs, default)
    assert jobs["relu_train_paper_tabular"] == jobs["relu_train_clean_tabular"] == 1 and not jobs["relu_train_clean_images"]
    # the other studies keep the workflow's defaults
    for rule in ("ids_train", "ids_train_search", "nmr_train_stage", "nmr_simulate", "mlflow_publish"):
        assert jobs[rule] == default[rule] > 0, rule
    # nothing was written into the checkout by the module's run: its outputs
    # and Snakemake's state live in the user's folder
    assert (user / ".snakemake").is_dir()
    assert sorted(path.name for path in user.iterdir()) == [".snakemake", "Snakefile", "config"]
