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

import fcntl
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_URI = "sqlite:///results/mlflow/mlflow.db"
DEFAULT_ARTIFACTS = "results/mlflow/artifacts"
PARENT_TAG = "mlflow.parentRunId"
DEFAULT_JOURNAL = "results/mlflow/journal"
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


def disable_telemetry() -> None:
    """MLflow 3 sends usage telemetry unless told not to."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")


disable_telemetry()

import mlflow  # noqa: E402  (telemetry must be off before the import)
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from reproflow.errors import ReproflowError  # noqa: E402
from reproflow.journal import (  # noqa: E402,F401  (re-exported for jobs and the CLI)
    JOURNAL_FOLDER, first_line, pending_journals, read_journal, scan_journals, unsent,
)

log = logging.getLogger(__name__)


def tracking_uri(default: str = DEFAULT_URI) -> str:
    """The store to use: `MLFLOW_TRACKING_URI` if set, else `default`; a
    relative SQLite path is made absolute (MLflow caches stores by URI, so a
    relative one would follow whichever folder opened it first)."""
    uri = absolute_uri(os.environ.get("MLFLOW_TRACKING_URI") or default)
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

    Returns {experiment name: experiment id}. Idempotent, and safe when two
    workflows sharing a store start at once (they take turns).
    """
    uri = uri or tracking_uri()
    with store_lock(uri):
        mlflow_client = client(uri)
        return {name: experiment_id(mlflow_client, name, artifact_root) for name in experiments}


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """An exclusive lock beside a SQLite store: concurrent first writers to a
    fresh SQLite file race in MLflow's schema migration and crash."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    with open(uri.removeprefix("sqlite:///") + ".lock", "a") as handle:
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
    """Open the parent run of one study run; its id is handed to the jobs.

    Strict on purpose: it runs first, in seconds, so an unreachable store
    stops the workflow before any work is done."""
    uri = uri or tracking_uri()
    try:
        with store_lock(uri):
            mlflow_client = client(uri)
            experiment = experiment_id(mlflow_client, study, artifact_root)
        run = mlflow_client.create_run(experiment, run_name=run_name, tags=dict(tags))
    except Exception as error:  # MlflowException, OperationalError, requests errors, ...
        raise ReproflowError(f"MLflow store {uri} did not answer while opening the {study!r} run: "
                             f"{first_line(error)}") from error
    return run.info.run_id


def end_parent_run(
    run_id: str, status: str = "FINISHED", uri: str | None = None,
    tags: Mapping[str, str] | None = None, journal_dir: str | Path = DEFAULT_JOURNAL,
    metrics: Mapping[str, float] | None = None, artifacts: Mapping[str, str | Path] | None = None,
) -> None:
    """Close the parent run, stamped with the tags of the run that finished it
    (the config hash and commit of the final results), the study's summary
    metrics and its tables ({file: artifact folder}). Journaled like a job's
    run, so a store that does not answer loses nothing."""
    run = RunLog.resume(run_id, uri or tracking_uri(), journal_dir, name="parent-end")
    run.set_tags(tags or {})
    if metrics:
        run.log_metrics(metrics)
    for path, folder in (artifacts or {}).items():
        run.log_artifact(path, folder)
    run.end(status)


def read_parent(path: str | Path) -> dict[str, str]:
    """The parent run file written by rule `mlflow_parent`: run_id and uri."""
    from reproflow.data import read_json_object

    return read_json_object(path, "the MLflow parent-run file (rule mlflow_parent)", ("run_id", "uri"))


def journal_dir_of(parent_file: str | Path) -> Path:
    """A study's journals live beside its parent run file: results/<study>/mlflow_journal/."""
    return Path(parent_file).parent / JOURNAL_FOLDER


@contextmanager
def child_run(
    study: str, parent_run_id: str | None, run_name: str, tags: Mapping[str, str],
    uri: str | None = None, journal_dir: str | Path = DEFAULT_JOURNAL,
) -> Iterator[RunLog]:
    """A run nested under the study's parent run. Ends FINISHED, or FAILED
    when the block raises."""
    run = RunLog.start(study, parent_run_id, run_name, tags, uri or tracking_uri(), journal_dir)
    try:
        yield run
    except BaseException:
        run.end("FAILED")
        raise
    run.end("FINISHED")


