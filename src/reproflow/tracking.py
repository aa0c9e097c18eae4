"""MLflow at the edge: one store, one experiment per study, a parent run
per study run and a child run per job, sent by `publish` (rule
mlflow_publish, after the study's summary) from the jobs' run manifests
(`reproflow.manifest`): jobs never talk to MLflow. `publish` also puts the
tags known only at the edge on every run (commit, config hash, rule, study
run). `MLFLOW_TRACKING_URI`, when set, replaces the default store (e.g. a
tracking server on a cluster).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_URI = "sqlite:///results/mlflow/mlflow.db"
DEFAULT_ARTIFACTS = "results/mlflow/artifacts"
PARENT_TAG = "mlflow.parentRunId"
STUDY_RUN_TAG = "reproflow.study_run"   # the parent's key: <study>-<run_name>
JOB_TAG = "reproflow.job"               # a child's key: <rule>:<run name of the job>
MANIFEST_TAG = "reproflow.manifest_sha256"  # an unchanged manifest is not sent again
BATCH = 100
NOTE_TAG = "mlflow.note.content"  # the description MLflow's UI shows for an experiment or a run
# Each experiment's description: what its runs are and the metric schema they share.
STUDY_DESCRIPTIONS = {
    "ids": (
        "Study 1: GRU-SVM intrusion detection (ids), Agarap 2018 on Kyoto 2013. A parent run per study run "
        "(config run_name) carries the summary metrics and the comparison tables; a child run per job. "
        "Compare GRU-SVM with GRU-Softmax: filter `tags.purpose = 'final'`, select both arms, compare. "
        "Metrics shared by both arms (same name, same quantity): per epoch (step = epoch) train_accuracy, "
        "{test,val}_accuracy, _balanced_accuracy, _f1, _roc_auc, _tp/_fp/_tn/_fn (one pass); final_test_* "
        "(the tested model, one pass; the report's *_single_pass); summed_test_tp/fp/tn/fn (summed over "
        "the per-epoch test passes: the report's test_fp, the paper's counts). Losses are named by kind, "
        "since the arms optimise different ones: *_loss_svm_hinge (GRU-SVM) and *_loss_cross_entropy "
        "(GRU-Softmax): compare the arms on the shared metrics, not on a loss."
    ),
    "relu": (
        "Study 2: ReLU as classifier (relu), Agarap 2018 on MNIST, Fashion-MNIST and WDBC. A parent run "
        "per study run carries the summary metrics and the comparison table; a child run per training "
        "job. Per-epoch metrics under the same names in both protocols: loss, accuracy, val_loss, "
        "val_accuracy at a global step (epochs counted across the folds and the final model), with "
        "`fold` logged at each step (0 = the model that is tested). Test metrics: test_accuracy, "
        "test_loss (categorical cross-entropy for both heads), test_f1_macro, ..."
    ),
    "nmr": (
        "Study 3: MR-Ai NMR reconstruction (nmr), Jahangiri et al. A parent run per study run carries "
        "the summary metrics; a child run per job (simulate, train, reconstruct, evaluate)."
    ),
}


# MLflow 3 sends usage telemetry unless told not to, and reads these at its import
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

import mlflow  # noqa: E402  (telemetry must be off before the import)
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from reproflow.errors import ReproflowError  # noqa: E402
from reproflow.manifest import example_array, read_manifest  # noqa: E402

log = logging.getLogger(__name__)


def tracking_uri(default: str = DEFAULT_URI) -> str:
    """The store to use: `MLFLOW_TRACKING_URI` if set, else `default`, made absolute (absolute_uri)."""
    uri = absolute_uri(os.environ.get("MLFLOW_TRACKING_URI") or default)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return uri


def client(uri: str | None = None) -> MlflowClient:
    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri)


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """An exclusive lock beside a SQLite store: concurrent first writers to a
    fresh SQLite file race in MLflow's schema migration and crash."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    lock = Path(uri.removeprefix("sqlite:///") + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_server(uri: str) -> bool:
    """A tracking server (http/https) rather than a store this process opens itself."""
    return uri.startswith(("http://", "https://"))


def experiment_id(mlflow_client: MlflowClient, name: str, artifact_root: str = DEFAULT_ARTIFACTS) -> str:
    """The experiment's id, created if missing: artifacts under
    artifact_root/name for a local store; a tracking server keeps its own
    artifact location (with --serve-artifacts, jobs upload through it, so
    nodes need no shared folder)."""
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is None:
        location = None if is_server(mlflow_client.tracking_uri) else (Path(artifact_root).resolve() / name).as_uri()
        try:
            mlflow_client.create_experiment(name, artifact_location=location)
        except mlflow.exceptions.MlflowException:
            pass  # another job created it between our lookup and our insert
        experiment = mlflow_client.get_experiment_by_name(name)
    description = STUDY_DESCRIPTIONS.get(name)
    if description and experiment.tags.get(NOTE_TAG) != description:
        mlflow_client.set_experiment_tag(experiment.experiment_id, NOTE_TAG, description)
    return experiment.experiment_id


