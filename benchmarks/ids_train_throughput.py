"""Benchmark, study 1: GRU training throughput of the project's training path
(`reproflow.ids.train.train_arm`, as the `ids_train` rule runs it) against a
bare `model.fit` of the same model on in-memory one-hot arrays.

Usage: .venv/bin/python benchmarks/ids_train_throughput.py [--samples 25600] [--eval-samples 6400]
       [--epochs 3] [--units 64] [--threads 2] [--protocol paper] [--arms gru_svm]
       [--repeats 3] [--out FILE.json]

Data: random, seeded uint8 bin indices [samples x 21] (values 0-9) and 0/1
labels, the shape of the preprocessed Kyoto arrays (synthetic: the cost does
not depend on the values). Per arm, one repeat runs, in rotating order:

  bare     build_model + compile_model (the same model: in `paper` a stateful
           GRU with batch 256, TF1-style reset gate), then
           model.fit(onehot(x), onehot(y), batch_size=256, epochs=E,
           shuffle=False) on arrays one-hot encoded in memory beforehand
           (encoding not timed)
  project  train_arm(...) as reproflow.ids.jobs.train_job calls it: build +
           compile + the stateless twin, one `fit` per epoch on the
           `OneHotBatches` PyDataset (one-hot made per batch), the
           EpochSeeds callback, after each epoch the twin's evaluation of the
           eval set (the paper's per-epoch test pass) and a checkpoint
           (weights + optimizer state, atomic) in a temporary folder

Both start from a new model, so both include building, compiling and tracing.
Training time of the project = train_arm's wall time minus its per-epoch
evaluation passes (their seconds are in its history; reported separately):
what is left is the training, the checkpoints, the seeds callback and the
per-`fit` set-up of one fit per epoch. Checkpoint time is measured by timing
EpochCheckpoint.on_epoch_end. The steady-state epoch time (epochs after the
first, from on_epoch_begin to on_epoch_end: no tracing, no per-fit set-up)
is reported for both too. samples/s = samples x epochs / seconds; each
figure is the median of --repeats repeats. `limit_threads(--threads)` runs
before Keras is imported, as scripts/ids_train.py does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from nmr_bench import parse_args  # this folder is on sys.path when a benchmark runs

BATCH = 256
N_STEPS = 21


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=25600, help="training rows (a multiple of 256)")
    parser.add_argument("--eval-samples", type=int, default=6400, help="rows scored after each epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--units", type=int, default=64, help="GRU cells (default config: 64; paper: 256)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--protocol", default="paper", choices=["paper", "clean"])
    parser.add_argument("--arms", nargs="+", default=["gru_svm"], choices=["gru_svm", "gru_softmax"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parse_args(parser)
    if args.samples % BATCH:
        parser.error(f"--samples must be a multiple of {BATCH}")

    import keras
    import numpy as np
    import tensorflow as tf

    from reproflow.ids import train as ids_train
    from reproflow.ids.models import N_CLASSES, build_model, compile_model
    from reproflow.resume import EpochCheckpoint

    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (args.samples, N_STEPS), dtype=np.uint8)
    y = rng.integers(0, 2, args.samples).astype(np.uint8)
    x_eval = rng.integers(0, 10, (args.eval_samples, N_STEPS), dtype=np.uint8)
    y_eval = rng.integers(0, 2, args.eval_samples).astype(np.uint8)
    x_hot = ids_train.one_hot_bins(x)
    y_hot = np.eye(N_CLASSES, dtype=np.float32)[y]
    paper = args.protocol == "paper"
    hp = {"units": args.units, "keep_prob": 0.85, "learning_rate": 1e-5, "epochs": args.epochs,
          "batch_size": BATCH, "svm_c": 0.5}

    checkpoint_seconds: list[float] = []
    original_end = EpochCheckpoint.on_epoch_end

    def timed_end(self, epoch, logs=None):
        started = time.perf_counter()
        original_end(self, epoch, logs)
        checkpoint_seconds.append(time.perf_counter() - started)

    EpochCheckpoint.on_epoch_end = timed_end

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    def bare(arm: str) -> dict:
        keras.utils.set_random_seed(0)
        times = EpochTimes()
        started = time.perf_counter()
        model = compile_model(build_model(arm, n_steps=N_STEPS, units=args.units, keep_prob=hp["keep_prob"],
                                          batch_size=BATCH, stateful=paper, reset_after=not paper),
                              arm, hp["learning_rate"], hp["svm_c"])
        model.fit(x_hot, y_hot, batch_size=BATCH, epochs=args.epochs, shuffle=False, verbose=0, callbacks=[times])
        return {"seconds": time.perf_counter() - started, "epoch_train_seconds": times.seconds}

    def project(arm: str) -> dict:
        checkpoint_seconds.clear()
        with tempfile.TemporaryDirectory(prefix="ids-train-bench-") as folder:
            started = time.perf_counter()
            _, history, _ = ids_train.train_arm(x, y, {"test": (x_eval, y_eval)}, arm=arm, protocol=args.protocol,
                                                seed=0, backup_dir=folder, **hp)
            total = time.perf_counter() - started
        evaluation = sum(row["test_seconds"] for row in history)
        return {"seconds_total": total, "evaluation_seconds": evaluation, "seconds": total - evaluation,
                "checkpoint_seconds": sum(checkpoint_seconds),
                "epoch_train_seconds": [row["train_seconds"] for row in history]}

    variants = {"bare": bare, "project": project}
    results = {}
    for arm in args.arms:
        bare(arm)       # warm-up: imports, first graph builds (not counted)
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for repeat in range(args.repeats):
            order = list(variants)[repeat % 2:] + list(variants)[:repeat % 2]
            for name in order:
                runs[name].append(variants[name](arm))
                print(f"{arm} repeat {repeat + 1} {name}: {runs[name][-1]['seconds']:.2f} s", flush=True)
        rows = args.samples * args.epochs
        med = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
        results[arm] = {
            "runs": runs, "median_seconds": med,
            "samples_per_s": {name: rows / s for name, s in med.items()},
            "project_over_bare_throughput": med["bare"] / med["project"],
            "project_evaluation_seconds_median": statistics.median(r["evaluation_seconds"] for r in runs["project"]),
            "project_checkpoint_seconds_median": statistics.median(r["checkpoint_seconds"] for r in runs["project"]),
            "project_total_seconds_median": statistics.median(r["seconds_total"] for r in runs["project"]),
            # steady state: epochs after the first (no tracing), epoch begin -> end
            "later_epoch_seconds_median": {name: statistics.median(
                t for r in rs for t in r["epoch_train_seconds"][1:]) for name, rs in runs.items()}
            if args.epochs > 1 else None,
        }
        print(json.dumps({k: v for k, v in results[arm].items() if k != "runs"}, indent=1), flush=True)
    summary = {"benchmark": "ids_train_throughput", "synthetic": True, "args": {k: str(v) for k, v in vars(args).items()},
               "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
               "cpus": os.cpu_count(), "loadavg": os.getloadavg(), "results": results}
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