@contextmanager
def job_run(study: str, parent_file: str | Path, run_name: str, tags: Mapping[str, str]) -> Iterator[RunLog]:
    """A Snakemake job's child run: parent id and store from the parent run
    file, journal beside it."""
    parent = read_parent(parent_file)
    with child_run(study, parent["run_id"], run_name, tags, parent.get("uri"),
                   journal_dir_of(parent_file)) as run:
        yield run


def end_job_parent(parent_file: str | Path, tags: Mapping[str, str], metrics: Mapping[str, float] | None = None,
                   artifacts: Mapping[str, str | Path] | None = None) -> None:
    """Close the parent run named in `parent_file` (the study's summary job),
    with the study's summary metrics and tables."""
    parent = read_parent(parent_file)
    end_parent_run(parent["run_id"], uri=parent.get("uri"), tags=tags,
                   journal_dir=journal_dir_of(parent_file), metrics=metrics, artifacts=artifacts)


def absolute_uri(uri: str) -> str:
    """A relative SQLite path made absolute, so a journal can be re-logged from anywhere."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri


class RunLog:
    """One MLflow run that survives a store that does not answer.

    Each call is first appended to a JSON-lines journal on disk, then sent to
    MLflow. When the store fails (SQLite locked past its timeout, a server
    down), the job goes on: the failure and the re-log command are logged once,
    later calls only reach the journal, and `reproflow mlflow relog` sends the
    unsent part later. Records carry a sequence number; an `offline` record
    names the first one not sent.
    """

    def __init__(self, journal: Path, uri: str, run_id: str | None, online: bool):
        self.journal = journal
        self.uri = uri
        self.run_id = run_id
        self.online = online
        self.seq = 0
        self.client: MlflowClient | None = None  # made on first use: opening a store may fail too

    @classmethod
    def start(cls, study: str, parent_run_id: str | None, run_name: str, tags: Mapping[str, str],
              uri: str, journal_dir: str | Path) -> RunLog:
        uri = absolute_uri(uri)
        all_tags = {**tags, PARENT_TAG: parent_run_id} if parent_run_id else dict(tags)
        end_abandoned(journal_dir, run_name)
        journal = new_journal(journal_dir, run_name)
        run_id, error, mlflow_client = None, None, None
        try:
            mlflow_client = MlflowClient(tracking_uri=uri)
            experiment = mlflow_client.get_experiment_by_name(study)
            if experiment is None:
                raise ReproflowError(f"MLflow experiment {study!r} does not exist in {uri}")
            run_id = mlflow_client.create_run(experiment.experiment_id, run_name=run_name,
                                              tags=all_tags).info.run_id
        except Exception as caught:
            error = caught
        run = cls(journal, uri, run_id, online=error is None)
        run.client = mlflow_client
        run.write({"op": "start", "study": study, "run_name": run_name, "tags": all_tags,
                   "uri": uri, "run_id": run_id, "time": now_ms(), "host": socket.gethostname(),
                   "pid": os.getpid()})
        if error is not None:
            run.go_offline(error, run.seq)
        return run

    @classmethod
    def resume(cls, run_id: str, uri: str, journal_dir: str | Path, name: str) -> RunLog:
        """Journal further calls to an existing run (e.g. closing the parent)."""
        uri = absolute_uri(uri)
        run = cls(new_journal(journal_dir, name), uri, run_id, online=True)
        run.write({"op": "start", "existing": True, "uri": uri, "run_id": run_id, "time": now_ms()})
        return run

    # -- what jobs call --------------------------------------------------------
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log a nested mapping of parameters with dotted keys."""
        self.record({"op": "params", "values": {k: str(v) for k, v in flatten(params).items()}})

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self.record({"op": "metrics", "values": {k: float(v) for k, v in metrics.items()},
                     "step": step, "time": now_ms()})

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        self.log_metrics({key: value}, step)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        if tags:
            self.record({"op": "tags", "values": {k: str(v) for k, v in tags.items()}})

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        self.record({"op": "artifact", "path": str(Path(path).resolve()), "artifact_path": artifact_path})

    def log_artifacts(self, path: str | Path, artifact_path: str | None = None) -> None:
        self.record({"op": "artifacts", "path": str(Path(path).resolve()), "artifact_path": artifact_path})

    def log_figure(self, figure: Any, name: str) -> None:
        """Saved as PNG beside the journal, then logged as an artifact."""
        path = self.journal.with_suffix("") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        self.log_artifact(path, str(Path(name).parent) if Path(name).parent != Path(".") else None)

    def log_keras_model(self, path: str | Path, example: Any, name: str = "model",
                        modules: tuple[str, ...] = ()) -> None:
        """A saved Keras model (.keras) logged as an MLflow model, with a
        signature and an input example (a few input rows, kept beside the
        journal), so the Models tab and the registry show it. Journaled as the
        file, so `reproflow mlflow relog` logs it as well; `modules` register
        the model's custom layers and losses before it is loaded."""
        import numpy as np

        example_path = self.journal.with_suffix("") / f"{journal_stem(name)}_input_example.npy"
        example_path.parent.mkdir(parents=True, exist_ok=True)
        np.save(example_path, np.asarray(example))
        self.record({"op": "keras_model", "path": str(Path(path).resolve()), "name": name,
                     "example": str(example_path), "modules": list(modules)})

    def log_dataset(self, name: str, sha256: str, source: str | Path, context: str = "training") -> None:
        """A data set the run used, with its checksum (MLflow's digest holds the
        first 16 hex digits; the full SHA-256 is in the profile)."""
        self.record({"op": "dataset", "name": name, "digest": sha256[:16], "sha256": sha256,
                     "source": str(source), "context": context})

    def end(self, status: str) -> None:
        self.record({"op": "end", "status": status, "time": now_ms()})

    # -- journal and store -----------------------------------------------------
    def write(self, record: dict[str, Any]) -> None:
        self.seq += 1
        with open(self.journal, "a") as handle:
            handle.write(json.dumps({"seq": self.seq, **record}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record(self, record: dict[str, Any]) -> None:
        self.write(record)
        if not self.online:
            return
        try:
            self.client = self.client or MlflowClient(tracking_uri=self.uri)
            send(self.client, self.run_id, record)
        except Exception as error:
            if invalid_request(error):
                raise  # a bug in the job (e.g. a param logged twice with two values), not the store
            self.go_offline(error, self.seq)

    def go_offline(self, error: BaseException, first_unsent: int) -> None:
        self.online = False
        self.write({"op": "offline", "first_unsent": first_unsent, "error": first_line(error)})
        log.warning("MLflow store %s did not answer (%s). The run goes on; what it logs is kept in %s. "
                    "Send it to MLflow later with: reproflow mlflow relog %s",
                    self.uri, first_line(error), self.journal, shlex.quote(str(self.journal)))


def end_abandoned(journal_dir: str | Path, run_name: str) -> list[Path]:
    """End KILLED the earlier runs of this job that never ended: their process
    died unseen (SIGKILL, out of memory, a cluster's time limit), and MLflow
    would show them RUNNING for ever. A journal of this job without an end is
    dead: Snakemake never runs one job twice at once in a working directory,
    where the journals live. One whose process is still alive on this host is
    left alone all the same. Returns the journals ended."""
    ended = []
    for path in sorted(Path(journal_dir).glob(f"*-{journal_stem(run_name)}-*.jsonl")):  # as new_journal names them
        try:
            records = read_journal(path)
        except ReproflowError:
            continue  # not ours to judge here; `reproflow mlflow relog` names it
        start = records[0]
        if (start.get("run_name") != run_name or any(r["op"] == "end" for r in records)
                or (start.get("host") == socket.gethostname() and process_alive(start.get("pid")))):
            continue
        synced = [r["run_id"] for r in records if r["op"] == "synced"]  # relog may have made the run
        run_id = synced[-1] if synced else start["run_id"]
        run = RunLog(path, start["uri"], run_id, online=run_id is not None and unsent(records) is None)
        run.seq = records[-1]["seq"]
        text = path.read_text()
        if not text.endswith("\n"):  # a torn last record: never sent (records are written first)
            path.write_text(text[:text.rfind("\n") + 1])
        # ended when it was last heard of, not now
        run.record({"op": "end", "status": "KILLED", "time": max(r.get("time", 0) for r in records)})
        log.info("MLflow run %s (%s) never ended: its job died; ended KILLED", run.run_id or path, run_name)
        ended.append(path)
    return ended


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def invalid_request(error: BaseException) -> bool:
    return isinstance(error, mlflow.exceptions.MlflowException) and error.error_code == "INVALID_PARAMETER_VALUE"


def now_ms() -> int:
    return int(time.time() * 1000)


def new_journal(journal_dir: str | Path, run_name: str) -> Path:
    folder = Path(journal_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{journal_stem(run_name)}-{uuid.uuid4().hex[:8]}.jsonl"


def journal_stem(run_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_name).strip("_") or "run"


def send(mlflow_client: MlflowClient, run_id: str, record: Mapping[str, Any]) -> None:
    """One journal record to the store."""
    op = record["op"]
    if op in ("params", "metrics", "tags"):
        items = list(record["values"].items())
        for first in range(0, len(items), BATCH):  # log_batch takes at most 100 params per call
            chunk = items[first:first + BATCH]
            if op == "params":
                mlflow_client.log_batch(run_id, params=[Param(k, v) for k, v in chunk])
            elif op == "tags":
                mlflow_client.log_batch(run_id, tags=[RunTag(k, v) for k, v in chunk])
            else:
                mlflow_client.log_batch(run_id, metrics=[Metric(k, v, record["time"], record["step"] or 0)
                                                         for k, v in chunk])
    elif op == "artifact":
        mlflow_client.log_artifact(run_id, record["path"], record["artifact_path"])
    elif op == "artifacts":
        mlflow_client.log_artifacts(run_id, record["path"], record["artifact_path"])
    elif op == "keras_model":
        send_keras_model(mlflow_client, run_id, record)
    elif op == "dataset":
        from mlflow.entities import Dataset, DatasetInput, InputTag

        dataset = Dataset(name=record["name"], digest=record["digest"], source_type="local",
                          source=json.dumps({"uri": record["source"]}),
                          profile=json.dumps({"sha256": record["sha256"]}))
        mlflow_client.log_inputs(run_id, datasets=[DatasetInput(
            dataset, tags=[InputTag("mlflow.data.context", record["context"])])])
    elif op == "end":
        mlflow_client.set_terminated(run_id, record["status"], end_time=record["time"])


class KerasFlavor:
    """mlflow.keras, with the model folder made first: MLflow 3.17's
    keras.save_model writes the input example before it creates the folder."""

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def send_keras_model(mlflow_client: MlflowClient, run_id: str, record: Mapping[str, Any]) -> None:
    """Load the saved .keras file and log it as an MLflow model of the run."""
    import importlib

    import keras
    import mlflow.keras
    import numpy as np
    import tensorflow as tf
    from mlflow.models import Model, infer_signature

    for module in record.get("modules", []):
        importlib.import_module(module)  # registers the model's custom layers and losses
    model = keras.saving.load_model(record["path"], compile=False, safe_mode=True)
    example = np.load(record["example"], allow_pickle=False)
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


def relog(path: str | Path, uri: str | None = None) -> str:
    """Send a journal's unsent records to MLflow (the store it was meant for,
    or `uri`); returns the run id. Creates the run when it never reached the store."""
    records = read_journal(path)
    todo = unsent(records)
    start = records[0]
    if todo is None:
        return start["run_id"]
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or start["uri"]
    run_id = start["run_id"]
    try:
        mlflow_client = MlflowClient(tracking_uri=uri)
        if run_id is None:
            experiment = experiment_id(mlflow_client, start["study"])
            run_id = mlflow_client.create_run(experiment, start_time=start["time"], run_name=start["run_name"],
                                              tags=start["tags"]).info.run_id
        for record in todo:
            if record["op"] != "start":
                send(mlflow_client, run_id, record)
    except Exception as error:
        if isinstance(error, ReproflowError):
            raise
        raise ReproflowError(f"{path}: MLflow store {uri} did not take the journal ({first_line(error)}); "
                             "the journal is unchanged, run the command again") from error
    text = Path(path).read_text()
    if not text.endswith("\n"):  # drop a torn last record (never sent: records are written first)
        Path(path).write_text(text[:text.rfind("\n") + 1])
    with open(path, "a") as handle:
        handle.write(json.dumps({"seq": records[-1]["seq"] + 1, "op": "synced", "run_id": run_id,
                                 "uri": uri, "time": now_ms()}) + "\n")
    return run_id


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