def git_commit(repo: str | Path = ".") -> str:
    """The checked-out commit, with '-dirty' if tracked files were changed."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def absolute_uri(uri: str) -> str:
    """A relative SQLite path made absolute: MLflow caches stores by URI, so a
    relative one would follow whichever folder opened it first."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri


class KerasFlavor:
    """mlflow.keras, with the model folder made first: MLflow 3.17's
    keras.save_model writes the input example before it creates the folder."""

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def send_keras_model(mlflow_client: MlflowClient, run_id: str, record: Mapping[str, Any], where: str) -> None:
    """Load the saved .keras file and log it as an MLflow model of the run,
    with a signature and the manifest's input example."""
    import importlib

    import keras
    import mlflow.keras
    import numpy as np
    import tensorflow as tf
    from mlflow.models import Model, infer_signature

    for module in record.get("modules", []):
        importlib.import_module(module)  # registers the model's custom layers and losses
    model = keras.saving.load_model(record["path"], compile=False, safe_mode=True)
    # Model.log checks the input example by a pyfunc prediction, whose progress bar would reach the terminal
    keras.utils.disable_interactive_logging()
    example = example_array(record, where)
    signature = infer_signature(example, np.asarray(model.predict(example, verbose=0)))
    mlflow.set_tracking_uri(mlflow_client.tracking_uri)  # Model.log opens the store by the global URI
    # pinned requirements: inferring them would load the model again in a child process (slow)
    # made here, in the run's experiment: Model.log would put it in the active (default) experiment
    logged = mlflow_client.create_logged_model(mlflow_client.get_run(run_id).info.experiment_id,
                                               name=record["name"], source_run_id=run_id)
    Model.log(artifact_path=None, name=record["name"], flavor=KerasFlavor, flavor_name="mlflow.keras",
              model=model, run_id=run_id, model_id=logged.model_id, signature=signature, input_example=example,
              pip_requirements=[f"keras=={keras.__version__}", f"tensorflow=={tf.__version__}",
                                f"mlflow=={mlflow.__version__}"])


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def edge_tags(config_hash: str, rule: str, study_run: str) -> dict[str, str]:
    """The tags only the publishing side knows: commit, config hash, rule, study run."""
    return {"git_commit": git_commit(), "config_hash": config_hash, "snakemake_rule": rule, "study_run": study_run}


def publish(
    *, study: str, run_name: str, manifests: Mapping[str, Sequence[str | Path]], summary_rule: str,
    config_hash: str, uri: str | None = None, artifact_root: str = DEFAULT_ARTIFACTS,
) -> dict[str, Any]:
    """Send one study run's job manifests ({rule: [run.json, ...]}) to MLflow.

    Idempotent: the parent is found by its study-run tag (created once), each
    job's child by its key tag (rule and run name): an unchanged manifest only
    gets the current edge tags, a changed one a fresh run that replaces the
    old one. The manifest of `summary_rule` also gives the parent its summary
    metrics and tables. Returns {"uri", "parent", "children": {key: run id}}.
    A store that does not answer is a ReproflowError saying to rerun."""
    jobs = []
    for rule, paths in manifests.items():
        for path in paths:
            manifest = read_manifest(path)
            for item in manifest["artifacts"] + manifest["models"]:
                if not Path(item["path"]).exists():
                    raise ReproflowError(f"{path}: run manifest names {item['path']}, which does not exist; "
                                         "expected the job's outputs beside it (rerun the job)")
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            jobs.append((rule, manifest, digest, str(path)))
    if not any(rule == summary_rule for rule, *_ in jobs):
        raise ReproflowError(f"publish {study}: no manifest of rule {summary_rule}; expected the study's summary")
    uri = absolute_uri(uri or tracking_uri())
    study_run = f"{study}-{run_name}"
    try:
        with store_lock(uri):
            mlflow_client = client(uri)
            experiment = experiment_id(mlflow_client, study, artifact_root)
            parent = parent_run(mlflow_client, experiment, study_run, edge_tags(config_hash, summary_rule, study_run))
            existing: dict[str, list[Any]] = {}
            for run in all_runs(mlflow_client, experiment, f"tags.`{PARENT_TAG}` = '{parent.info.run_id}'"):
                existing.setdefault(run.data.tags.get(JOB_TAG, ""), []).append(run)
            children = {}
            for rule, manifest, digest, path in jobs:
                key = f"{rule}:{manifest['run_name']}"
                tags = {**manifest["tags"], **edge_tags(config_hash, rule, study_run), JOB_TAG: key,
                        MANIFEST_TAG: digest, PARENT_TAG: parent.info.run_id}
                children[key] = publish_child(mlflow_client, experiment, manifest, tags, existing.get(key, []), path)
                if rule == summary_rule:
                    summarise_parent(mlflow_client, parent, manifest)
            mlflow_client.set_terminated(parent.info.run_id, "FINISHED")
    except ReproflowError:
        raise
    except Exception as error:  # MlflowException, sqlite's OperationalError, requests' errors, ...
        raise ReproflowError(
            f"MLflow store {uri} did not take the {study!r} runs ({first_line(error)}); the jobs' outputs are "
            "kept: once the store answers, run snakemake again (it reruns only the publish job)") from error
    log.info("published %d run(s) of %s under parent %s to %s", len(children), study_run, parent.info.run_id, uri)
    return {"uri": uri, "experiment": experiment, "parent": parent.info.run_id, "children": children}


