"""The real workflow: lint, dry runs, and a micro run end to end."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

import report_check
from reproflow import paths
from reproflow.nmr import paths as nmr_paths
from http_server import FileServer, serve
from workflow_utils import REPO, copy_workflow, expected_child_runs, git_init, merged_config, serve_fixture_dataset, snakemake

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


@dataclass
class MicroRun:
    workdir: Path
    server: FileServer
    files: dict[str, bytes]
    commit: str
    configs: list[str]
    planned: Counter


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory) -> Iterator[MicroRun]:
    """The micro config run once in a scratch copy, its report rendered, for
    every test of this module that reads its outputs."""
    root = tmp_path_factory.mktemp("micro")
    (root / "www").mkdir()
    with serve(root / "www") as server:
        workdir = copy_workflow(root / "wf")
        files = serve_fixture_dataset(server, workdir)
        # a first transfer cut short must resume, not restart
        server.truncate_once("/fixture/sample.csv", 1000)
        commit = git_init(workdir)
        configs = ["--configfile", "config/micro.yaml", "config/test.yaml"]
        planned = planned_jobs(workdir, *configs)
        snakemake(workdir, "--cores", "2", *configs)
        snakemake(workdir, *configs, "--report", paths.REPORT)
        yield MicroRun(workdir, server, files, commit, configs, planned)


@pytest.mark.slow
def test_micro_run_end_to_end(micro_run):
    workdir, http_server, files = micro_run.workdir, micro_run.server, micro_run.files
    commit, configs, planned = micro_run.commit, micro_run.configs, micro_run.planned

    # downloads: verified, resumed, extracted, unknown checksum recorded
    assert (workdir / "resources/fixture/sample.csv").read_bytes() == files["sample.csv"]
    assert ("/fixture/sample.csv", "bytes=1000-", 206) in http_server.requests
    assert (workdir / "resources/fixture/bundle/sub/b.txt").read_text() == "beta\n"
    lock = json.loads((workdir / "config/checksums.lock.json").read_text())
    assert lock["fixture/bundle.tar.gz"]["sha256"] == hashlib.sha256(files["bundle.tar.gz"]).hexdigest()
    with open(workdir / paths.DATASETS_CARD) as handle:
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
        # jobs ran in parallel against one store: no run lost, none doubled (one per
        # configuration: a training job of studies 1 and 3 trains several)
        per_rule = Counter(run.data.tags["snakemake_rule"] for run in children)
        expected = expected_child_runs(planned, merged_config(workdir, configs))
        assert per_rule == {rule: expected[rule] for rule in per_rule}, (per_rule, planned)
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
        assert json.loads((workdir / paths.Study(study).metrics).read_text())


    # study 3 scores every cascade stage; the last is the reconstruction the table scores
    test_set = json.loads((workdir / nmr_paths.LAYOUT.metrics).read_text())["sets"]["test"]
    stages = test_set["network_stages"]["wnn_bf"]
    assert [len(stages[mode]) for mode in ("echo", "antiecho")] == [1, 1]
    for mode in ("echo", "antiecho"):
        assert stages[mode][-1]["r"] == pytest.approx(test_set["table"][f"network_{mode}"]["r"], rel=1e-6)

    # the HTML report (rendered by the fixture)
    report = workdir / paths.REPORT
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
    # simulates nothing again; one more stage or method reruns the one job that trains all
    # stages (or all methods), whose finished ones resume from their backups, not retrained
    (workdir / "config/sigma.yaml").write_text("nmr: {uncertainty: {epochs: 2}}\n")
    changed = planned_jobs(workdir, *configs, "config/sigma.yaml")
    assert changed["nmr_train_sigma"] == 1 and not changed["nmr_train_stage"] and not changed["nmr_simulate"], changed
    (workdir / "config/more.yaml").write_text(
        "nmr: {network: {stages: 2}, uncertainty: {methods: [ist_echo, ist_nus]}}\n")
    changed = planned_jobs(workdir, *configs, "config/more.yaml")
    assert changed["nmr_train_stage"] == 1 and changed["nmr_train_sigma"] == 1 and not changed["nmr_simulate"], changed


def metric_keys(run) -> set[str]:
    """A run's metric names, the loss named by its kind brought back to one name."""
    return {key.replace("_loss_svm_hinge", "_loss").replace("_loss_cross_entropy", "_loss")
            for key in run.data.metrics}


def per_epoch_keys(client, run) -> set[str]:
    return {key for key in run.data.metrics if len(client.get_metric_history(run.info.run_id, key)) > 1}


def active_runs(client) -> dict[str, list]:
    return {study: client.search_runs([client.get_experiment_by_name(study).experiment_id], max_results=10000)
            for study in STUDIES}


