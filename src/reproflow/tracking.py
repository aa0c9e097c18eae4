"""MLflow tracking: one SQLite store, one experiment per study, a parent run
per study run and a child run per Snakemake job.

The store is created once by the `mlflow_store` rule before any parallel job
writes to it: concurrent first writers to a fresh SQLite file race in the
schema migration and crash. `MLFLOW_TRACKING_URI`, when set, replaces the
default store (e.g. a tracking server on a cluster).

A study run is one `run_name` of the config: its parent run is opened once
(rule `mlflow_parent`) and closed by the study's summary job, which also
stamps it with the hash of the config that produced the final results. Jobs
rerun after a config change log new child runs under the same parent; each
child carries the config hash it ran with. The rules feeding the jobs take no
config-dependent params on purpose: Snakemake 9 skips the rerun checks of
every job downstream of a job that must rerun, so a parent rule that reran on
each config change would hide the jobs' own parameter changes.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_URI = "sqlite:///results/mlflow/mlflow.db"
DEFAULT_ARTIFACTS = "results/mlflow/artifacts"
PARENT_TAG = "mlflow.parentRunId"


def disable_telemetry() -> None:
    """MLflow 3 sends usage telemetry unless told not to."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")


disable_telemetry()

import mlflow  # noqa: E402  (telemetry must be off before the import)
from mlflow.tracking import MlflowClient  # noqa: E402


def tracking_uri(default: str = DEFAULT_URI) -> str:
    """The store to use: `MLFLOW_TRACKING_URI` if set, else `default`."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return uri


def client(uri: str | None = None) -> MlflowClient:
    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri)


def init_store(
    experiments: list[str], uri: str | None = None, artifact_root: str = DEFAULT_ARTIFACTS
) -> dict[str, str]:
    """Create the store (schema migration) and one experiment per study.

    Returns {experiment name: experiment id}. Idempotent.
    """
    mlflow_client = client(uri)
    return {name: experiment_id(mlflow_client, name, artifact_root) for name in experiments}


def experiment_id(mlflow_client: MlflowClient, name: str, artifact_root: str = DEFAULT_ARTIFACTS) -> str:
    """The experiment's id, created (artifacts under artifact_root/name) if missing."""
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = (Path(artifact_root).resolve() / name).as_uri()
    try:
        return mlflow_client.create_experiment(name, artifact_location=location)
    except mlflow.exceptions.MlflowException:
        # another job created it between our lookup and our insert
        return mlflow_client.get_experiment_by_name(name).experiment_id


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


def run_tags(
    *, config_hash: str, rule: str, datasets: Mapping[str, str] | None = None,
    protocol: str | None = None,
) -> dict[str, str]:
    """The tags every run carries: commit, config hash, data checksums, rule."""
    tags = {
        "git_commit": git_commit(),
        "config_hash": config_hash,
        "snakemake_rule": rule,
    }
    if protocol:
        tags["protocol"] = protocol
    for name, sha256 in sorted((datasets or {}).items()):
        tags[f"dataset.{name}.sha256"] = sha256
    return tags


def start_parent_run(
    study: str, run_name: str, tags: Mapping[str, str], uri: str | None = None,
    artifact_root: str = DEFAULT_ARTIFACTS,
) -> str:
    """Open the parent run of one study run; its id is handed to the jobs."""
    mlflow_client = client(uri)
    run = mlflow_client.create_run(
        experiment_id(mlflow_client, study, artifact_root), run_name=run_name, tags=dict(tags)
    )
    return run.info.run_id


def end_parent_run(
    run_id: str, status: str = "FINISHED", uri: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Close the parent run, stamped with the tags of the run that finished it
    (the config hash and commit of the final results)."""
    mlflow_client = client(uri)
    for key, value in (tags or {}).items():
        mlflow_client.set_tag(run_id, key, value)
    mlflow_client.set_terminated(run_id, status=status)


def read_parent_id(path: str | Path) -> str:
    return json.loads(Path(path).read_text())["run_id"]


@contextmanager
def child_run(
    study: str, parent_run_id: str, run_name: str, tags: Mapping[str, str],
    uri: str | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """A run nested under the study's parent run, active for mlflow.log_*."""
    client(uri)
    experiment = mlflow.get_experiment_by_name(study)
    if experiment is None:
        raise RuntimeError(f"MLflow experiment {study!r} does not exist in {tracking_uri()}")
    with mlflow.start_run(
        experiment_id=experiment.experiment_id,
        run_name=run_name,
        tags={**tags, PARENT_TAG: parent_run_id},
    ) as run:
        yield run


def log_params(params: Mapping[str, Any]) -> None:
    """Log a nested mapping of parameters with dotted keys."""
    mlflow.log_params(flatten(params))


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