def all_runs(mlflow_client: MlflowClient, experiment: str, filter_string: str) -> list[Any]:
    runs, token = [], None
    while True:
        page = mlflow_client.search_runs([experiment], filter_string, max_results=1000, page_token=token)
        runs += list(page)
        token = page.token
        if not token:
            return runs


def parent_run(mlflow_client: MlflowClient, experiment: str, study_run: str, tags: Mapping[str, str]) -> Any:
    """The study run's parent: the one with its tag (the oldest, should two
    publishers have raced), else a new one."""
    found = all_runs(mlflow_client, experiment, f"tags.`{STUDY_RUN_TAG}` = '{study_run}'")
    if found:
        parent = min(found, key=lambda run: run.info.start_time)
        mlflow_client.log_batch(parent.info.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        return mlflow_client.get_run(parent.info.run_id)
    return mlflow_client.create_run(experiment, run_name=study_run, tags={**tags, STUDY_RUN_TAG: study_run})


def publish_child(mlflow_client: MlflowClient, experiment: str, manifest: Mapping[str, Any],
                  tags: Mapping[str, str], existing: Sequence[Any], where: str) -> str:
    """The job's child run: kept when it holds this very manifest (its tags
    refreshed), else logged afresh and the old ones deleted."""
    if (len(existing) == 1 and existing[0].info.status == "FINISHED"
            and existing[0].data.tags.get(MANIFEST_TAG) == tags[MANIFEST_TAG]):
        run_id = existing[0].info.run_id
        mlflow_client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        return run_id
    run_id = mlflow_client.create_run(experiment, run_name=manifest["run_name"], tags=dict(tags)).info.run_id
    send_manifest(mlflow_client, run_id, manifest, where)
    mlflow_client.set_terminated(run_id, "FINISHED")
    for old in existing:  # after the new run is whole: a publish killed here leaves both, the next keeps one
        for model in mlflow_client.search_logged_models([experiment], f"source_run_id = '{old.info.run_id}'"):
            mlflow_client.delete_logged_model(model.model_id)  # else the Models tab keeps the replaced ones
        mlflow_client.delete_run(old.info.run_id)
    return run_id


def send_manifest(mlflow_client: MlflowClient, run_id: str, manifest: Mapping[str, Any], where: str) -> None:
    params = [Param(k, v) for k, v in manifest["params"].items()]
    metrics = [Metric(k, v, item["time"], item["step"]) for item in manifest["metrics"]
               for k, v in item["values"].items()]
    for first in range(0, max(len(params), len(metrics)), BATCH):  # log_batch takes at most 100 params a call
        mlflow_client.log_batch(run_id, metrics=metrics[first:first + BATCH], params=params[first:first + BATCH])
    if manifest["datasets"]:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        mlflow_client.log_inputs(run_id, datasets=[DatasetInput(
            Dataset(name=item["name"], digest=item["sha256"][:16], source_type="local",
                    source=json.dumps({"uri": str(Path(item["source"]).resolve())}),
                    profile=json.dumps({"sha256": item["sha256"]})),
            tags=[InputTag("mlflow.data.context", item["context"])]) for item in manifest["datasets"]])
    for item in manifest["artifacts"]:
        log_file = mlflow_client.log_artifacts if item["folder"] else mlflow_client.log_artifact
        log_file(run_id, item["path"], item["artifact_path"])
    for model in manifest["models"]:
        send_keras_model(mlflow_client, run_id, model, f"{where}: model {model['name']!r}")


def summarise_parent(mlflow_client: MlflowClient, parent: Any, manifest: Mapping[str, Any]) -> None:
    """The study's summary metrics (only those that changed: a republish adds
    no points) and its tables on the parent run, what the UI shows first."""
    current = parent.data.metrics
    metrics = [Metric(k, v, item["time"], 0) for item in manifest["metrics"]
               for k, v in item["values"].items() if current.get(k) != v]
    for first in range(0, len(metrics), BATCH):
        mlflow_client.log_batch(parent.info.run_id, metrics=metrics[first:first + BATCH])
    for item in manifest["artifacts"]:
        log_file = mlflow_client.log_artifacts if item["folder"] else mlflow_client.log_artifact
        log_file(parent.info.run_id, item["path"], item["artifact_path"] or "summary")
