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


# what each record must carry (RunLog writes them; relog and pending read them)
RECORD_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "start": {"uri": str, "run_id": (str, type(None))},
    "params": {"values": dict},
    "metrics": {"values": dict, "time": int},
    "tags": {"values": dict},
    "artifact": {"path": str},
    "artifacts": {"path": str},
    "keras_model": {"path": str, "name": str, "example": str},
    "dataset": {"name": str, "digest": str, "sha256": str, "source": str, "context": str},
    "end": {"status": str, "time": int},
    "offline": {"first_unsent": int},
    "synced": {"run_id": str},
}
# a start record of a run that never reached the store: relog creates it from these
NEW_RUN_KEYS: dict[str, type | tuple[type, ...]] = {"study": str, "run_name": str, "tags": dict, "time": int}


def check_record(record: Any, where: str, first: bool) -> dict[str, Any]:
    """One parsed line, refused (file and line named) unless it is a record RunLog writes."""
    if not isinstance(record, dict):
        raise ReproflowError(f"{where}: a JSON {type(record).__name__}, not a journal record "
                             "(expected an object with 'seq' and 'op')")
    op = record.get("op")
    if op not in RECORD_KEYS:
        raise ReproflowError(f"{where}: record type {op!r} is not one of {sorted(RECORD_KEYS)}")
    if first != (op == "start"):
        raise ReproflowError(f"{where}: a {op!r} record; expected " +
                             ("a start record first: not a reproflow MLflow journal" if first
                              else "one start record only, on the first line"))
    needed = {"seq": int, **RECORD_KEYS[op]}
    if op == "start" and record.get("run_id") is None:
        needed.update(NEW_RUN_KEYS)
    for key, kind in needed.items():
        value = record.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ReproflowError(f"{where}: the {op!r} record's {key!r} is {value!r}; expected {expected}")
    if op == "metrics" and not all(isinstance(v, int | float) for v in record["values"].values()):
        raise ReproflowError(f"{where}: the 'metrics' record holds a value that is not a number")
    return record


def read_journal(path: str | Path) -> list[dict[str, Any]]:
    """A journal's records, checked; a corrupt journal is a ReproflowError naming the file and line."""
    path = Path(path)
    if path.is_dir():
        raise ReproflowError(f"{path}: is a folder; expected an MLflow journal file (JSON lines)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ReproflowError(f"{path}: cannot read the MLflow journal ({first_line(error)})") from error
    lines = data.split(b"\n")
    torn = lines.pop() != b""          # no final newline: the last line was cut mid-write
    records = []
    for number, raw in enumerate(lines, 1):
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ReproflowError(f"{path}, line {number}: not UTF-8 text (binary data?); "
                                 "expected one JSON object per line") from None
        except json.JSONDecodeError as error:
            raise ReproflowError(f"{path}, line {number}: not a journal record ({error.msg}, column "
                                 f"{error.colno}); expected one JSON object per line") from None
        except RecursionError:
            raise ReproflowError(f"{path}, line {number}: JSON nested too deep; expected a journal record") from None
        records.append(check_record(record, f"{path}, line {number}", first=number == 1))
    if torn:
        # a job killed mid-write may leave a torn last line, never sent (records are written first)
        try:
            records.append(check_record(json.loads(data.rsplit(b"\n", 1)[-1].decode("utf-8")),
                                        f"{path}, line {len(lines) + 1}", first=not records))
        except (ValueError, RecursionError, ReproflowError):
            pass
    if not records:
        raise ReproflowError(f"{path}: empty; not a reproflow MLflow journal (expected a start record first)")
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


def journal_paths(root: str | Path = "results") -> list[Path]:
    """Journals under root/<study>/mlflow_journal (and root/mlflow/journal)."""
    return sorted(Path(root).glob(f"*/{JOURNAL_FOLDER}/*.jsonl")) + sorted(Path(root).glob("mlflow/journal/*.jsonl"))


def scan_journals(root: str | Path = "results") -> tuple[list[Path], list[tuple[Path, str]]]:
    """(journals not yet all in MLflow, [(corrupt journal, what is wrong)])."""
    pending, corrupt = [], []
    for path in journal_paths(root):
        try:
            if unsent(read_journal(path)) is not None:
                pending.append(path)
        except ReproflowError as error:
            corrupt.append((path, str(error)))
    return pending, corrupt


def pending_journals(root: str | Path = "results") -> list[Path]:
    """Journals not yet all in MLflow (corrupt ones left out: see scan_journals)."""
    return scan_journals(root)[0]


def journal_report(root: str | Path = "results") -> list[str]:
    """Lines for the end of a run: runs the store did not receive, journals
    that cannot be read. Never raises: the run's jobs are done, and a
    journal it cannot read must not turn their success into a failure."""
    try:
        pending, corrupt = scan_journals(root)
    except Exception as error:  # an unreadable results folder, ...
        return [f"could not check the MLflow journals under {root} ({first_line(error)})"]
    lines = []
    if pending:
        lines.append(f"{len(pending)} run(s) did not reach the MLflow store; their params, metrics and "
                     f"artifacts are in {root}/<study>/mlflow_journal/. Once the store answers, send them "
                     "with: reproflow mlflow relog")
    lines += [f"an MLflow journal cannot be read and was left alone: {message}" for _, message in corrupt]
    return lines
