"""A job's run manifest (`run.json`): what MLflow should show of the job.

Jobs are plain functions from files to files; they never talk to MLflow.
Where MLflow needs more than the job's own outputs (params, per-job tags,
per-epoch metrics, which files are artifacts, which file is a model and an
input example for it, the data sets used), the job records it in a
`RunRecord` and writes it as a declared output, last, atomically. The study's
`mlflow_publish` rule (`reproflow.tracking.publish`) sends the manifests to
the store. Reading one needs no MLflow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.outputs import PathLike, check_finite, write_json

FORMAT = "reproflow-run/1"


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested keys as dotted ones: {"a": {"b": 1}} -> {"a.b": 1}."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class RunRecord:
    """Collects what a job's MLflow run holds; `write` puts it in run.json.

    The calls mirror MLflow's (log_params, log_metrics with a step,
    log_artifact, ...), so a job reads as it would with a live run."""

    def __init__(self, run_name: str, tags: Mapping[str, str] | None = None) -> None:
        self.run_name = run_name
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {k: str(v) for k, v in (tags or {}).items()}
        self.metrics: list[dict[str, Any]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.models: list[dict[str, Any]] = []
        self.datasets: list[dict[str, str]] = []

    def log_params(self, params: Mapping[str, Any]) -> None:
        """A nested mapping of parameters, with dotted keys; a key logged twice must keep its value."""
        for key, value in flatten(params).items():
            if self.params.get(key, str(value)) != str(value):
                raise ReproflowError(f"run {self.run_name}: param {key!r} logged as {self.params[key]!r} "
                                     f"and as {value!r}; a run's params cannot change")
            self.params[key] = str(value)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        values = {k: float(v) for k, v in metrics.items()}
        check_finite(list(values.values()), f"run {self.run_name}: metrics {sorted(values)}")
        self.metrics.append({"step": int(step or 0), "time": int(time.time() * 1000), "values": values})

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        self.log_metrics({key: value}, step)

    def log_history(self, rows: Iterable[Mapping[str, Any]], step: str, skip: Iterable[str] = ()) -> None:
        """Per-epoch metrics from the job's history rows (what its curves file
        holds), at `rows[step]`: the whole history, also of a resumed job."""
        skipped = {step, *skip}
        for row in rows:
            self.log_metrics({k: v for k, v in row.items() if k not in skipped and np.isfinite(v)}, int(row[step]))

    def log_artifact(self, path: PathLike, artifact_path: str | None = None) -> None:
        """A file of the job's outputs, logged into `artifact_path` (a folder in the run)."""
        self.artifacts.append({"path": str(path), "artifact_path": artifact_path, "folder": False})

    def log_artifacts(self, path: PathLike, artifact_path: str | None = None) -> None:
        """A folder of the job's outputs, its files logged into `artifact_path`."""
        self.artifacts.append({"path": str(path), "artifact_path": artifact_path, "folder": True})

    def log_keras_model(self, path: PathLike, example: Any, name: str = "model", modules: tuple[str, ...] = ()) -> None:
        """A saved Keras model (.keras), logged as an MLflow model with a
        signature and `example` (a few input rows, kept in the manifest);
        `modules` register its custom layers and losses before it is loaded."""
        array = check_finite(np.asarray(example), f"run {self.run_name}: the model's input example")
        self.models.append({"path": str(path), "name": name, "modules": list(modules),
                            "example": {"dtype": str(array.dtype), "values": array.tolist()}})

    def log_dataset(self, name: str, sha256: str, source: PathLike, context: str = "training") -> None:
        """A data set the run used, with its SHA-256."""
        self.datasets.append({"name": name, "sha256": sha256, "source": str(source), "context": context})

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "run_name": self.run_name, "params": self.params, "tags": self.tags,
                "metrics": self.metrics, "artifacts": self.artifacts, "models": self.models,
                "datasets": self.datasets}

    def write(self, path: PathLike, inputs: Iterable[PathLike | None] = ()) -> None:
        write_json(path, self.as_dict(), inputs)


@contextmanager
def recording(path: PathLike, inputs: Iterable[PathLike | None], run_name: str,
              tags: Mapping[str, str] | None = None) -> Iterator[RunRecord]:
    """A RunRecord written to `path` when the block ends without an error
    (a failed job leaves no manifest, so nothing of it is published)."""
    run = RunRecord(run_name, tags)
    yield run
    run.write(path, list(inputs))


# What each field of a manifest must be: read_manifest refuses anything else.
FIELDS: dict[str, type] = {"run_name": str, "params": dict, "tags": dict, "metrics": list,
                           "artifacts": list, "models": list, "datasets": list}
ITEM_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "metrics": {"step": int, "time": int, "values": dict},
    "artifacts": {"path": str, "artifact_path": (str, type(None)), "folder": bool},
    "models": {"path": str, "name": str, "modules": list, "example": dict},
    "datasets": {"name": str, "sha256": str, "source": str, "context": str},
}


def read_manifest(path: PathLike) -> dict[str, Any]:
    """A run manifest, checked field by field; a ReproflowError names the file and the key."""
    from reproflow.data import read_json_object

    manifest = read_json_object(path, "a job's run manifest (run.json)", ("format", *FIELDS))
    where = f"{path}: run manifest"
    if manifest["format"] != FORMAT:
        raise ReproflowError(f"{where} key 'format' is {manifest['format']!r}; expected {FORMAT!r}")
    for key, kind in FIELDS.items():
        if not isinstance(manifest[key], kind):
            raise ReproflowError(f"{where} key {key!r} is a {type(manifest[key]).__name__}; expected a {kind.__name__}")
    for key in ("params", "tags"):
        for name, value in manifest[key].items():
            if not isinstance(value, str):
                raise ReproflowError(f"{where} {key}[{name!r}] is {value!r}; expected a string")
    for key, fields in ITEM_FIELDS.items():
        for index, item in enumerate(manifest[key]):
            if not isinstance(item, dict):
                raise ReproflowError(f"{where} {key}[{index}] is a {type(item).__name__}; expected an object")
            for name, kind in fields.items():
                value = item.get(name)
                if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
                    raise ReproflowError(f"{where} {key}[{index}][{name!r}] is {value!r}; expected "
                                         + " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,))))
    for index, item in enumerate(manifest["metrics"]):
        for name, value in item["values"].items():
            if not isinstance(value, int | float) or isinstance(value, bool) or not np.isfinite(value):
                raise ReproflowError(f"{where} metrics[{index}] value {name!r} is {value!r}; expected a finite number")
    for index, item in enumerate(manifest["models"]):
        if not isinstance(item["example"].get("values"), list) or not isinstance(item["example"].get("dtype"), str):
            raise ReproflowError(f"{where} models[{index}]['example'] holds no 'values' list and 'dtype'; "
                                 "expected a few input rows")
    return manifest


def example_array(model: Mapping[str, Any], where: str) -> np.ndarray:
    """A model's input example from its manifest entry, checked."""
    try:
        return check_finite(np.asarray(model["example"]["values"], dtype=model["example"]["dtype"]), where)
    except (TypeError, ValueError) as error:
        raise ReproflowError(f"{where}: the input example is not a numeric array ({error})") from None
