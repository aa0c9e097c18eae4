"""Hostile inputs of the rules' remaining entry functions: ids build_dataset,
train_job, train_jobs, baselines_job, summary_job; relu summarize; nmr
simulate_job, network_job, train_stage_job, train_stages_job,
train_sigma_job, train_sigma_jobs, evaluate_job, summary_job; and
`reproflow nmr quality`.

Inputs missing, a folder, a dangling link, truncated or corrupt npz and JSON,
NaN inside arrays, arrays of the wrong shape, an output that is an input: each
refused with a ReproflowError naming the file and what was expected, nothing
written. The ids inputs are the real outputs of parse_day, fit_protocol and
transform_day on three synthetic days, built once per source version.

Every job is called through one adapter below (`<job>_call`), naming its
entry function. A job that writes a run manifest (for rule mlflow_publish) is
given one inside the case folder (`run_out`, or `out["run"]`), so the
harness's check that nothing is left behind covers the manifest too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bad_inputs.hostile import Case

ROOT = Path(__file__).resolve().parents[2]
ENTRY_CAP = 1200   # an entry function importing MLflow (see hostile_nmr.py)
TF_CAP = 4000      # one that imports TensorFlow


# ------------------------------------------------------------ one adapter per job

def _entry(entry: str, kwargs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return entry, dict(kwargs)


def ids_dataset_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.ids.jobs:build_dataset", kwargs)


def ids_train_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.ids.jobs:train_job", kwargs)


def ids_train_batch_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.ids.jobs:train_jobs", kwargs)


def ids_baselines_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.ids.jobs:baselines_job", kwargs)


def ids_summary_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.ids.jobs:summary_job", kwargs)


def relu_summary_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.relu.jobs:summarize", kwargs)


def nmr_simulate_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:simulate_job", kwargs)


def nmr_network_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:network_job", kwargs)


def nmr_train_stage_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:train_stage_job", kwargs)


def nmr_train_sigma_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:train_sigma_job", kwargs)


def nmr_train_stages_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:train_stages_job", kwargs)


def nmr_train_sigma_batch_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:train_sigma_jobs", kwargs)


def nmr_evaluate_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:evaluate_job", kwargs)


def nmr_summary_call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
    return _entry("reproflow.nmr.jobs:summary_job", kwargs)


def job_case(id: str, klass: str, make: Callable[[Path], None], expect: list[str],
             call: tuple[str, dict[str, Any]], memory_mb: int = ENTRY_CAP, **extra: Any) -> Case:
    entry, kwargs = call
    return Case(id, klass, make, expect, runner="entry", entry=entry, kwargs=kwargs, memory_mb=memory_mb, **extra)


def making(*makers: Callable[[Path], Any]) -> Callable[[Path], None]:
    """One case folder maker running `makers` in turn."""
    def make(folder: Path) -> None:
        for maker in makers:
            maker(folder)
    return make


# ------------------------------------------------------------ files, damaged

def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def dangle(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.parent / "gone")


def edit_npz(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    change(arrays)
    path.unlink()
    np.savez(path, **arrays)
    if path.suffix != ".npz":     # np.savez appends .npz to a name without it
        Path(f"{path}.npz").rename(path)


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


# ------------------------------------------------------------ study 1: the ids pipeline's own files

IDS = ROOT / "src" / "reproflow" / "ids"
DAYS = ("20130101", "20130102", "20130103")


def _build_ids(root: Path) -> None:
    from reproflow.ids import jobs
    from reproflow.ids.synth import write_days

    write_days(root / "raw", days=len(DAYS), rows_per_day=60, seed=3)
    for day in DAYS:
        jobs.parse_day(source=str(root / "raw" / f"{day}.txt"), day=day, max_reject_share=0.0, split_seed=0,
                       test_share=0.2, out={k: str(root / day / f"{k}.{e}") for k, e in (
                            ("columns", "npz"), ("stats", "npz"), ("rejects", "tsv"), ("info", "json"))})
    jobs.fit_protocol(protocol="clean", stats={d: str(root / d / "stats.npz") for d in DAYS}, days=list(DAYS),
                      test_days=1, out=str(root / "fitted.json"))
    for day in DAYS:
        jobs.transform_day(columns=str(root / day / "columns.npz"), fitted=str(root / "fitted.json"), day=day,
                           split_seed=0, test_share=0.2,
                           out={"binned": str(root / day / "binned.npz"), "info": str(root / day / "transform.json")})
    jobs.build_dataset(**ids_dataset_kwargs(str(root)))


def ids_files(folder: Path) -> None:
    """The three days' parse, transform and dataset files, copied into the case folder."""
    digest = hashlib.sha256()
    for path in sorted(IDS.glob("*.py")):
        digest.update(path.read_bytes())
    cache = Path(tempfile.gettempdir()) / f"reproflow-hostile-jobs-ids-{digest.hexdigest()[:16]}"
    if not (cache / "dataset.json").exists():
        building = Path(tempfile.mkdtemp(prefix=cache.name + ".building-", dir=cache.parent))
        _build_ids(building)
        try:
            building.rename(cache)
        except OSError:       # built meanwhile by another process
            shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(cache, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("raw"))


