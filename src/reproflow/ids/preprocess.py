"""Preprocessing in three parallel-friendly steps, for both protocols.

1. per day: `partial_stats` (value counts per column, per split group);
2. once: `fit` merges the days' counts into a transform (scaler, label
   encoders, decile bin edges) saved as JSON;
3. per day: `transform` applies it (uint8 bin indices);
then `assemble` concatenates the days, deduplicates and splits.

`paper` (the authors, REFERENCE.md study 1): records split 80/20 at random
within the same period; scaler, encoders and bins fitted separately on the
train and on the test split; drop_duplicates after binning inside each split;
both splits trimmed to a multiple of the batch size.
`clean`: split by day (train days strictly before test days), everything fitted
on train only and applied to test (unseen categories and out-of-range values
counted), train deduplicated, test rows that also occur in train removed.

Bin edges come from exact linear-interpolation quantiles of the merged value
counts, which is what `pandas.qcut(col, 10, labels=False, duplicates="drop")`
computes, so the days never have to be in memory together: memory grows with
the number of distinct values, not with the number of days.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.arrays import open_npz
from reproflow.errors import ReproflowError
from reproflow.ids.kyoto import CATEGORICAL, DETECTION, FIELDS, NUMBER_RULES, NUMERIC, RATES, Columns
from reproflow.outputs import check_finite

N_BINS = 10
# The 21 model inputs, in the authors' order: a record's fields but the label and the addresses.
FEATURES = tuple(name for name in FIELDS if name not in ("label", "src_ip", "dst_ip"))
FEATURE_SETS = {
    "all": tuple(range(len(FEATURES))),
    "no_detection": tuple(i for i, name in enumerate(FEATURES) if name not in DETECTION),
}
BINNED_CODES = ("service", "flag")   # label-encoded, then binned like the numeric columns
SPLITS = ("train", "test")
PAPER_GROUPS = {"train": "paper_train", "test": "paper_test"}


def paper_split(n: int, day: str, seed: int, test_share: float) -> np.ndarray:
    """The paper protocol's 80/20 record split (1 = test), reproducible per day."""
    rng = np.random.default_rng([seed, int(day)])
    return (rng.random(n) < test_share).astype(np.uint8)


def attack_labels(label: np.ndarray) -> np.ndarray:
    """The authors' target: attack (-1 or -2) -> 1, normal (1) -> 0."""
    return (label < 0).astype(np.uint8)


# ----------------------------------------------------------------- step 1


