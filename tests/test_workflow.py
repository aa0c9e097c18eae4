"""The real workflow: lint, dry runs, and a micro run end to end."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter

import pytest
import yaml
from mlflow.tracking import MlflowClient

from workflow_utils import REPO, copy_workflow, git_init, serve_fixture_dataset, snakemake

STUDIES = yaml.safe_load((REPO / "config/config.yaml").read_text())["studies"]


def test_lint_is_clean():
    result = snakemake(REPO, "--lint")
    assert "Lints for" not in result.stdout + result.stderr


def test_default_config_dry_run_is_offline(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    result = snakemake(workdir, "-n", "--quiet", "rules")
    assert "relu" in result.stdout
    assert "download" not in result.stdout


def test_paper_config_dry_run_plans_the_downloads(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    result = snakemake(
        workdir, "-n", "--configfile", "config/paper.yaml",
        "--config", f"download={{mirror: {tmp_path}}}",
    )
    for dataset in ("mnist", "fashion-mnist"):
        assert f"resources/{dataset}/train-images-idx3-ubyte.gz" in result.stdout


def planned_jobs(workdir, *configs: str) -> Counter:
    """{rule: number of jobs} of the dry run's job table."""
    table = snakemake(workdir, *configs, "-n", "--quiet", "rules").stdout
    rows = (line.split() for line in table.splitlines())
    return Counter({row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit()})


@pytest.mark.slow
def test_micro_run_end_to_end(tmp_path, http_server):
    workdir = copy_workflow(tmp_path / "wf")
    files = serve_fixture_dataset(http_server, workdir)
    # a first transfer cut short must resume, not restart
    http_server.truncate_once("/fixture/sample.csv", 1000)
    commit = git_init(workdir)
    configs = ["--configfile", "config/micro.yaml", "config/test.yaml"]
    planned = planned_jobs(workdir, *configs)

    snakemake(workdir, "--cores", "2", *configs)

    # downloads: verified, resumed, extracted, unknown checksum recorded
    assert (workdir / "resources/fixture/sample.csv").read_bytes() == files["sample.csv"]
    assert ("/fixture/sample.csv", "bytes=1000-", 206) in http_server.requests
    assert (workdir / "resources/fixture/bundle/sub/b.txt").read_text() == "beta\n"
    lock = json.loads((workdir / "config/checksums.lock.json").read_text())
    assert lock["fixture/bundle.tar.gz"]["sha256"] == hashlib.sha256(files["bundle.tar.gz"]).hexdigest()
    with open(workdir / "results/data/datasets.csv") as handle:
        card = {row["file"]: row for row in csv.DictReader(handle)}
    assert card["sample.csv"]["checksum_source"] == "registry"
    assert card["bundle.tar.gz"]["checksum_source"] == "recorded"

    # MLflow: one parent run per study, every job's run nested and tagged
    client = MlflowClient(f"sqlite:///{workdir}/results/mlflow/mlflow.db")
    for study in STUDIES:
        experiment = client.get_experiment_by_name(study)
        runs = client.search_runs([experiment.experiment_id])
        parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
        children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
        assert len(parents) == 1 and parents[0].info.status == "FINISHED", study
        assert parents[0].info.run_name == f"{study}-micro"
        assert children, f"no {study} job logged a run"
        # jobs ran in parallel against one store: no run lost, none doubled
        per_rule = Counter(run.data.tags["snakemake_rule"] for run in children)
        assert per_rule == {rule: planned[rule] for rule in per_rule}, (per_rule, planned)
        assert all(run.info.status == "FINISHED" for run in children)
        for run in children:
            assert run.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
            assert run.data.tags["git_commit"] == commit
            assert run.data.tags["config_hash"] == parents[0].data.tags["config_hash"]
            assert run.data.tags["snakemake_rule"].startswith(study)
        trained = [run for run in children if run.data.tags["snakemake_rule"].startswith(f"{study}_train")]
        assert trained, f"no {study}_train run"
        for run in trained:
            assert any(tag.startswith("dataset.") for tag in run.data.tags), run.info.run_name
            assert run.data.params and run.data.metrics
            assert client.list_artifacts(run.info.run_id), f"{run.info.run_name} logged no artifact"
        # per-epoch metrics: the loss of one training run has one point per epoch (and fold)
        loss = next(name for name in trained[0].data.metrics if "loss" in name)
        assert len(client.get_metric_history(trained[0].info.run_id, loss)) >= 1
        assert json.loads((workdir / f"results/{study}/metrics.json").read_text())


    # study 3 scores every cascade stage; the last is the reconstruction the table scores
    test_set = json.loads((workdir / "results/nmr/metrics.json").read_text())["sets"]["test"]
    stages = test_set["network_stages"]["wnn_bf"]
    assert [len(stages[mode]) for mode in ("echo", "antiecho")] == [1, 1]
    for mode in ("echo", "antiecho"):
        assert stages[mode][-1]["r"] == pytest.approx(test_set["table"][f"network_{mode}"]["r"], rel=1e-6)

    # the HTML report
    snakemake(workdir, *configs, "--report", "results/report.html")
    report = workdir / "results/report.html"
    assert report.stat().st_size > 10_000

    # a second run has nothing to do; download settings (a mirror too) re-download nothing;
    # a study's training setting reruns that study's training, not the others'
    again = snakemake(workdir, *configs, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    (workdir / "config/retries.yaml").write_text("download: {retries: 1, mirror: /elsewhere}\n")
    unrelated = snakemake(workdir, *configs, "config/retries.yaml", "-n")
    assert "Nothing to be done" in unrelated.stdout + unrelated.stderr
    (workdir / "config/epochs.yaml").write_text("relu: {epochs: 2}\n")
    changed = snakemake(workdir, *configs, "config/epochs.yaml", "-n", "--quiet", "rules")
    assert "relu_train" in changed.stdout
    assert "ids_train" not in changed.stdout
    # study 3: the sigma networks' training setting retrains them, not the cascade, and
    # simulates nothing again; one more stage or method trains only that one
    (workdir / "config/sigma.yaml").write_text("nmr: {uncertainty: {epochs: 2}}\n")
    changed = planned_jobs(workdir, *configs, "config/sigma.yaml")
    assert changed["nmr_train_sigma"] == 1 and not changed["nmr_train_stage"] and not changed["nmr_simulate"], changed
    (workdir / "config/more.yaml").write_text(
        "nmr: {network: {stages: 2}, uncertainty: {methods: [ist_echo, ist_nus]}}\n")
    changed = planned_jobs(workdir, *configs, "config/more.yaml")
    assert changed["nmr_train_stage"] == 1 and changed["nmr_train_sigma"] == 1 and not changed["nmr_simulate"], changed