def ids_dataset_kwargs(tmp: str = "{tmp}", **out: str) -> dict[str, Any]:
    return {"binned": {d: f"{tmp}/{d}/binned.npz" for d in DAYS},
            "transform_info": [f"{tmp}/{d}/transform.json" for d in DAYS],
            "parse_info": [f"{tmp}/{d}/info.json" for d in DAYS], "protocol": "clean", "feature_set": "all",
            "trim_multiple": 1, "source": "synthetic",
            "out": {"data": f"{tmp}/dataset.npz", "info": f"{tmp}/dataset.json", **out}}


def ids_dataset_case(id: str, klass: str, damage: Callable[[Path], None], expect: list[str], **out: str) -> Case:
    def make(folder: Path) -> None:
        ids_files(folder)
        for name in ("dataset.npz", "dataset.json"):   # the job's own outputs: not there before it runs
            (folder / name).unlink()
        damage(folder)
    return job_case(id, klass, make, expect, ids_dataset_call(**ids_dataset_kwargs(**out)), memory_mb=800)


def with_ids(*damage: Callable[[Path], Any]) -> Callable[[Path], None]:
    return making(ids_files, *damage)


def ids_options() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["ids"]


IDS_TRAIN_OUT = {"model_dir": "{tmp}/model", "history": "{tmp}/history.csv", "metrics": "{tmp}/metrics.json",
                 "run": "{tmp}/run.json"}


def ids_train_kwargs(**change: Any) -> dict[str, Any]:
    kwargs = {"data": "{tmp}/dataset.npz", "info": "{tmp}/dataset.json",
              "out": IDS_TRAIN_OUT,
              "protocol": "clean", "feature_set": "all", "arm": "gru_svm", "seed": 0, "purpose": "final",
              "options": ids_options(), "backup_dir": "{tmp}/backup", "search_files": ["{tmp}/search.json"],
              "transform": "{tmp}/fitted.json"}
    return {**kwargs, **change}


def ids_baselines_kwargs(**change: Any) -> dict[str, Any]:
    return {"data": "{tmp}/dataset.npz", "info": "{tmp}/dataset.json", "out": "{tmp}/baselines.json",
            "run_out": "{tmp}/baselines_run.json", "feature_set": "all", "names": ["logreg"], **change}


IDS_SUMMARY_OUT = {f"{name}_{kind}": f"{{tmp}}/out/{name}.{kind}" for name in
                   ("table2", "table3", "table4", "table5", "comparison", "clean") for kind in ("csv", "html")}


def ids_summary_kwargs(**change: Any) -> dict[str, Any]:
    return {"finals": ["{tmp}/final.json"], "datasets": {"clean/all": "{tmp}/dataset.json"},
            "baselines": ["{tmp}/baselines.json"], "out": {**IDS_SUMMARY_OUT, "summary_html": "{tmp}/out/summary.html"},
            "run_out": "{tmp}/out/summary_run.json", "source": "synthetic", **change}


