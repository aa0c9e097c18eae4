"""The journal of an MLflow run: JSON lines on disk, one record per call
(see `reproflow.tracking.RunLog`). Reading it needs no MLflow, so the
Snakefile can say at the end of a run which runs the store did not receive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reproflow.errors import ReproflowError

JOURNAL_FOLDER = "mlflow_journal"


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def read_journal(path: str | Path) -> list[dict[str, Any]]:
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ReproflowError(f"{path}: cannot read the MLflow journal ({first_line(error)})") from error
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):  # a job killed mid-write may leave a torn last line, no other
                raise ReproflowError(f"{path}, line {number}: not a journal record (one JSON object per line)")
    if not records or records[0].get("op") != "start":
        raise ReproflowError(f"{path}: not a reproflow MLflow journal (first line must be a start record)")
    return records


def unsent(records: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The records still to send, or None when the journal is fully in MLflow."""
    todo = None
    for record in records:
        if record["op"] == "offline" and todo is None:
            todo = [r for r in records if r["seq"] >= record["first_unsent"] and r["op"] != "offline"]
        elif record["op"] == "synced":
            todo = None
    return todo


def pending_journals(root: str | Path = "results") -> list[Path]:
    """Journals under root/<study>/mlflow_journal (and root/mlflow/journal) not yet all in MLflow."""
    paths = sorted(Path(root).glob(f"*/{JOURNAL_FOLDER}/*.jsonl")) + sorted(Path(root).glob("mlflow/journal/*.jsonl"))
    return [path for path in paths if unsent(read_journal(path)) is not None]
