"""Predictions for users: raw Kyoto-format files in, one CSV row per record out.

The model folder written by training holds exactly `model.keras`, the fitted
transform (`transform.json`, the training split's scaler, encoders and bin
edges) and `model.json` (arm, feature set); a partial, corrupt or mismatched
folder is refused before anything is scored. Records that cannot be parsed get
a row too, with the reason and no score: none is skipped in silence. Files are
read a block at a time (zip members up to a cap), so memory does not grow with
them, and the CSV is written beside `--out` and renamed only when complete.
The counts returned say how far the user's traffic is from the training data:
feature values outside the range seen in training (clipped to the first or
last bin) and categories never seen in training.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.ids.kyoto import (
    CATEGORICAL, MAX_MEMBER_BYTES, NUMERIC, RejectLog, check_archive, check_reject_share, iter_sources, parse_blocks,
    source_files,
)
from reproflow.ids.plan import ARMS
from reproflow.ids.preprocess import BINNED_CODES, FEATURE_SETS, FEATURES, N_BINS, transform_raw
from reproflow.outputs import atomic_output, check_finite, check_output_path, write_text

log = logging.getLogger(__name__)
COLUMNS = ("file", "line", "score", "class", "prediction", "reject_reason")
CLASS_NAMES = ("normal", "attack")
MODEL_FILES = ("model.keras", "transform.json", "model.json")
SNAKEMAKE_MARKER = ".snakemake_timestamp"   # Snakemake's mark on a directory() output: the workflow's folders hold it
MAX_BATCH_SIZE = 1 << 16      # a batch's one-hot inputs: 840 bytes per row
MAX_JSON_BYTES = 16 << 20     # a transform is a few kB (the service names are the longest part)
SHOWN_REJECTS = 20            # rejects logged one by one; the CSV lists them all


class _AllRejects(RejectLog):
    """Keeps the rejects of the current block (prediction lists them all in its output)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, int, str]] = []

    def add(self, source: str, line: int, reason: str, text: str) -> None:
        super().add(source, line, reason, text)
        self.rows.append((source, line, reason))

    def drain(self) -> list[tuple[str, int, str]]:
        rows, self.rows = self.rows, []
        return rows