def final_metrics(folder: Path) -> None:
    (folder / "final.json").write_text(json.dumps({"protocol": "clean", "feature_set": "all", "arm": "gru_svm"}))
    (folder / "baselines.json").write_text(json.dumps({"protocol": "clean", "feature_set": "all", "baselines": {}}))


# ------------------------------------------------------------ study 2: relu summary

RELU_OUT = {key: f"{{tmp}}/out/{key}" for key in
            ("metrics", "comparison_csv", "comparison_html", "summary_html", "folds", "folds_html", "run")}


def relu_job_metrics(folder: Path, **change: Any) -> None:
    job = {"protocol": "clean", "dataset": "wdbc", "model": "ffnn", "head": "relu", "seed": 0,
           "cv_accuracy_mean": 0.9, "cv_accuracy_sd": 0.01, "zero_output_rows": 0, "n_test": 10,
           "test": {"accuracy": 0.9, "confusion": [[5, 0], [1, 4]],
                    **{avg: {"precision": 0.9, "recall": 0.9, "f1": 0.9} for avg in ("macro", "weighted")}},
           **change}
    (folder / "job.json").write_text(json.dumps(job))


def relu_summary_case(id: str, klass: str, make: Callable[[Path], None], expect: list[str], **change: Any) -> Case:
    kwargs = {"jobs": ["{tmp}/job.json"], "out": RELU_OUT, "protocols": ["clean"], **change}
    return job_case(id, klass, make, expect, relu_summary_call(**kwargs))


# ------------------------------------------------------------ study 3: nmr sets, outputs and models

SHAPE = (64, 128)


def nmr_options() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["nmr"]


