"""Train the NMR cascade without Snakemake or MLflow, e.g. on a GPU machine
that has JAX and Keras but not the workflow's stack.

The same code as the workflow's rules: training and validation sets from
`reproflow.nmr.simulate.simulate_set` (as `nmr_simulate`), each stage by
`reproflow.nmr.jobs.train_stage_job` (the function rule `nmr_train_stage`
calls), with the `nmr:`
options of the given config files (later files override earlier ones) and
`--set key=value` overrides (dotted keys under `nmr`, YAML values). What it
adds: spectra simulated in parallel processes, an optional wall-time budget
per stage, and the validation quality of each stage's cascade.

    KERAS_BACKEND=jax python scripts/nmr_train_standalone.py \
        --config config/config.yaml config/paper.yaml --out /tmp/cascade \
        --set network.tiles=400000 --budget-s 90

Writes OUT/data/{train,val}.npz, OUT/<architecture>/stage{k}.keras (with
its curves and run manifest beside it) and OUT/summary.json (per-epoch
losses and each stage's validation quality), after every stage.

Resumable: with `--backup DIR` each epoch is checkpointed there
(reproflow.resume), and a rerun of the same command loads the stages
already in OUT and goes on with the next one from its last checkpoint
(same batches, same schedule). The train and val sets vary by
`network.vary` as in the workflow (`plan.quality_ranges`); the simulated
sets depend on --processes, so a resumed run must use the same.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from reproflow.arrays import save_npz
from reproflow.config import merge_config_files
from reproflow.outputs import write_json

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def merged_nmr(paths: list[str], overrides: list[str]) -> dict[str, Any]:
    """The `nmr:` section of the config files (merged as --configfile does), then
    KEY.PATH=VALUE overrides."""
    options = merge_config_files(paths).get("nmr", {})
    for item in overrides:
        key, _, value = item.partition("=")
        *parents, last = key.split(".")
        node = options
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    return options


def _simulate(args: tuple[int, int, dict, float, dict]) -> dict[str, np.ndarray]:
    from reproflow.nmr import simulate

    seed, count, sim, nus, vary = args
    return simulate.simulate_set(seed, count, simulate.SimConfig.from_config(sim), nus, vary)


def simulate_parallel(seed: int, count: int, options: dict, processes: int, split: str = "train"
                      ) -> dict[str, np.ndarray]:
    """`count` spectra in chunks of different seeds, one process per chunk."""
    from reproflow.nmr import plan

    chunks = [len(c) for c in np.array_split(np.arange(count), min(count, processes)) if len(c)]
    vary = plan.quality_ranges(split, options)
    jobs = [(seed * 100_003 + k, n, options["simulation"], options["nus_fraction"], vary)
            for k, n in enumerate(chunks)]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        parts = pool.map(_simulate, jobs)
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--set", nargs="*", default=[], dest="overrides")
    parser.add_argument("--architecture", default=None, help="default: the config's first")
    parser.add_argument("--budget-s", type=float, default=None, help="wall-time budget per stage (s)")
    parser.add_argument("--processes", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--threads", type=int, default=None, help="limit TensorFlow and BLAS to this many threads")
    parser.add_argument("--backup", default=None,
                        help="checkpoint folder, kept: rerun the command to resume (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # each epoch's losses, as the job logs them
    if args.threads:
        from reproflow.runtime import limit_threads

        limit_threads(args.threads)  # before Keras is imported

    import keras

    from reproflow.nmr import jobs, metrics, models

    options = merged_nmr(args.config, args.overrides)
    network = dict(options["network"])
    arch = args.architecture or network["architectures"][0]
    out = Path(args.out)
    summary: dict[str, Any] = {"backend": keras.backend.backend(), "architecture": arch, "options": options,
                               "budget_s": args.budget_s, "stages": []}
    start = time.perf_counter()
    sets = {name: simulate_parallel(options["seed"] + k, options["sets"][name], options, args.processes, name)
            for k, name in enumerate(("train", "val"))}
    summary["simulate_s"] = time.perf_counter() - start
    print(f"simulated {options['sets']} in {summary['simulate_s']:.1f} s", flush=True)
    for name, arrays in sets.items():
        save_npz(out / "data" / f"{name}.npz", **arrays)

    class Budget(keras.callbacks.Callback):
        """Stops training once the stage has run `--budget-s` seconds."""

        def on_train_begin(self, logs=None):  # training runs one fit per epoch: the clock starts once
            if not hasattr(self, "t0"):
                self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if args.budget_s and time.perf_counter() - self.t0 > args.budget_s:
                self.model.stop_training = True

    backup = Path(args.backup) if args.backup else Path(tempfile.mkdtemp(prefix="nmr_backup_"))
    stages: list[keras.Model] = []
    paths: list[str] = []
    summary_path = out / "summary.json"
    earlier = json.loads(summary_path.read_text())["stages"] if args.backup and summary_path.exists() else []
    for stage in range(network["stages"]):
        model_path = out / arch / f"stage{stage}.keras"
        if args.backup and model_path.exists() and stage < len(earlier):  # finished in an earlier run
            stages.append(models.load(str(model_path)))
            paths.append(str(model_path))
            summary["stages"].append(earlier[stage])
            print(f"stage {stage}: loaded from {model_path}", flush=True)
            continue
        t0 = time.perf_counter()
        history = jobs.train_stage_job(
            train=str(out / "data/train.npz"), val=str(out / "data/val.npz"), previous=paths, out=str(model_path),
            curves=str(model_path.with_suffix(".csv")), run_out=str(model_path.with_name(f"stage{stage}_run.json")),
            backup=str(backup / f"stage{stage}"), architecture=arch, stage=stage, options=network,
            seed=options["seed"], callbacks=[Budget()])
        seconds = time.perf_counter() - t0
        paths.append(str(model_path))
        stages.append(models.load(str(model_path)))
        cascade = models.prepare(stages)
        quality = [metrics.quality(ref, models.cascade(cascade, echo, "echo", network["damping"]))
                   for ref, echo in zip(sets["val"]["reference"], sets["val"]["echo"])]
        row = {"stage": stage, "seconds": seconds, "epochs": len(history),
               "best_val_loss": min(r["val_loss"] for r in history),
               "val_r": float(np.mean([q["r"] for q in quality])),
               "val_rmsd": float(np.mean([q["rmsd"] for q in quality])), "history": history}
        summary["stages"].append(row)
        print("STAGE", json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)
        write_json(summary_path, summary)
    summary["total_s"] = time.perf_counter() - start
    write_json(summary_path, summary)


if __name__ == "__main__":
    main()
