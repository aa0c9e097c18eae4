"""Provenance of the data a run used."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reproflow.errors import ReproflowError
from reproflow.outputs import atomic_output

CARD_COLUMNS = ["dataset", "file", "bytes", "sha256", "checksum_source", "licence", "citation", "url"]


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ReproflowError(f"{path}: a dangling symbolic link (to {os.readlink(path)}); expected a data file")
    if path.is_dir():
        raise ReproflowError(f"{path}: is a folder; expected a data file")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(chunk):
                digest.update(block)
    except OSError as error:
        raise ReproflowError(f"{path}: cannot be read ({error.strerror}); expected a data file") from error
    return digest.hexdigest()


def datasets_card(
    entries: Mapping[str, Mapping[str, Any]], lockfile: str | Path, out_csv: str | Path,
    resources: str | Path = "resources",
) -> list[dict[str, Any]]:
    """Re-hash every downloaded file and write one row per file.

    The checksum comes from the registry ("registry") or, for files whose
    checksum is not published, from the record made on first download
    ("recorded"); a file that no longer matches stops the run.
    """
    from reproflow.download import read_lock  # here: it brings requests

    recorded = read_lock(Path(lockfile))
    rows, inputs = [], [lockfile]
    for dataset, entry in entries.items():
        for name, spec in entry["files"].items():
            path = Path(resources) / dataset / name
            inputs.append(path)
            actual = sha256_file(path)
            expected = spec["sha256"] or recorded.get(f"{dataset}/{name}", {}).get("sha256")
            if expected and actual != expected:
                raise ReproflowError(
                    f"{path}: SHA-256 {actual} does not match the expected {expected}; "
                    "delete the file and run again to download it anew"
                )
            rows.append({
                "dataset": dataset, "file": name, "bytes": path.stat().st_size,
                "sha256": actual,
                "checksum_source": "registry" if spec["sha256"] else "recorded",
                "licence": entry["licence"], "citation": entry["citation"],
                "url": spec["urls"][0],
            })
    with atomic_output(out_csv, inputs, "datasets card") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CARD_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_json_object(path: str | Path, what: str, needed: Sequence[str] = ()) -> dict[str, Any]:
    """A JSON object a job reads, refused with the file named when unreadable or lacking `needed` keys."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ReproflowError(f"{path}: cannot read {what} ({error})") from error
    if not isinstance(value, dict) or any(key not in value for key in needed):
        raise ReproflowError(f"{path}: not {what}; expected a JSON object with {list(needed)}")
    return value