@pytest.mark.slow
def test_mlflow_store_compares_like_with_like(micro_run):
    """The store read back after the micro run: one parent per study, the
    same metric names for comparable runs, the tags, loadable models; a
    second publish adds no run."""
    import mlflow.keras
    from mlflow.models import Model

    workdir = micro_run.workdir
    client = MlflowClient(f"sqlite:///{workdir}/results/mlflow/mlflow.db")
    mlflow.set_tracking_uri(client.tracking_uri)
    runs = active_runs(client)
    for study, found in runs.items():
        parents = [run for run in found if "mlflow.parentRunId" not in run.data.tags]
        assert [p.info.run_name for p in parents] == [f"{study}-micro"], study
        parent = parents[0]
        assert parent.data.metrics and parent.info.status == "FINISHED", study
        assert client.list_artifacts(parent.info.run_id, "tables" if study == "ids" else "summary"), study
        assert client.get_experiment_by_name(study).tags["mlflow.note.content"]
        for run in found:
            if run is parent:
                continue
            tags = run.data.tags
            assert tags["git_commit"] == micro_run.commit and tags["config_hash"] == parent.data.tags["config_hash"]
            assert tags["reproflow.job"].startswith(tags["snakemake_rule"] + ":"), tags
            if "_train" in tags["snakemake_rule"]:
                assert tags["protocol"], run.info.run_name
                sums = {k: v for k, v in tags.items() if k.startswith("dataset.") and k.endswith(".sha256")}
                assert sums and all(len(v) == 64 for v in sums.values()), run.info.run_name
                assert {d.dataset.digest for d in run.inputs.dataset_inputs} == {v[:16] for v in sums.values()}
                if study != "nmr":
                    assert tags["seed"].isdigit(), run.info.run_name

    # study 1: both GRU arms of one (protocol, feature set, seed) share every metric but the loss's kind
    finals = [run for run in runs["ids"] if run.data.tags.get("snakemake_rule") == "ids_train"]
    pairs: dict[tuple, dict[str, set[str]]] = {}
    for run in finals:
        key = tuple(run.data.tags[k] for k in ("protocol", "feature_set", "seed"))
        pairs.setdefault(key, {})[run.data.tags["arm"]] = metric_keys(run)
    assert pairs and all(set(arms) == {"gru_svm", "gru_softmax"} for arms in pairs.values())
    for arms in pairs.values():
        assert arms["gru_svm"] == arms["gru_softmax"]
        assert {"test_accuracy", "final_test_accuracy", "summed_test_fp", "train_loss"} <= arms["gru_svm"]
    # study 2: both heads have the same metric names; both protocols the same per-epoch names
    relu = [run for run in runs["relu"] if run.data.tags.get("snakemake_rule") == "relu_train"]
    heads: dict[tuple, list[set[str]]] = {}
    for run in relu:
        heads.setdefault(tuple(run.data.tags[k] for k in ("protocol", "dataset", "model", "seed")), []).append(
            set(run.data.metrics))
    assert heads and all(len(keys) == 2 and keys[0] == keys[1] for keys in heads.values()), heads
    epochs: dict[str, list[set[str]]] = {}
    for run in relu:
        epochs.setdefault(run.data.tags["protocol"], []).append(per_epoch_keys(client, run))
    assert set(epochs) == {"paper", "clean"}
    assert all(keys == found[0] for found in epochs.values() for keys in found), epochs
    # the same names in both protocols, the fold a metric, not part of a name (the clean
    # protocol of the micro config trains no folds, so it has no validation metrics)
    assert {"loss", "accuracy", "fold"} <= epochs["clean"][0] <= epochs["paper"][0], epochs
    assert {"val_loss", "val_accuracy"} <= epochs["paper"][0] and not any("fold" in k and k != "fold"
                                                                         for k in epochs["paper"][0])

    # logged models load with mlflow.keras and predict on their logged input example
    for study in ("ids", "relu"):
        experiment = client.get_experiment_by_name(study).experiment_id
        models = client.search_logged_models(experiment_ids=[experiment])
        trained = [run for run in runs[study] if run.data.tags.get("snakemake_rule") in ("ids_train", "relu_train")]
        assert {m.source_run_id for m in models} == {run.info.run_id for run in trained}, study
        uri = f"models:/{models[0].model_id}"
        local = mlflow.artifacts.download_artifacts(uri)
        example = Model.load(local).load_input_example(local)
        predicted = mlflow.keras.load_model(uri).predict(example, verbose=0)
        assert len(predicted) == len(example) and Model.load(local).signature is not None

    # publishing again replaces nothing and adds no run
    before = {study: sorted(run.info.run_id for run in found) for study, found in runs.items()}
    snakemake(workdir, "--cores", "2", *micro_run.configs, "--forcerun", "mlflow_publish")
    assert {study: sorted(run.info.run_id for run in found) for study, found in active_runs(client).items()} == before


