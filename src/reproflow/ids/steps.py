"""The preprocessing steps as file-to-file functions (one per Snakemake rule)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.data import read_json_object
from reproflow.errors import ReproflowError
from reproflow.ids import preprocess as pp
from reproflow.ids.kyoto import (
    Columns, RejectLog, check_reject_share, find_day_file, open_day_file, parse_stream, save_npz,
)
from reproflow.outputs import atomic_output, check_finite, check_output_path

log = logging.getLogger(__name__)
SOURCE_LABELS = {"synthetic": "synthetic", "kyoto2013": "Kyoto 2013"}


def parse_day(*, source: str, day: str, out: Mapping[str, str], max_reject_share: float,
              split_seed: int, test_share: float) -> dict[str, Any]:
    """Parse one daily file (a file, or a folder holding <day>.txt), write its columns,
    rejects and partial statistics; stop when too many lines are malformed."""
    path = Path(source)
    path = find_day_file(path, day) if path.is_dir() else path
    inputs = [source, path]
    for key in ("columns", "stats", "info", "rejects"):
        check_output_path(out[key], inputs, f"{key} output")
    digest = hashlib.sha256()
    # the rejects log is kept when the day then stops: it is what the error points to
    with atomic_output(out["rejects"], inputs, "rejects log") as tmp, RejectLog(tmp) as rejects, \
            open_day_file(path) as handle:
        columns, n_lines = parse_stream(str(path), handle, rejects, on_bytes=digest.update)
    for source_name, line, reason in rejects.examples:
        log.warning("reject %s:%d: %s", source_name, line, reason)
    check_reject_share(rejects.n_rejected, n_lines, max_reject_share, str(path), rejects)
    split = pp.paper_split(len(columns), day, split_seed, test_share)
    columns.save(out["columns"], inputs)
    # stored, not deflated: read once, by the fit, the one job no other job overlaps
    save_npz(out["stats"], compress=False, inputs=inputs,
             **pp.partial_stats(columns, split))
    info = {"day": day, "file": str(path), "sha256": digest.hexdigest(), "lines": n_lines,
            "records": len(columns), "rejected": rejects.n_rejected, "reject_reasons": dict(rejects.reasons),
            "attack": int(pp.attack_labels(columns.label).sum())}
    pp.save_json(info, out["info"], inputs)
    log.info("%s: %d lines, %d records, %d rejected", day, n_lines, len(columns), rejects.n_rejected)
    return info


def split_days(protocol: str, days: Sequence[str], test_days: int) -> dict[str, list[str]]:
    """Which days feed which split's fit: paper, every day both; clean, by date."""
    days = sorted(days)
    if protocol == "paper":
        return {"train": days, "test": days}
    if not 0 < test_days < len(days):
        raise ReproflowError(f"ids.clean.test_days = {test_days} must be between 1 and {len(days) - 1} "
                             f"({len(days)} days configured)")
    split = {"train": days[:-test_days], "test": days[-test_days:]}
    pp.check_clean_days(split["train"], split["test"])
    return split


def fit_protocol(*, protocol: str, stats: Mapping[str, str], days: Sequence[str], test_days: int,
                 out: str) -> dict[str, Any]:
    """Fit one protocol's transform from the days' partial statistics ({day: path})."""
    split = split_days(protocol, days, test_days)
    fitted = pp.fit({name: [stats[day] for day in split[name]] for name in pp.SPLITS}, protocol)
    fitted["days"] = split
    pp.save_json(fitted, out, stats.values())
    return fitted


def transform_day(*, columns: str, fitted: str, day: str, split_seed: int, test_share: float,
                  out: Mapping[str, str]) -> dict[str, Any]:
    """Bin one day with its protocol's fitted transform."""
    spec = pp.load_json(fitted)
    data = Columns.load(columns)
    if spec["protocol"] == "paper":
        split = pp.paper_split(len(data), day, split_seed, test_share)
    else:
        code = 1 if day in spec["days"]["test"] else 0
        split = np.full(len(data), code, np.uint8)
    arrays, issues = pp.transform(data, split, spec)
    # stored, not deflated (as the day's columns): read once, by the dataset step, and
    # deflating was a fifth of the job
    save_npz(out["binned"], compress=False, inputs=[columns, fitted], **arrays)
    info = {"day": day, "protocol": spec["protocol"], "rows": len(data), **issues}
    pp.save_json(info, out["info"], [columns, fitted])
    return info


def transform_days(*, columns: Mapping[str, str], fitted: str, split_seed: int, test_share: float,
                   out: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Any]]:
    """`transform_day` for every day ({day: columns path}; out: {"binned"/"info": {day: path}})
    in one process: a process per day was mostly interpreter start-up."""
    return {day: transform_day(columns=columns[day], fitted=fitted, day=day, split_seed=split_seed,
                               test_share=test_share, out={key: out[key][day] for key in ("binned", "info")})
            for day in sorted(columns)}


def build_dataset(*, binned: Mapping[str, str], transform_info: Sequence[str], parse_info: Sequence[str],
                  protocol: str, feature_set: str, trim_multiple: int, source: str,
                  out: Mapping[str, str]) -> dict[str, Any]:
    """Concatenate the days (date order), deduplicate, split; arrays + counts."""
    days = sorted(binned)
    inputs = [*binned.values(), *transform_info, *parse_info]
    for path in out.values():
        check_output_path(path, inputs)
    # every input read before anything is written
    parsed = [read_json_object(p, "a day's parse info (rule ids_parse)", ("day", "sha256", "lines", "records",
                                                                          "rejected")) for p in parse_info]
    transformed = [pp.load_json(path) for path in transform_info]
    arrays, counts = pp.assemble([binned[d] for d in days], protocol, feature_set,
                                 trim_multiple=trim_multiple if protocol == "paper" else 1)
    for key, value in arrays.items():
        check_finite(value, f"{out['data']}: {key}")
    issues: dict[str, int] = {}
    for content in transformed:
        for key, value in content.items():
            if key.startswith(("train.", "test.")):
                issues[key] = issues.get(key, 0) + int(value)
    combined = hashlib.sha256("".join(f"{p['day']}:{p['sha256']};" for p in sorted(parsed, key=lambda p: p["day"]))
                              .encode()).hexdigest()
    info = {
        "protocol": protocol, "feature_set": feature_set, "days": days, "source": source,
        "source_label": SOURCE_LABELS[source], "data_sha256": combined,
        "features": [pp.FEATURES[i] for i in pp.FEATURE_SETS[feature_set]], "counts": counts,
        "lines": sum(p["lines"] for p in parsed), "records": sum(p["records"] for p in parsed),
        "rejected": sum(p["rejected"] for p in parsed),
        "unseen_categories": {k: v for k, v in issues.items() if ".unseen." in k},
        "out_of_range": {k: v for k, v in issues.items() if ".out_of_range." in k},
    }
    with atomic_output(out["data"], inputs, "dataset") as tmp:
        np.savez_compressed(tmp, **arrays)
    pp.save_json(info, out["info"], inputs)
    log.info("%s/%s: train %d rows (%d duplicates), test %d rows, %d test rows in train removed",
             protocol, feature_set, counts["train_final"], counts["train_duplicates"], counts["test_final"],
             counts["test_in_train_removed"])
    return info