def _distinct(ordered: np.ndarray, counts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted column and how often each occurs (`counts`:
    each element's count, else 1)."""
    if not len(ordered):
        return ordered, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if counts is None:
        return ordered[starts], np.diff(np.append(starts, len(ordered))).astype(np.int64)
    return ordered[starts], np.add.reduceat(counts, starts).astype(np.int64)


def _split_counts(values: np.ndarray, split: np.ndarray, scales: tuple[float, ...]
                  ) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Value counts of a column in split 0 and in split 1 without a sort, when every
    value is exactly k / scale for one of `scales` and a k below 2**20 (ports, counts,
    rates, most byte counts; the count table stays under 16 MB): a bincount of k. None
    for other columns."""
    for scale in scales:
        codes = np.rint(values * scale)
        width = int(codes.max(initial=0)) + 1
        if width <= 1 << 20 and codes.min(initial=0) >= 0 and np.array_equal(codes / scale, values):
            table = np.bincount(codes.astype(np.int64) + split * width, minlength=2 * width).reshape(2, width)
            distinct = [np.flatnonzero(row) for row in table]
            return [(k / scale, row[k]) for k, row in zip(distinct, table)]
    return None


# The scales at which a column's values may all be integers k (the others are sorted):
# rates have two decimals, the integer fields none; durations and start times (hours)
# are rarely whole, so are sorted without trying. The counts are the same either way.
_COUNT_SCALES = {name: (100.0,) if name in RATES else (1.0,)
                 for name, rule in NUMBER_RULES.items() if name in RATES or not rule.decimal}


def partial_stats(columns: Columns, split: np.ndarray) -> dict[str, np.ndarray]:
    """Value counts of every scaled/encoded column (sorted values, int64 counts) in each
    row group a day contributes: paper_train (split 0), paper_test (split 1) and all."""
    masks = {"paper_train": split == 0, "paper_test": split == 1}
    out: dict[str, np.ndarray] = {}
    for group, mask in [*masks.items(), ("all", np.ones(len(split), bool))]:
        out[f"{group}/n"] = np.array(int(mask.sum()))
        out[f"{group}/attack"] = np.array(int(attack_labels(columns.label[mask]).sum()))
    codes = split.astype(np.int64)
    for j, name in enumerate(NUMERIC):
        values = columns.numeric[:, j]
        tables = (_split_counts(values, codes, _COUNT_SCALES.get(name, ()))
                  or [_distinct(np.sort(values[mask])) for mask in masks.values()])
        # `all` is the union of the two splits' tables: a merge of distinct values
        for group, (unique, counts) in zip((*masks, "all"), (*tables, _merge(tables))):
            out[f"{group}/{name}/values"], out[f"{group}/{name}/counts"] = unique, counts.astype(np.int64)
    for name in CATEGORICAL:    # counted by code (the parser's): no string is sorted
        unique, inverse = columns.categories(name)
        for group, mask in [*masks.items(), ("all", None)]:
            counts = np.bincount(inverse if mask is None else inverse[mask], minlength=len(unique))
            out[f"{group}/{name}/values"], out[f"{group}/{name}/counts"] = unique[counts > 0], counts[counts > 0]
    return out


# ----------------------------------------------------------------- step 2


def _merge(tables: Iterable[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum value-count tables (the days', or two splits'). Each is sorted, so a stable
    sort of them all merges runs, in about linear time (merging day by day re-sorted the
    growing table each time: quadratic in the number of days)."""
    tables = list(tables)
    if not tables:
        raise ReproflowError("fit: no days to fit on")
    values = np.concatenate([v for v, _ in tables])
    order = np.argsort(values, kind="stable")
    return _distinct(values[order], np.concatenate([c for _, c in tables])[order])


def weighted_quantiles(values: np.ndarray, counts: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Linear-interpolation quantiles (pandas/numpy default) of `values` repeated `counts` times."""
    n = int(counts.sum())
    ends = np.cumsum(counts)                     # last index (exclusive) of each value
    position = (n - 1) * quantiles
    lo = np.floor(position).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    at_lo = values[np.searchsorted(ends, lo, side="right")]
    at_hi = values[np.searchsorted(ends, hi, side="right")]
    fraction = position - lo
    return np.where(fraction == 0, at_lo, at_lo + fraction * (at_hi - at_lo))


def decile_edges(values: np.ndarray, counts: np.ndarray) -> list[float]:
    """qcut(col, 10, duplicates="drop") bin edges of a (sorted) value-count table."""
    edges = weighted_quantiles(values, counts, np.linspace(0, 1, N_BINS + 1))
    return [float(e) for e in np.unique(edges)]


def fit_split(stat_files: Sequence[str | Path], group: str) -> dict[str, Any]:
    """Scaler, encoders and bin edges of one split, from the days' partial statistics."""
    with contextlib.ExitStack() as stack:
        stats = [stack.enter_context(open_npz(path)) for path in stat_files]
        n = sum(int(s[f"{group}/n"]) for s in stats)
        if n == 0:
            raise ReproflowError(f"fit: split group {group!r} has no records in {len(stats)} day(s)")
        spec: dict[str, Any] = {"n": n, "attack": sum(int(s[f"{group}/attack"]) for s in stats),
                                "numeric": {}, "categorical": {}}
        for name in NUMERIC:
            values, counts = _merge((s[f"{group}/{name}/values"], s[f"{group}/{name}/counts"]) for s in stats)
            mean = float(np.sum(values * counts) / n)
            std = float(np.sqrt(np.sum(counts * (values - mean) ** 2) / n))
            scale = std if std > 0 else 1.0     # as StandardScaler does for a constant column
            edges = decile_edges((values - mean) / scale, counts)
            check_finite([mean, scale, *edges], f"fit {group}: {name} (mean, scale, bin edges)")
            spec["numeric"][name] = {"mean": mean, "scale": scale, "edges": edges}
        for name in CATEGORICAL:
            values, counts = _merge((s[f"{group}/{name}/values"], s[f"{group}/{name}/counts"]) for s in stats)
            classes = sorted(str(v) for v in values)     # LabelEncoder order
            entry: dict[str, Any] = {"classes": classes}
            if name in BINNED_CODES:
                codes = np.searchsorted(np.asarray(classes), values.astype(str))
                order = np.argsort(codes)
                entry["edges"] = decile_edges(codes[order].astype(np.float64), counts[order])
            spec["categorical"][name] = entry
    return spec


def fit(stat_files: Mapping[str, Sequence[str | Path]], protocol: str) -> dict[str, Any]:
    """The saved transform of one protocol: {"protocol", "transforms": {split: spec}}.

    `stat_files` maps each split to its days' partial statistics files.
    paper: one spec per split, each fitted on its own split (the authors' leak
    and mismatch); clean: one spec fitted on the train days, used for both.
    """
    if protocol == "paper":
        transforms = {split: fit_split(stat_files[split], PAPER_GROUPS[split]) for split in SPLITS}
    elif protocol == "clean":
        spec = fit_split(stat_files["train"], "all")
        transforms = {"train": spec, "test": spec}
    else:
        raise ReproflowError(f"unknown protocol {protocol!r} (known: paper, clean)")
    return {"protocol": protocol, "n_bins": N_BINS, "features": list(FEATURES), "transforms": transforms}


# ----------------------------------------------------------------- step 3


def cut(z: np.ndarray, edges: Sequence[float]) -> tuple[np.ndarray, int]:
    """pandas.cut(z, edges, labels=False, include_lowest=True); out-of-range values are
    clipped to the first/last bin and counted (they only occur when applying a
    transform to data it was not fitted on)."""
    edges_array = np.asarray(edges, dtype=np.float64)
    if len(edges_array) < 2:    # constant column: one bin
        return np.zeros(len(z), np.uint8), int(np.sum(z != edges_array[0]))
    ids = np.searchsorted(edges_array, z, side="left")
    ids[z == edges_array[0]] = 1
    outside = (ids == 0) | (ids == len(edges_array))
    return (np.clip(ids, 1, len(edges_array) - 1) - 1).astype(np.uint8), int(outside.sum())


def encode(values: np.ndarray, classes: Sequence[str]) -> tuple[np.ndarray, int]:
    """Label-encode; unseen categories get the code len(classes) and are counted."""
    known = np.asarray(classes)
    codes = np.searchsorted(known, values)
    found = (codes < len(known)) & (known[np.minimum(codes, len(known) - 1)] == values)
    return np.where(found, codes, len(known)).astype(np.int64), int((~found).sum())


def apply_spec(columns: Columns, rows: np.ndarray, spec: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, int]]:
    """The 21 binned features (uint8) of the selected rows, and per-column counts
    of unseen categories / out-of-range values."""
    n = int(rows.sum())
    x = np.zeros((n, len(FEATURES)), np.uint8)
    issues: dict[str, int] = {}
    numeric = columns.numeric[rows]     # the rows gathered once, not once per column
    for j, name in enumerate(NUMERIC):
        entry = spec["numeric"][name]
        z = (numeric[:, j] - entry["mean"]) / entry["scale"]
        x[:, FEATURES.index(name)], issues[f"out_of_range.{name}"] = cut(z, entry["edges"])
    for name in CATEGORICAL:    # each distinct value encoded once, the rows by their codes
        entry = spec["categorical"][name]
        unique, inverse = columns.categories(name)
        codes = encode(unique, entry["classes"])[0][inverse[rows]]
        issues[f"unseen.{name}"] = int(np.sum(codes == len(entry["classes"])))
        if name in BINNED_CODES:
            x[:, FEATURES.index(name)], issues[f"out_of_range.{name}"] = cut(codes.astype(np.float64), entry["edges"])
        else:
            x[:, FEATURES.index(name)] = np.minimum(codes, N_BINS - 1)
    for k, name in enumerate(DETECTION):
        x[:, FEATURES.index(name)] = columns.detection[rows, k]
    return x, issues


def transform(columns: Columns, split: np.ndarray, fitted: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Bin one day's records with the fitted transform of each row's split."""
    x = np.zeros((len(columns), len(FEATURES)), np.uint8)
    issues: dict[str, int] = {}
    for code, name in enumerate(SPLITS):
        rows = split == code
        if rows.any():
            x[rows], found = apply_spec(columns, rows, fitted["transforms"][name])
            issues.update({f"{name}.{key}": value for key, value in found.items()})
    arrays = {"x": x, "y": attack_labels(columns.label), "split": split.astype(np.uint8), "line": columns.line}
    return arrays, issues


def transform_raw(columns: Columns, spec: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, int]]:
    """Bin new records (prediction) with one fitted spec."""
    return apply_spec(columns, np.ones(len(columns), bool), spec)


# ----------------------------------------------------------------- assembly


def _row_keys(x: np.ndarray, y: np.ndarray) -> list[bytes]:
    rows = np.ascontiguousarray(np.column_stack([x, y]).astype(np.uint8))
    width, data = rows.shape[1], rows.tobytes()
    return [data[i * width:(i + 1) * width] for i in range(len(rows))]


def _first_seen(keys: list[bytes], seen: set[bytes]) -> np.ndarray:
    keep = np.zeros(len(keys), bool)
    for i, key in enumerate(keys):
        if key not in seen:
            seen.add(key)
            keep[i] = True
    return keep


def assemble(day_files: Sequence[str | Path], protocol: str, feature_set: str, *,
             trim_multiple: int = 1) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Concatenate the binned days in order, deduplicate, split; arrays and counts.

    Arrays: x_<split> (uint8 bins), y_<split> (1 = attack), day_<split> (index
    into `day_files`). Rows are kept in day and line order (first occurrence).
    `day_files` must be in date order: in `clean` every train day then comes
    before every test day, so the train rows are all known when test rows are
    checked against them.
    """
    if feature_set not in FEATURE_SETS:
        raise ReproflowError(f"unknown feature set {feature_set!r} (known: {sorted(FEATURE_SETS)})")
    columns = list(FEATURE_SETS[feature_set])
    seen: dict[str, set[bytes]] = {split: set() for split in SPLITS}
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {split: [] for split in SPLITS}
    counts: dict[str, Any] = {f"{split}_{key}": 0 for split in SPLITS for key in ("rows", "duplicates")}
    counts["test_in_train_removed"] = 0
    for index, path in enumerate(day_files):
        with open_npz(path, ("x", "y", "split")) as day:
            x_all, y_all, split_all = day["x"], day["y"], day["split"]
        if x_all.ndim != 2 or x_all.shape[1] != len(FEATURES) or not len(y_all) == len(split_all) == len(x_all):
            raise ReproflowError(f"{path}: x has shape {x_all.shape}, y {y_all.shape}, split {split_all.shape}; "
                                 f"expected x of (rows, {len(FEATURES)}) bins and y and split of (rows,), as "
                                 "transform_day writes them")
        x_all = x_all[:, columns]
        for code, split in enumerate(SPLITS):
            rows = split_all == code
            x, y = x_all[rows], y_all[rows]
            counts[f"{split}_rows"] += len(y)
            keys = _row_keys(x, y)
            if protocol == "clean" and split == "test":
                keep = np.array([key not in seen["train"] for key in keys], bool)
                counts["test_in_train_removed"] += int((~keep).sum())
            else:   # drop_duplicates within the split only
                keep = _first_seen(keys, seen[split])
                counts[f"{split}_duplicates"] += int((~keep).sum())
            parts[split].append((x[keep], y[keep], np.full(int(keep.sum()), index, np.int32)))
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS:
        empty = (np.zeros((0, len(columns)), np.uint8), np.zeros(0, np.uint8), np.zeros(0, np.int32))
        x, y, day = (np.concatenate(part) for part in zip(*parts[split])) if parts[split] else empty
        n = len(y) - len(y) % trim_multiple
        counts[f"{split}_trimmed"] = len(y) - n
        arrays[f"x_{split}"], arrays[f"y_{split}"], arrays[f"day_{split}"] = x[:n], y[:n], day[:n]
        counts[f"{split}_final"] = n
        counts[f"{split}_attack"] = int(y[:n].sum())
        counts[f"{split}_normal"] = n - int(y[:n].sum())
    return arrays, counts


def check_clean_days(train_days: Sequence[str], test_days: Sequence[str]) -> None:
    """The clean protocol's split must put every train day strictly before every test day."""
    if not train_days or not test_days:
        raise ReproflowError(f"ids.clean: need train and test days, got {len(train_days)} and {len(test_days)}")
    if max(train_days) >= min(test_days):
        raise ReproflowError(
            f"ids.clean: train days must all come before test days (last train {max(train_days)}, "
            f"first test {min(test_days)})")