# What each study's summary table must hold for the micro config: the first
# cells of its rows (study 2: every data set and model trained, both heads and protocols).
MICRO_SUMMARY_ROWS = {
    "Study 1: GRU-SVM intrusion detection (ids)": [
        ["paper", "GRU-SVM"], ["paper", "GRU-Softmax"], ["paper", "always 'attack'"], ["clean", "GRU-SVM"],
        ["clean", "GRU-Softmax"], ["clean", "always 'attack'"], ["clean", "logistic regression"],
        ["clean", "gradient boosting (HGB)"],
    ],
    "Study 2: ReLU as classifier (relu)": [
        ["WDBC", "FFNN", "softmax", "paper"], ["WDBC", "FFNN", "softmax", "clean"],
        ["WDBC", "FFNN", "ReLU", "paper"], ["WDBC", "FFNN", "ReLU", "clean"],
    ],
    "Study 3: MR-Ai NMR reconstruction (nmr)": [
        ["echo, plain FT"], ["50% NUS, zero-filled FT"], ["echo, network"], ["anti-echo, network"],
        ["echo, CS-IST"], ["anti-echo, CS-IST"], ["50% NUS, CS-IST"],
    ],
}


def table_rows(page: str) -> list[list[list[str]]]:
    """The body rows' cell texts of every table of an HTML page."""
    import html.parser

    class Cells(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables: list[list[list[str]]] = []
            self.in_body = self.in_cell = False

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tbody":
                self.in_body = True
            elif tag == "tr" and self.in_body:
                self.tables[-1].append([])
            elif tag == "td" and self.in_body:
                self.tables[-1][-1].append("")
                self.in_cell = True

        def handle_endtag(self, tag):
            self.in_cell = self.in_cell and tag != "td"
            self.in_body = self.in_body and tag != "tbody"

        def handle_data(self, data):
            if self.in_cell:
                self.tables[-1][-1][-1] += data

    parser = Cells()
    parser.feed(page)
    return parser.tables


@pytest.mark.slow
def test_report_opens_each_study_with_its_summary_table(micro_run):
    report = micro_run.workdir / paths.REPORT
    pages = report_check.summary_pages(report)
    assert set(pages) == set(MICRO_SUMMARY_ROWS)
    for category, expected in MICRO_SUMMARY_ROWS.items():
        rows = table_rows(pages[category])[0]
        assert [row[:len(expected[0])] for row in rows] == expected, category
        header = pages[category].split("<tbody>")[0]
        for column in ("paper", "difference", "verdict"):
            assert column in header, (category, column)
    # the numbers of the synthetic and simulated data are marked as such
    assert "SYNTHETIC data" in pages["Study 1: GRU-SVM intrusion detection (ids)"]
    assert all(row[-1] == "not comparable: synthetic data" or row[-1].startswith("no paper figure")
               for row in table_rows(pages["Study 1: GRU-SVM intrusion detection (ids)"])[0])
    nmr = pages["Study 3: MR-Ai NMR reconstruction (nmr)"]
    assert "SIMULATED spectra" in nmr
    tables = table_rows(nmr)
    assert [row[0] for row in tables[1]] == ["echo, CS-IST"]  # the micro config's one uncertainty model
    assert [row[:2] for row in tables[-1]] == [["wnn_bf, echo", "1"], ["wnn_bf, antiecho", "1"]]
    # every table renders in the browser: no CSV or Markdown among the report's items
    results = report_check.embedded(report, "results")
    assert all(entry["mime_type"] in ("text/html", "image/png") for entry in results.values()), {
        path: entry["mime_type"] for path, entry in results.items()}
    assert paths.DATASETS_CARD_HTML in results


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium from Debian's packages, installed if need be (as root, like tests/slurm/cluster.sh)."""
    installed = subprocess.run([str(REPO / "tests/browser/install_chromium.sh")], capture_output=True, text=True,
                               timeout=900)
    path = report_check.browser()
    if installed.returncode != 0 or path is None:
        pytest.skip(f"headless Chromium is not available and could not be installed from Debian's packages "
                    f"(tests/browser/install_chromium.sh): {(installed.stdout + installed.stderr)[-600:]}")
    return path


@pytest.mark.slow
def test_report_in_headless_chromium(micro_run, chromium):
    """A reader's view: each study's summary table shown, every figure loaded; screenshots kept."""
    artifacts = Path(os.environ.get("REPROFLOW_ARTIFACTS", micro_run.workdir / "results")) / "report-check"
    print(f"screenshots of the report: {artifacts}")
    views = report_check.check(micro_run.workdir / paths.REPORT, artifacts, chromium)
    assert [view.name for view in views] == ["landing", "study1-summary", "study2-summary", "study3-summary"]
    for view, category in zip(views[1:], MICRO_SUMMARY_ROWS):
        assert view.summary["title"].startswith(category.split(":")[0]), view.summary
        assert len(view.summary["tables"][0]) == len(MICRO_SUMMARY_ROWS[category]), view.name
        assert view.screenshot.stat().st_size > 20_000
    figures = report_check.embedded(micro_run.workdir / paths.REPORT, "results")
    assert set(views[0].images) == {path for path, entry in figures.items() if entry["mime_type"] == "image/png"}
