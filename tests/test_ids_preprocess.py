"""Study 1 preprocessing: the authors' pipeline (paper) and the leak-free one (clean)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import LabelEncoder, StandardScaler

from reproflow.errors import ReproflowError
from reproflow.ids import preprocess as pp
from reproflow.ids import jobs
from reproflow.ids.kyoto import NUMERIC, Columns
from reproflow.ids.synth import write_days


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """4 synthetic days parsed to columns + partial statistics."""
    root = tmp_path_factory.mktemp("ids")
    files = write_days(root / "raw", days=4, rows_per_day=500, seed=11)
    out = {}
    for path in files:
        day = path.stem
        paths = {key: str(root / f"{day}.{key}") for key in ("columns", "stats", "rejects", "info")}
        paths["columns"] += ".npz"
        paths["stats"] += ".npz"
        jobs.parse_day(source=str(path), day=day, out=paths, max_reject_share=0.0, split_seed=1, test_share=0.2)
        out[day] = paths
    return root, out


def _fit(root, days, protocol):
    stats = {d: p["stats"] for d, p in days.items()}
    return jobs.fit_protocol(protocol=protocol, stats=stats, days=sorted(days), test_days=1,
                             out=str(root / f"{protocol}.json"))


def _binned(root, days, protocol, feature_set="all"):
    binned, infos = {}, []
    for day, paths in days.items():
        out = {"binned": str(root / f"{protocol}-{day}.npz"), "info": str(root / f"{protocol}-{day}.json")}
        jobs.transform_day(columns=paths["columns"], fitted=str(root / f"{protocol}.json"), day=day,
                           split_seed=1, test_share=0.2, out=out)
        binned[day], infos = out["binned"], [*infos, out["info"]]
    out = {"data": str(root / f"{protocol}-{feature_set}.npz"), "info": str(root / f"{protocol}-{feature_set}.json")}
    info = jobs.build_dataset(binned=binned, transform_info=infos, parse_info=[p["info"] for p in days.values()],
                              protocol=protocol, feature_set=feature_set, trim_multiple=64, source="synthetic",
                              out=out)
    with np.load(out["data"]) as data:
        return {k: data[k] for k in data.files}, info


def test_paper_transform_equals_scaler_labelencoder_and_qcut_fitted_per_split(days):
    root, day_paths = days
    fitted = _fit(root, day_paths, "paper")
    for code, split in enumerate(pp.SPLITS):
        cols = [Columns.load(p["columns"]) for p in day_paths.values()]
        masks = [pp.paper_split(len(c), d, 1, 0.2) == code for c, d in zip(cols, day_paths)]
        numeric = np.concatenate([c.numeric[m] for c, m in zip(cols, masks)])
        z = StandardScaler().fit_transform(numeric)
        x = np.concatenate([pp.transform(c, m.astype(np.uint8) * 0 + code, fitted)[0]["x"][m]
                            for c, m in zip(cols, masks)])
        for j, name in enumerate(NUMERIC):
            expected = pd.qcut(z[:, j], 10, labels=False, duplicates="drop")
            assert np.array_equal(x[:, pp.FEATURES.index(name)], expected), (split, name)
        for name in ("service", "flag"):
            codes = LabelEncoder().fit_transform(np.concatenate([getattr(c, name)[m] for c, m in zip(cols, masks)]))
            expected = pd.qcut(codes, 10, labels=False, duplicates="drop")
            assert np.array_equal(x[:, pp.FEATURES.index(name)], expected), (split, name)
    # each split has its own fit (the authors' leak and mismatch)
    assert fitted["transforms"]["train"] != fitted["transforms"]["test"]


def test_paper_dataset_dedups_within_each_split_and_trims(days):
    root, day_paths = days
    _fit(root, day_paths, "paper")
    arrays, info = _binned(root, day_paths, "paper")
    counts = info["counts"]
    for split in pp.SPLITS:
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        assert len(y) % 64 == 0 and len(y) == counts[f"{split}_final"]
        rows = np.column_stack([x, y])
        assert len(np.unique(rows, axis=0)) == len(rows)           # no duplicate left in a split
        assert counts[f"{split}_rows"] == len(y) + counts[f"{split}_duplicates"] + counts[f"{split}_trimmed"]


def test_clean_fits_on_train_days_only_and_removes_test_rows_seen_in_train(days):
    root, day_paths = days
    fitted = _fit(root, day_paths, "clean")
    train_days, test_days = fitted["days"]["train"], fitted["days"]["test"]
    assert max(train_days) < min(test_days) and test_days == [sorted(day_paths)[-1]]
    # the edges are exactly those fitted on the train days' statistics alone
    alone = pp.fit_split([day_paths[d]["stats"] for d in train_days], "all")
    assert fitted["transforms"]["train"] == alone == fitted["transforms"]["test"]
    with_test = pp.fit_split([p["stats"] for p in day_paths.values()], "all")
    assert with_test["numeric"]["duration"] != alone["numeric"]["duration"]
    arrays, info = _binned(root, day_paths, "clean")
    train_keys = {bytes(r) for r in np.column_stack([arrays["x_train"], arrays["y_train"]])}
    assert not any(bytes(r) in train_keys for r in np.column_stack([arrays["x_test"], arrays["y_test"]]))
    counts = info["counts"]
    assert counts["test_rows"] == counts["test_final"] + counts["test_in_train_removed"]
    assert "test.unseen.service" in info["unseen_categories"]


def test_clean_removes_and_counts_test_rows_that_occur_in_train(tmp_path):
    x = np.zeros((3, len(pp.FEATURES)), np.uint8)
    x[1, 0], x[2, 0] = 5, 7     # rows 0 and 1 go to train; the test day repeats them and adds row 2
    for name, split, rows in (("a", 0, x[:2]), ("b", 1, x)):
        np.savez(tmp_path / f"{name}.npz", x=rows, y=np.zeros(len(rows), np.uint8),
                 split=np.full(len(rows), split, np.uint8), line=np.arange(len(rows)))
    arrays, counts = pp.assemble([tmp_path / "a.npz", tmp_path / "b.npz"], "clean", "all")
    assert counts["test_in_train_removed"] == 2 and len(arrays["y_test"]) == 1
    ablation, _ = pp.assemble([tmp_path / "a.npz", tmp_path / "b.npz"], "clean", "no_detection")
    assert ablation["x_train"].shape[1] == 18


def test_unseen_categories_are_coded_and_counted():
    codes, unseen = pp.encode(np.array(["dns", "zzz", "http"]), ["dns", "http", "other"])
    assert codes.tolist() == [0, 3, 1] and unseen == 1
    bins, outside = pp.cut(np.array([-5.0, 0.0, 0.5, 9.0]), [0.0, 0.5, 1.0])
    assert bins.tolist() == [0, 0, 0, 1] and outside == 2


def test_clean_split_must_leave_train_days_before_test_days():
    with pytest.raises(ReproflowError, match="test_days"):
        jobs.split_days("clean", ["20130101", "20130102"], 2)
    with pytest.raises(ReproflowError, match="before test days"):
        pp.check_clean_days(["20130103"], ["20130102"])
