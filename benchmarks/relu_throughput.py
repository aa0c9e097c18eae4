"""Benchmark, study 2: training throughput of the `relu_train` rule's path
against a bare `model.fit` of the same FFNN on the same arrays (method and
results: docs/benchmarks.md).

Usage: .venv/bin/python benchmarks/relu_throughput.py [--samples 55000] [--epochs 2]
       [--threads 2] [--folds 10] [--repeats 3] [--cnn-epochs 2] [--out FILE.json]

Random, seeded MNIST-shaped data (samples x 256 "PCA" features, 10 classes);
per head, each repeat times three variants, each `folds` fit calls of E epochs:

  bare      model.fit on all samples
  floor     model.fit on fold 1's training part, validating on its held-out
            part after every epoch: what the paper protocol itself asks for
  project   `reproflow.relu.train.paper_cv` as `run_job` calls it, with the
            `EpochLog` history recorded in a run manifest and INFO logging to
            a file, as the rule does

Build, compile and a warm-up epoch come before any timing; the variants
alternate (rotating order); samples/s counts training samples only, median of
`--repeats`. `limit_threads(--threads)` runs before Keras is imported, as in
scripts/relu_train.py. `--cnn-epochs N > 0` also times `build_cnn` on
samples x 16 x 16 x 1 (the paper protocol's CNN input) the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nmr_bench import parse_args  # this folder is on sys.path when a benchmark runs

BATCH = 256
N_CLASSES = 10
N_FEATURES = 256
CV_SEED = 10  # the paper's StratifiedKFold seed


def make_data(samples: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    scale = np.sqrt(np.linspace(1.0, 0.01, N_FEATURES, dtype=np.float32))  # PCA-like variances
    x = (rng.standard_normal((samples, N_FEATURES), dtype=np.float32) * scale).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=samples)
    return x, y


def fold_one(x, y, folds: int):
    from sklearn.model_selection import StratifiedKFold

    return next(StratifiedKFold(folds, shuffle=True, random_state=CV_SEED).split(x, y))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_head(head: str, x, y, args, store: Path) -> dict:
    import numpy as np

    from reproflow.manifest import recording
    from reproflow.relu.models import build_ffnn, compile_model
    from reproflow.relu.train import one_hot, paper_cv

    targets = one_hot(y, N_CLASSES)
    train, val = fold_one(x, y, args.folds)
    fit_val = dict(validation_data=(x[val], targets[val]), batch_size=BATCH, verbose=0)

    def build():
        return compile_model(build_ffnn(N_FEATURES, N_CLASSES, head), head)

    # one model per variant, built, compiled and warmed up (one epoch) before any timing
    bare, floor, model = build(), build(), build()
    bare.fit(x, targets, batch_size=BATCH, epochs=1, verbose=0)
    floor.fit(x[train], targets[train], epochs=1, **fit_val)
    model.fit(x[train], targets[train], epochs=1, **fit_val)
    model.evaluate(x[val], targets[val], batch_size=BATCH, verbose=0)  # traces paper_cv's fold score

    # every variant does `folds` fit calls of E epochs per repeat, so the per-call cost of
    # `fit` weighs the same in all three; the variants alternate to share any drift
    def run_bare() -> float:
        return sum(timed(lambda: bare.fit(x, targets, batch_size=BATCH, epochs=args.epochs, verbose=0))
                   for _ in range(args.folds))

    def run_floor() -> float:
        return sum(timed(lambda: floor.fit(x[train], targets[train], epochs=args.epochs, **fit_val))
                   for _ in range(args.folds))

    runs = []

    def run_project() -> float:
        repeat = len(runs)
        with recording(store / f"run{repeat}.json", [], f"benchmark/{head}/{repeat}", {"head": head}) as run:
            run.log_params({"head": head, "folds": args.folds, "epochs": args.epochs})  # as train_job
            start = time.perf_counter()
            _, folds, history = paper_cv(lambda: model, x, y, N_CLASSES, folds=args.folds, epochs=args.epochs,
                                         batch_size=BATCH, cv_seed=CV_SEED)
            run.log_history(history, "step", skip=("epoch",))
            seconds = time.perf_counter() - start
        runs.append((len(run.metrics), sum(fold.n_train for fold in folds)))
        return seconds

    variants = {"bare": run_bare, "floor": run_floor, "project": run_project}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for repeat in range(args.repeats):
        for name in names[repeat % 3:] + names[:repeat % 3]:
            seconds[name].append(variants[name]())
            print(f"{head} {name} repeat {repeat + 1}: {seconds[name][-1]:.2f} s",
                  file=sys.stderr, flush=True)

    steps = [count for count, _ in runs]
    assert steps == [args.folds * args.epochs] * args.repeats, steps  # every epoch is in the manifest
    samples = {"bare": len(x) * args.epochs * args.folds, "floor": len(train) * args.epochs * args.folds,
               "project": runs[0][1] * args.epochs}
    rate = {name: samples[name] / statistics.median(seconds[name]) for name in variants}
    return {
        "head": head,
        "samples_per_s": rate,
        "ratio_project_to_bare": rate["project"] / rate["bare"],
        "ratio_floor_to_bare": rate["floor"] / rate["bare"],
        "ratio_project_to_floor": rate["project"] / rate["floor"],
        "seconds": seconds,
        "training_samples_per_repeat": samples,
        "validation_samples_per_epoch": int(np.asarray(val).size),
        "mlflow_metric_steps_per_repeat": steps[0],
    }


def bench_cnn(x, y, args) -> dict:
    from reproflow.relu.models import build_cnn, compile_model
    from reproflow.relu.train import one_hot

    images = x.reshape(-1, 16, 16, 1)
    targets = one_hot(y, N_CLASSES)
    train, val = fold_one(images, y, args.folds)
    model = compile_model(build_cnn((16, 16, 1), N_CLASSES, "softmax"), "softmax")
    fit_val = dict(validation_data=(images[val], targets[val]), batch_size=BATCH, verbose=0)
    model.fit(images[train], targets[train], epochs=1, **fit_val)  # warm-up
    seconds = timed(lambda: model.fit(images[train], targets[train], epochs=args.cnn_epochs, **fit_val))
    return {
        "input": [16, 16, 1], "train_samples": len(train), "val_samples": len(val),
        "epochs": args.cnn_epochs, "seconds": seconds, "seconds_per_epoch": seconds / args.cnn_epochs,
        "samples_per_s": len(train) * args.cnn_epochs / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=55_000)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit call (per fold in paper_cv)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--heads", nargs="+", default=["softmax", "relu"])
    parser.add_argument("--cnn-epochs", type=int, default=2, help="0: skip the CNN rate")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parse_args(parser)  # limit_threads before Keras is imported, as scripts/relu_train.py
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras

    x, y = make_data(args.samples)
    machine = {"nproc": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
               "keras": keras.__version__, "backend": keras.backend.backend()}
    results = {"args": vars(args), "machine": machine}
    with tempfile.TemporaryDirectory(prefix="relu-bench-") as tmp:
        store = Path(tmp)
        # the rule's logging: run_logged's INFO handler on a file (EpochLog logs every epoch)
        logging.basicConfig(level=logging.INFO, handlers=[logging.FileHandler(store / "train.log")],
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
        results["ffnn"] = [bench_head(head, x, y, args, store) for head in args.heads]
    if args.cnn_epochs > 0:
        results["cnn"] = bench_cnn(x, y, args)

    print(f"FFNN 256-512-512-512-10, batch {BATCH}, {args.samples} samples, {args.threads} threads; "
          f"per repeat {args.folds} fit calls x {args.epochs} epochs; samples/s, median of {args.repeats}")
    print(f"{'head':8} {'bare':>10} {'floor':>10} {'project':>10} {'proj/bare':>10} {'floor/bare':>11} "
          f"{'proj/floor':>11}")
    for row in results["ffnn"]:
        rate = row["samples_per_s"]
        print(f"{row['head']:8} {rate['bare']:10.0f} {rate['floor']:10.0f} {rate['project']:10.0f} "
              f"{row['ratio_project_to_bare']:10.3f} {row['ratio_floor_to_bare']:11.3f} "
              f"{row['ratio_project_to_floor']:11.3f}")
    if "cnn" in results:
        cnn = results["cnn"]
        print(f"CNN 16x16x1 softmax: {cnn['seconds_per_epoch']:.2f} s/epoch "
              f"({cnn['train_samples']} train + {cnn['val_samples']} val), "
              f"{cnn['samples_per_s']:.0f} samples/s")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