# ------------------------------------------------------------ the model folder


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ReproflowError(f"{path}: {path.stat().st_size} bytes; expected a JSON file of at most "
                             f"{MAX_JSON_BYTES} bytes")
    try:
        return json.loads(path.read_bytes().decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise ReproflowError(f"{path}: not UTF-8 text; expected JSON written by reproflow") from None
    except json.JSONDecodeError as error:
        raise ReproflowError(f"{path}: not JSON ({error.msg} at line {error.lineno} column {error.colno}); "
                             "expected JSON written by reproflow") from None
    except ValueError as error:    # NaN / Infinity
        raise ReproflowError(f"{path}: {error}; expected finite numbers only") from None


def _at(data: Any, key: str, kind: type | tuple[type, ...], path: Path, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ReproflowError(f"{path}: key {where}{key} missing; expected a model folder written by `ids train`")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ReproflowError(f"{path}: key {where}{key} is {type(value).__name__}; expected {names}")
    return value


def _number(data: Any, key: str, path: Path, where: str, positive: bool = False) -> float:
    value = _at(data, key, (int, float), path, where)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ReproflowError(f"{path}: key {where}{key} = {value!r}; expected a "
                             f"{'positive ' if positive else ''}finite number")
    return float(value)


def _edges(data: Any, key: str, path: Path, where: str) -> None:
    edges = _at(data, key, list, path, where)
    finite = all(isinstance(e, int | float) and not isinstance(e, bool) and math.isfinite(e) for e in edges)
    if not finite or not 1 <= len(edges) <= N_BINS + 1 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ReproflowError(f"{path}: key {where}{key} = {edges!r}; expected 1 to {N_BINS + 1} increasing "
                             "finite bin edges")


def _check_spec(spec: Any, path: Path) -> None:
    """The fitted transform: a finite mean, positive scale and increasing edges for every
    numeric column; sorted distinct classes (and edges) for every categorical one."""
    numeric = _at(spec, "numeric", dict, path, "spec.")
    for name in NUMERIC:
        where = f"spec.numeric.{name}."
        entry = _at(numeric, name, dict, path, "spec.numeric.")
        _number(entry, "mean", path, where)
        _number(entry, "scale", path, where, positive=True)
        _edges(entry, "edges", path, where)
    categorical = _at(spec, "categorical", dict, path, "spec.")
    for name in CATEGORICAL:
        where = f"spec.categorical.{name}."
        entry = _at(categorical, name, dict, path, "spec.categorical.")
        classes = _at(entry, "classes", list, path, where)
        if not classes or not all(isinstance(c, str) for c in classes) or classes != sorted(set(classes)):
            raise ReproflowError(f"{path}: key {where}classes; expected a non-empty sorted list of distinct "
                                 "category names")
        if name in BINNED_CODES:
            _edges(entry, "edges", path, where)


def _check_files(model_dir: Path) -> None:
    if not model_dir.is_dir():
        what = "a file" if model_dir.exists() else "no such folder"
        raise ReproflowError(f"{model_dir}: {what}; expected a trained ids model folder ({', '.join(MODEL_FILES)})")
    present = {p.name for p in model_dir.iterdir()}
    missing = [name for name in MODEL_FILES if name not in present]
    if missing:
        raise ReproflowError(f"{model_dir}: not a complete trained ids model folder (missing {', '.join(missing)}); "
                             f"expected {', '.join(MODEL_FILES)}, as `ids train` writes them")
    stray = sorted(present - {*MODEL_FILES, SNAKEMAKE_MARKER})
    if stray:
        raise ReproflowError(f"{model_dir}: holds files no trained model folder has ({', '.join(stray)}); "
                             f"expected exactly {', '.join(MODEL_FILES)}: remove the others")
    for name in MODEL_FILES:
        if not (model_dir / name).is_file():
            raise ReproflowError(f"{model_dir / name}: not a regular file; expected the model's {name}")


def _check_json(model_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fitted transform spec and the model description, checked; a ReproflowError names what is wrong."""
    transform_path, info_path = model_dir / "transform.json", model_dir / "model.json"
    transform = _read_json(transform_path)
    spec = _at(transform, "spec", dict, transform_path, "")
    _check_spec(spec, transform_path)
    if "features" in transform and transform["features"] != list(FEATURES):
        raise ReproflowError(f"{transform_path}: key features = {transform['features']!r}; expected the 21 "
                             "Kyoto features in the authors' order")
    info = _read_json(info_path)
    arm = _at(info, "arm", str, info_path, "")
    if arm not in ARMS:
        raise ReproflowError(f"{info_path}: key arm = {arm!r}; expected one of {', '.join(ARMS)}")
    feature_set = _at(info, "feature_set", str, info_path, "")
    if feature_set not in FEATURE_SETS:
        raise ReproflowError(f"{info_path}: key feature_set = {feature_set!r}; expected one of "
                             f"{', '.join(FEATURE_SETS)}")
    names = [FEATURES[i] for i in FEATURE_SETS[feature_set]]
    if "features" in info and info["features"] != names:
        raise ReproflowError(f"{info_path}: key features does not match feature_set {feature_set!r}; "
                             f"expected {names}")
    return spec, info


def load_model_dir(model_dir: str | Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The Keras model (safe mode), the fitted transform spec and the model description;
    the network is loaded first (a file holding code is refused whatever the JSON says)."""
    model_dir = Path(model_dir)
    _check_files(model_dir)
    import keras  # noqa: PLC0415  (TensorFlow loads only when predicting)

    import reproflow.ids.models  # noqa: F401, PLC0415  (registers the custom loss and metrics)

    path = model_dir / "model.keras"
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # keras raises ValueError, OSError, zipfile errors, ...
        raise ReproflowError(f"{path}: not a loadable .keras model ({error}); expected a model saved by "
                             "reproflow (loaded in safe mode: Lambda layers and other code are refused)") from error
    spec, info = _check_json(model_dir)
    n_features = len(FEATURE_SETS[info["feature_set"]])
    expected = (None, n_features, N_BINS)
    if tuple(model.input_shape) != expected or tuple(model.output_shape) != (None, 2):
        raise ReproflowError(
            f"{path}: takes inputs {tuple(model.input_shape)} and gives {tuple(model.output_shape)}; expected "
            f"{expected} (feature set {info['feature_set']!r} of model.json, {N_BINS} bins) and (None, 2)")
    return model, spec, info


def save_model_dir(model: Any, model_dir: str | Path, transform: str | Path | None, info: Mapping[str, Any]) -> None:
    """model.keras + the fitted transform + a description: all `ids predict` needs;
    each file written beside its place and renamed when complete."""
    model_dir = Path(model_dir)
    inputs = [transform]
    with atomic_output(model_dir / "model.keras", inputs, "model") as tmp:
        model.save(tmp)
    if transform is not None:
        fitted = json.loads(Path(transform).read_text())
        # new files are transformed like the training split (in `paper` the test
        # split had its own, leaky transform: not usable on new data)
        spec = fitted["transforms"]["train"]
        write_text(model_dir / "transform.json", json.dumps(
            {"protocol": fitted["protocol"], "features": fitted["features"], "spec": spec}, indent=1,
            allow_nan=False), inputs)
    write_text(model_dir / "model.json", json.dumps(dict(info), indent=2, allow_nan=False), inputs)


# ------------------------------------------------------------ scoring


def predict_files(model_dir: str | Path, source: str | Path, out: str | Path, batch_size: int = 1024,
                  max_member_bytes: int = MAX_MEMBER_BYTES) -> dict[str, Any]:
    """Score every record of a file, archive or folder; write the CSV; return counts:
    records, rejected (unparseable lines), attack, files, out_of_range and unseen
    (feature values outside the training range, clipped; categories unseen in training),
    each also per feature (`out_of_range_by_feature`, `unseen_by_feature`)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ReproflowError(f"ids predict: batch size = {batch_size!r}; expected an integer in 1..{MAX_BATCH_SIZE}")
    # the model folder, inputs and output checked before TensorFlow loads: refusals come fast
    model_dir = Path(model_dir)
    _check_files(model_dir)
    _check_json(model_dir)
    sources = source_files(source)
    inputs = [source, model_dir, *(model_dir / name for name in MODEL_FILES), *sources]
    check_output_path(out, inputs, "predictions")
    for path in sources:
        if path.suffix == ".zip":
            check_archive(path, max_member_bytes)
    model, spec, info = load_model_dir(model_dir)
    from reproflow.ids.train import predict_outputs, scores_and_classes  # noqa: PLC0415  (imports Keras)

    kept = list(FEATURE_SETS[info["feature_set"]])
    totals: dict[str, Any] = {"records": 0, "rejected": 0, "attack": 0, "files": 0}
    clipped: Counter[str] = Counter()
    unseen: Counter[str] = Counter()
    with atomic_output(out, inputs, "predictions") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for name, stream in iter_sources(source, max_member_bytes):
            rejects = _AllRejects()
            records = 0
            for columns in parse_blocks(name, stream, rejects):
                rows: list[tuple] = [(name, line, "", "", "", reason) for _, line, reason in rejects.drain()]
                if len(columns):
                    x, issues = transform_raw(columns, spec)
                    for key, value in issues.items():
                        kind, feature = key.split(".", 1)
                        (clipped if kind == "out_of_range" else unseen)[feature] += value
                    outputs = check_finite(predict_outputs(model, x[:, kept], batch_size),
                                           f"{model_dir / 'model.keras'}: outputs on {name}")
                    scores, classes = scores_and_classes(outputs, info["arm"])
                    rows += [(name, int(line), f"{score:.6g}", int(cls), CLASS_NAMES[int(cls)], "")
                             for line, score, cls in zip(columns.line, scores, classes)]
                    totals["attack"] += int(np.sum(classes == 1))
                    records += len(columns)
                rows.sort(key=lambda row: row[1])
                writer.writerows(rows)
            _check_scored(name, records, rejects)
            for source_name, line, reason in rejects.examples[:SHOWN_REJECTS]:
                log.warning("%s:%d not scored: %s", source_name, line, reason)
            if rejects.n_rejected > SHOWN_REJECTS:
                log.warning("%s: %d more lines not scored (listed in %s)", name,
                            rejects.n_rejected - SHOWN_REJECTS, out)
            totals["records"] += records
            totals["rejected"] += rejects.n_rejected
            totals["files"] += 1
    totals["out_of_range"], totals["unseen"] = sum(clipped.values()), sum(unseen.values())
    totals["out_of_range_by_feature"] = {k: v for k, v in clipped.most_common() if v}
    totals["unseen_by_feature"] = {k: v for k, v in unseen.most_common() if v}
    return totals


def _check_scored(name: str, records: int, rejects: RejectLog) -> None:
    """A file with no record at all is not Kyoto traffic: stop rather than score nothing."""
    if records:
        return
    check_reject_share(rejects.n_rejected, rejects.n_rejected, 1.0, name)   # refuses an empty file (no lines)
    shown = "; ".join(f"{f}:{n}: {r}" for f, n, r in rejects.examples[:3])
    raise ReproflowError(f"{name}: none of its {rejects.n_rejected} lines is a Kyoto record; first: {shown}")


def summary_line(totals: Mapping[str, Any], out: str | Path) -> str:
    """What `ids predict` prints: what was scored, and how unlike the training data it is."""
    def top(counts: Mapping[str, int]) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:5])
        return f" ({shown}{', ...' if len(counts) > 5 else ''})" if counts else ""

    text = (f"{totals['records']} records scored ({totals['attack']} attack) from {totals['files']} file(s); "
            f"{totals['rejected']} unparseable lines (listed with their reasons in {out}); "
            f"{totals['out_of_range']} feature values outside the range seen in training, clipped to the "
            f"first or last bin{top(totals['out_of_range_by_feature'])}; "
            f"{totals['unseen']} categories unseen in training{top(totals['unseen_by_feature'])}")
    if totals["out_of_range"] or totals["unseen"]:
        text += "\nnote: these records differ from the training data; their scores are less reliable"
    return text
