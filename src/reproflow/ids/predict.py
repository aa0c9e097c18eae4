"""Predictions for users: raw Kyoto-format files in, one CSV row per record out.

The model folder written by training holds `model.keras`, the fitted
transform (`transform.json`, the training split's scaler, encoders and bin
edges) and `model.json` (arm, feature set). Records that cannot be parsed get
a row too, with the reason and no score: none is skipped in silence.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.ids.kyoto import RejectLog, iter_sources, parse_lines
from reproflow.ids.preprocess import FEATURE_SETS, transform_raw

log = logging.getLogger(__name__)
COLUMNS = ("file", "line", "score", "class", "prediction", "reject_reason")
CLASS_NAMES = ("normal", "attack")


class _AllRejects(RejectLog):
    """Keeps every reject (prediction lists them all in its output)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, int, str]] = []

    def add(self, source: str, line: int, reason: str, text: str) -> None:
        super().add(source, line, reason, text)
        self.rows.append((source, line, reason))


def load_model_dir(model_dir: str | Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The Keras model (safe mode), the fitted transform spec and the model description."""
    model_dir = Path(model_dir)
    needed = [model_dir / name for name in ("model.keras", "transform.json", "model.json")]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise ReproflowError(f"{model_dir}: not a trained ids model folder (missing {', '.join(missing)})")
    import keras  # noqa: PLC0415  (TensorFlow loads only when predicting)

    import reproflow.ids.models  # noqa: F401, PLC0415  (registers the custom loss and metrics)

    try:
        model = keras.saving.load_model(needed[0], compile=False, safe_mode=True)
    except Exception as error:  # keras raises ValueError, OSError, zipfile errors, ...
        raise ReproflowError(f"{needed[0]}: not a loadable .keras model ({error}); expected a model saved by "
                             "reproflow (loaded in safe mode: Lambda layers and other code are refused)") from error
    spec = json.loads(needed[1].read_text())["spec"]
    info = json.loads(needed[2].read_text())
    return model, spec, info


def predict_files(model_dir: str | Path, source: str | Path, out: str | Path, batch_size: int = 1024) -> dict[str, int]:
    """Score every record of a file, archive or folder; write the CSV; return counts."""
    from reproflow.ids.train import predict_outputs, scores_and_classes  # noqa: PLC0415

    model, spec, info = load_model_dir(model_dir)
    columns_kept = list(FEATURE_SETS[info["feature_set"]])
    totals = {"records": 0, "rejected": 0, "attack": 0, "unseen_categories": 0, "out_of_range": 0}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for name, lines in iter_sources(source):
            rejects = _AllRejects()
            columns, _ = parse_lines(name, lines, rejects)
            rows: list[tuple] = [(name, line, "", "", "", reason) for _, line, reason in rejects.rows]
            if len(columns):
                x, issues = transform_raw(columns, spec)
                totals["unseen_categories"] += sum(v for k, v in issues.items() if k.startswith("unseen"))
                totals["out_of_range"] += sum(v for k, v in issues.items() if k.startswith("out_of_range"))
                scores, classes = scores_and_classes(predict_outputs(model, x[:, columns_kept], batch_size), info["arm"])
                rows += [(name, int(line), f"{score:.6g}", int(cls), CLASS_NAMES[int(cls)], "")
                         for line, score, cls in zip(columns.line, scores, classes)]
                totals["attack"] += int(np.sum(classes == 1))
            rows.sort(key=lambda row: row[1])
            writer.writerows(rows)
            totals["records"] += len(columns)
            totals["rejected"] += rejects.n_rejected
            for _, line, reason in rejects.rows:
                log.warning("%s:%d not scored: %s", name, line, reason)
    log.info("%d records scored (%d attack), %d lines could not be parsed (listed in %s)",
             totals["records"], totals["attack"], totals["rejected"], out)
    return totals