def nmr_set(path: Path, count: int = 2, shape: tuple[int, int] = SHAPE, **change: np.ndarray) -> Path:
    """A simulated set as nmr_simulate writes it: reference, echo, antiecho, nus, schedules."""
    rng = np.random.default_rng(0)
    arrays = {name: rng.normal(size=(count, *shape)).astype(np.float32) for name in ("reference", "echo", "antiecho", "nus")}
    arrays["schedules"] = np.ones((count, shape[0] // 2), bool)
    arrays.update(change)
    np.savez(path, **arrays)
    return path


def method_out(path: Path, count: int = 2, shape: tuple[int, int] = SHAPE, **change: np.ndarray) -> Path:
    """An IST or network job's output: the reconstructions of a set and their timings."""
    rng = np.random.default_rng(1)
    arrays = {name: rng.normal(size=(count, *shape)).astype(np.float32) for name in ("echo", "antiecho", "nus")}
    arrays["seconds"] = np.ones(3 * count)
    arrays.update(change)
    np.savez(path, **arrays)
    return path


def not_a_model(path: Path) -> Path:
    path.write_bytes(b"not a zip archive\n")
    return path


def nmr_inputs(folder: Path) -> None:
    for name in ("train", "val", "test"):
        nmr_set(folder / f"{name}.npz")
        method_out(folder / f"ist_{name}.npz")


def with_nmr(damage: Callable[[Path], Any] = lambda folder: None) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        nmr_inputs(folder)
        damage(folder)
    return make


NMR_OPTIONS = {"width": 8, "tiles": 8, "val_tiles": 4, "epochs": 1, "batch_size": 4, "learning_rate": 1e-3,
               "lr_factor": 0.8, "patience": 1, "lr_patience": 1, "damping": 0.05}


def train_stage_kwargs(**change: Any) -> dict[str, Any]:
    return {"train": "{tmp}/train.npz", "val": "{tmp}/val.npz", "previous": [], "out": "{tmp}/stage0.keras",
            "curves": "{tmp}/curves.csv", "run_out": "{tmp}/run.json", "backup": "{tmp}/backup", "architecture": "wnn_bf", "stage": 0,
            "options": NMR_OPTIONS, "seed": 0, **change}


def train_sigma_kwargs(**change: Any) -> dict[str, Any]:
    return {"method": "ist_echo", "data": {"train": "{tmp}/train.npz", "val": "{tmp}/val.npz"},
            "ist_out": {"train": "{tmp}/ist_train.npz", "val": "{tmp}/ist_val.npz"}, "network_out": {},
            "out": "{tmp}/sigma.keras", "curves": "{tmp}/sigma.csv", "run_out": "{tmp}/run.json", "backup": "{tmp}/backup",
            "options": NMR_OPTIONS, "seed": 0, **change}


EVALUATE_OUT = {"json": "{tmp}/out/test.json", "psq": "{tmp}/out/psq.csv", "boxes": "{tmp}/out/boxes.npz",
                "figure": "{tmp}/out/figure.png", "sigma_dir": "{tmp}/out/sigma", "run": "{tmp}/out/run.json"}


def evaluate_kwargs(**change: Any) -> dict[str, Any]:
    return {"name": "test", "data": "{tmp}/test.npz", "ist_out": "{tmp}/ist_test.npz",
            "networks": {"wnn_bf": "{tmp}/net_test.npz"}, "sigma_models": {"ist_echo": "{tmp}/sigma.keras"},
            "primary": "wnn_bf", "out": EVALUATE_OUT, "spectrum": None, **change}


def evaluate_inputs(damage: Callable[[Path], Any] = lambda folder: None) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        nmr_inputs(folder)
        method_out(folder / "net_test.npz")
        not_a_model(folder / "sigma.keras")
        damage(folder)
    return make


NMR_SUMMARY_OUT = {key: f"{{tmp}}/out/{name}" for key, name in (
    ("table", "table.csv"), ("metrics", "metrics.json"), ("rmsd_figure", "rmsd.png"),
    ("sigma_figure", "sigma.png"), ("report", "report.md"), ("summary_html", "summary.html"),
    ("run", "summary_run.json"))}


def evaluation(folder: Path, name: str = "eval.json", **change: Any) -> None:
    table = {m: {"r": 0.9, "rmsd": 0.1, "r_each": [0.9], "rmsd_each": [0.1]} for m in ("network_echo", "ist_echo")}
    (folder / name).write_text(json.dumps({"set": "test", "spectra": 1, "table": table, "uncertainty": {}, **change}))
    np.savez(folder / "boxes.npz", ist_echo=np.ones(10))


def nmr_summary_case(id: str, klass: str, damage: Callable[[Path], Any], expect: list[str], **change: Any) -> Case:
    kwargs = {"evaluations": ["{tmp}/eval.json"], "boxes": ["{tmp}/boxes.npz"], "out": NMR_SUMMARY_OUT,
              "options": {}, **change}
    return job_case(id, klass, making(evaluation, damage), expect, nmr_summary_call(**kwargs))


def echo_spectrum(folder: Path) -> None:
    from bad_inputs.hostile_nmr import echo_file

    echo_file(folder)


def dump(path: Path, content: object) -> None:
    path.write_text(json.dumps(content))


# ------------------------------------------------------------ the cases

CASES = [
    # -- ids build_dataset: the days' binned arrays and infos
    ids_dataset_case("jobs-ids-dataset-binned-truncated", "corrupt, partial or foreign file",
                     lambda f: truncate(f / DAYS[1] / "binned.npz"),
                     [f"{{tmp}}/{DAYS[1]}/binned.npz", "not a readable .npz file"]),
    ids_dataset_case("jobs-ids-dataset-binned-dangling-link", "data path", lambda f: dangle(f / DAYS[0] / "binned.npz"),
                     [f"{{tmp}}/{DAYS[0]}/binned.npz", "dangling symbolic link"]),
    ids_dataset_case("jobs-ids-dataset-binned-is-a-folder", "data path",
                     lambda f: ((f / DAYS[0] / "binned.npz").unlink(), (f / DAYS[0] / "binned.npz").mkdir()),
                     [f"{{tmp}}/{DAYS[0]}/binned.npz", "is a folder"]),
    ids_dataset_case("jobs-ids-dataset-binned-wrong-shape", "corrupt, partial or foreign file",
                     lambda f: edit_npz(f / DAYS[2] / "binned.npz", lambda a: a.update(x=a["x"][:, :5])),
                     [f"{{tmp}}/{DAYS[2]}/binned.npz", "x has shape", "expected"]),
    ids_dataset_case("jobs-ids-dataset-parse-info-truncated", "corrupt, partial or foreign file",
                     lambda f: truncate(f / DAYS[1] / "info.json"),
                     [f"{{tmp}}/{DAYS[1]}/info.json", "cannot read a day's parse info"]),
    ids_dataset_case("jobs-ids-dataset-parse-info-without-counts", "corrupt, partial or foreign file",
                     lambda f: edit_json(f / DAYS[0] / "info.json", lambda c: c.pop("records")),
                     [f"{{tmp}}/{DAYS[0]}/info.json", "records"]),
    ids_dataset_case("jobs-ids-dataset-out-is-input", "output is an input", lambda f: None,
                     [f"{{tmp}}/{DAYS[0]}/binned.npz", "is the input"], data=f"{{tmp}}/{DAYS[0]}/binned.npz"),
    # -- ids baselines_job
    job_case("jobs-ids-baselines-info-missing", "data path", with_ids(lambda f: (f / "dataset.json").unlink()),
             ["{tmp}/dataset.json", "no such file"], ids_baselines_call(**ids_baselines_kwargs())),
    job_case("jobs-ids-baselines-info-without-source", "corrupt, partial or foreign file",
             with_ids(lambda f: edit_json(f / "dataset.json", lambda c: c.pop("source_label"))),
             ["{tmp}/dataset.json", "source_label"], ids_baselines_call(**ids_baselines_kwargs())),
    job_case("jobs-ids-baselines-nan-in-features", "non-finite or out-of-range number",
             with_ids(lambda f: edit_npz(f / "dataset.npz", lambda a: a.update(
                 x_train=np.where(np.arange(a["x_train"].shape[1]) == 2, np.nan, a["x_train"].astype(float))))),
             ["{tmp}/dataset.npz", "x_train", "NaN or infinite"], ids_baselines_call(**ids_baselines_kwargs())),
    job_case("jobs-ids-baselines-out-is-input", "output is an input", with_ids(),
             ["{tmp}/dataset.json", "is the input"], ids_baselines_call(**ids_baselines_kwargs(out="{tmp}/dataset.json"))),
    # -- ids summary_job
    job_case("jobs-ids-summary-final-truncated", "corrupt, partial or foreign file",
             with_ids(final_metrics, lambda f: truncate(f / "final.json")),
             ["{tmp}/final.json", "cannot read"], ids_summary_call(**ids_summary_kwargs())),
    job_case("jobs-ids-summary-final-without-keys", "corrupt, partial or foreign file",
             with_ids(final_metrics, lambda f: dump(f / "final.json", {"arm": "gru_svm"})),
             ["{tmp}/final.json", "protocol"], ids_summary_call(**ids_summary_kwargs())),
    job_case("jobs-ids-summary-out-is-final", "output is an input", with_ids(final_metrics),
             ["{tmp}/final.json", "is the input"],
             ids_summary_call(**ids_summary_kwargs(out={**IDS_SUMMARY_OUT, "clean_csv": "{tmp}/final.json",
                                                        "summary_html": "{tmp}/out/summary.html"}))),
    # -- ids train_job (loads TensorFlow: two cases)
    job_case("jobs-ids-train-search-result-corrupt", "corrupt, partial or foreign file",
             with_ids(lambda f: (f / "search.json").write_text('{"learning_rate": 0.01, "val": {')),
             ["{tmp}/search.json", "cannot read"], ids_train_call(**ids_train_kwargs()), memory_mb=TF_CAP),
    job_case("jobs-ids-train-metrics-is-input", "output is an input", with_ids(lambda f: dump(f / "search.json", {})),
             ["{tmp}/dataset.json", "is the input"],
             ids_train_call(**ids_train_kwargs(out={**IDS_TRAIN_OUT, "metrics": "{tmp}/dataset.json"})), memory_mb=TF_CAP),
    # -- ids train_jobs: the second configuration's bad output refuses the batch before the first trains
    job_case("jobs-ids-train-batch-second-history-is-input", "output is an input",
             with_ids(lambda f: dump(f / "search.json", {})), ["{tmp}/dataset.npz", "is the input"],
             ids_train_batch_call(configurations=[
                 ids_train_kwargs(),
                 ids_train_kwargs(arm="gru_softmax", backup_dir="{tmp}/backup2",
                                  out={"model_dir": "{tmp}/model2", "history": "{tmp}/dataset.npz",
                                       "metrics": "{tmp}/metrics2.json", "run": "{tmp}/run2.json"})]),
             memory_mb=TF_CAP),
    # -- relu summarize
    relu_summary_case("jobs-relu-summary-job-truncated", "corrupt, partial or foreign file",
                      lambda f: (relu_job_metrics(f), truncate(f / "job.json")), ["{tmp}/job.json", "cannot read"]),
    relu_summary_case("jobs-relu-summary-job-without-keys", "corrupt, partial or foreign file",
                      lambda f: dump(f / "job.json", {"test": {"accuracy": 0.9}}),
                      ["{tmp}/job.json", "cv_accuracy_mean", "expected"]),
    relu_summary_case("jobs-relu-summary-accuracy-nan", "non-finite or out-of-range number",
                      lambda f: relu_job_metrics(f, cv_accuracy_mean=float("nan")),
                      ["{tmp}/job.json", "cv_accuracy_mean", "finite"]),
    relu_summary_case("jobs-relu-summary-job-dangling", "data path",
                      lambda f: (f / "job.json").symlink_to(f / "gone.json"), ["{tmp}/job.json", "dangling"]),
    relu_summary_case("jobs-relu-summary-out-is-input", "output is an input", relu_job_metrics,
                      ["{tmp}/job.json", "is the input"], out={**RELU_OUT, "folds": "{tmp}/job.json"}),
    # -- nmr simulate_job
    job_case("jobs-nmr-simulate-out-is-a-folder", "unusable output path", lambda f: (f / "train.npz").mkdir(),
             ["{tmp}/train.npz", "is a folder"],
             nmr_simulate_call(out="{tmp}/train.npz", split="train", simulation=nmr_options()["simulation"], count=2,
                               vary={}, nus_fraction=0.5, seed=0)),
    job_case("jobs-nmr-simulate-count-zero", "non-finite or out-of-range number", lambda f: None,
             ["{tmp}/train.npz", "count = 0", "at least 1"],
             nmr_simulate_call(out="{tmp}/train.npz", split="train", simulation=nmr_options()["simulation"], count=0,
                               vary={}, nus_fraction=0.5, seed=0)),
    job_case("jobs-nmr-simulate-nus-fraction-nan", "non-finite or out-of-range number", lambda f: None,
             ["nus_fraction = nan", "(0, 1]"],
             nmr_simulate_call(out="{tmp}/train.npz", split="train", simulation=nmr_options()["simulation"], count=1,
                               vary={}, nus_fraction=float("nan"), seed=0)),
    # -- nmr network_job
    job_case("jobs-nmr-network-data-nan", "non-finite or out-of-range number",
             with_nmr(lambda f: nmr_set(f / "test.npz", echo=np.full((2, *SHAPE), np.nan, np.float32))),
             ["{tmp}/test.npz", "'echo'", "NaN or infinite"],
             nmr_network_call(data="{tmp}/test.npz", stages=["{tmp}/stage0.keras"], out="{tmp}/net.npz",
                              run_out="{tmp}/run.json", damping_base=0.05, arch="wnn_bf", set_name="test")),
    job_case("jobs-nmr-network-data-wrong-shape", "corrupt, partial or foreign file",
             with_nmr(lambda f: nmr_set(f / "test.npz", echo=np.ones((2, 32, 128), np.float32))),
             ["{tmp}/test.npz", "echo", "(2, 32, 128)", "expected"],
             nmr_network_call(data="{tmp}/test.npz", stages=["{tmp}/stage0.keras"], out="{tmp}/net.npz",
                              run_out="{tmp}/run.json", damping_base=0.05, arch="wnn_bf", set_name="test")),
    job_case("jobs-nmr-network-data-without-antiecho", "corrupt, partial or foreign file",
             with_nmr(lambda f: edit_npz(f / "test.npz", lambda a: a.pop("antiecho"))),
             ["{tmp}/test.npz", "antiecho"],
             nmr_network_call(data="{tmp}/test.npz", stages=["{tmp}/stage0.keras"], out="{tmp}/net.npz",
                              run_out="{tmp}/run.json", damping_base=0.05, arch="wnn_bf", set_name="test")),
    job_case("jobs-nmr-network-out-is-stage", "output is an input", with_nmr(lambda f: not_a_model(f / "stage0.keras")),
             ["{tmp}/stage0.keras", "is the input"],
             nmr_network_call(data="{tmp}/test.npz", stages=["{tmp}/stage0.keras"], out="{tmp}/stage0.keras",
                              run_out="{tmp}/run.json", damping_base=0.05, arch="wnn_bf", set_name="test")),
    job_case("jobs-nmr-network-stage-not-a-model", "corrupt, partial or foreign file",
             with_nmr(lambda f: not_a_model(f / "stage0.keras")),
             ["{tmp}/stage0.keras", "not a readable .keras file"],
             nmr_network_call(data="{tmp}/test.npz", stages=["{tmp}/stage0.keras"], out="{tmp}/net.npz",
                              run_out="{tmp}/run.json", damping_base=0.05, arch="wnn_bf", set_name="test")),
    # -- nmr train_stage_job
    job_case("jobs-nmr-train-stage-train-truncated", "corrupt, partial or foreign file",
             with_nmr(lambda f: truncate(f / "train.npz")), ["{tmp}/train.npz", "not a readable .npz"],
             nmr_train_stage_call(**train_stage_kwargs())),
    job_case("jobs-nmr-train-stage-val-dangling", "data path", with_nmr(lambda f: dangle(f / "val.npz")),
             ["{tmp}/val.npz", "dangling symbolic link"], nmr_train_stage_call(**train_stage_kwargs())),
    job_case("jobs-nmr-train-stage-curves-is-out", "output is an input", with_nmr(),
             ["{tmp}/stage0.keras", "same file", "two different"],
             nmr_train_stage_call(**train_stage_kwargs(curves="{tmp}/stage0.keras"))),
    job_case("jobs-nmr-train-stage-sets-of-other-shapes", "corrupt, partial or foreign file",
             with_nmr(lambda f: nmr_set(f / "val.npz", shape=(32, 256))),
             ["{tmp}/val.npz", "(2, 32, 256)", "{tmp}/train.npz", "(2, 64, 128)"],
             nmr_train_stage_call(**train_stage_kwargs())),
    # -- nmr train_stages_job: stage 1's bad output refuses the job before stage 0 trains
    job_case("jobs-nmr-train-stages-stage1-curves-is-val", "output is an input", with_nmr(),
             ["{tmp}/val.npz", "is the input"],
             nmr_train_stages_call(train="{tmp}/train.npz", val="{tmp}/val.npz", outs=[
                 {"model": "{tmp}/stage0.keras", "curves": "{tmp}/curves0.csv", "run": "{tmp}/run0.json",
                  "backup": "{tmp}/backup0"},
                 {"model": "{tmp}/stage1.keras", "curves": "{tmp}/val.npz", "run": "{tmp}/run1.json",
                  "backup": "{tmp}/backup1"}], architecture="wnn_bf", options=NMR_OPTIONS, seed=0)),
    # -- nmr train_sigma_jobs: the second method's bad output refuses the job before the first trains
    job_case("jobs-nmr-train-sigma-batch-second-out-is-data", "output is an input", with_nmr(),
             ["{tmp}/train.npz", "is the input"],
             nmr_train_sigma_batch_call(configurations=[
                 train_sigma_kwargs(),
                 train_sigma_kwargs(method="ist_nus", out="{tmp}/train.npz", curves="{tmp}/sigma2.csv",
                                    run_out="{tmp}/run2.json", backup="{tmp}/backup2")])),
    # -- nmr train_sigma_job
    job_case("jobs-nmr-train-sigma-ist-out-of-another-set", "corrupt, partial or foreign file",
             with_nmr(lambda f: method_out(f / "ist_val.npz", count=3)),
             ["{tmp}/ist_val.npz", "echo", "(3, 64, 128)", "(2, 64, 128)"],
             nmr_train_sigma_call(**train_sigma_kwargs())),
    job_case("jobs-nmr-train-sigma-ist-out-nan", "non-finite or out-of-range number",
             with_nmr(lambda f: method_out(f / "ist_train.npz", echo=np.full((2, *SHAPE), np.inf, np.float32))),
             ["{tmp}/ist_train.npz", "'echo'", "NaN or infinite"], nmr_train_sigma_call(**train_sigma_kwargs())),
    job_case("jobs-nmr-train-sigma-out-is-data", "output is an input", with_nmr(), ["{tmp}/train.npz", "is the input"],
             nmr_train_sigma_call(**train_sigma_kwargs(out="{tmp}/train.npz"))),
    # -- nmr evaluate_job
    job_case("jobs-nmr-evaluate-ist-out-truncated", "corrupt, partial or foreign file",
             evaluate_inputs(lambda f: truncate(f / "ist_test.npz")), ["{tmp}/ist_test.npz", "not a readable .npz"],
             nmr_evaluate_call(**evaluate_kwargs())),
    job_case("jobs-nmr-evaluate-network-out-of-another-set", "corrupt, partial or foreign file",
             evaluate_inputs(lambda f: method_out(f / "net_test.npz", count=1)),
             ["{tmp}/net_test.npz", "(1, 64, 128)", "(2, 64, 128)"], nmr_evaluate_call(**evaluate_kwargs())),
    job_case("jobs-nmr-evaluate-spectrum-dangling", "data path",
             evaluate_inputs(lambda f: (f / "malt1.ft2").symlink_to(f / "gone.ft2")),
             ["{tmp}/malt1.ft2", "dangling symbolic link"], nmr_evaluate_call(**evaluate_kwargs(spectrum="{tmp}/malt1.ft2"))),
    job_case("jobs-nmr-evaluate-sigma-model-not-a-model", "corrupt, partial or foreign file", evaluate_inputs(),
             ["{tmp}/sigma.keras", "not a readable .keras file"], nmr_evaluate_call(**evaluate_kwargs())),
    job_case("jobs-nmr-evaluate-out-is-input", "output is an input", evaluate_inputs(),
             ["{tmp}/ist_test.npz", "is the input"],
             nmr_evaluate_call(**evaluate_kwargs(out={**EVALUATE_OUT, "psq": "{tmp}/ist_test.npz"}))),
    # -- nmr summary_job
    nmr_summary_case("jobs-nmr-summary-evaluation-truncated", "corrupt, partial or foreign file",
                     lambda f: truncate(f / "eval.json"), ["{tmp}/eval.json", "cannot read"]),
    nmr_summary_case("jobs-nmr-summary-evaluation-without-table", "corrupt, partial or foreign file",
                     lambda f: dump(f / "eval.json", {"set": "test"}), ["{tmp}/eval.json", "table"]),
    nmr_summary_case("jobs-nmr-summary-boxes-nan", "non-finite or out-of-range number",
                     lambda f: np.savez(f / "boxes.npz", ist_echo=np.array([1.0, np.nan])),
                     ["{tmp}/boxes.npz", "NaN or infinite"]),
    nmr_summary_case("jobs-nmr-summary-out-is-input", "output is an input", lambda f: None,
                     ["{tmp}/eval.json", "is the input"], out={**NMR_SUMMARY_OUT, "report": "{tmp}/eval.json"}),
    # -- reproflow nmr quality
    Case("jobs-nmr-quality-sigma-is-input", "output is an input", echo_spectrum, ["{tmp}/in.ft2", "is the input"],
         argv=["nmr", "quality", "--input", "{tmp}/in.ft2", "--method", "ist", "--sigma", "{tmp}/in.ft2"],
         memory_mb=500),
    Case("jobs-nmr-quality-reconstruction-dangling", "data path",
         lambda f: (echo_spectrum(f), (f / "rec.ft2").symlink_to(f / "gone.ft2")),
         ["{tmp}/rec.ft2", "dangling symbolic link"],
         argv=["nmr", "quality", "--input", "{tmp}/in.ft2", "--method", "ist", "--reconstruction", "{tmp}/rec.ft2"],
         memory_mb=500),
]
