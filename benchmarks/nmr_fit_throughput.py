"""Output points per second of training, for one cascade stage (wnn_bf,
stage 0), tile path (`nmr.network.fit: tiles`, random 63 x 127 tiles) against
the whole path (`fit: whole`, wrap-padded whole spectra in one convolution).

Both train the same network (the config's width, learning rate, schedule) on
the same simulated spectra (config's nmr.simulation, `--spectra` of them) for
`--epochs` epochs; only `train.fit` is timed (data preparation excluded). An
output point is one point of the network's output the loss sees. Each path
runs `--repeats` times; the JSON keeps every run and the median.

    PYTHONPATH=src python benchmarks/nmr_fit_throughput.py --out bench.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from reproflow.runtime import limit_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--spectra", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--whole-batch", type=int, default=4, help="spectra per batch on the whole path")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    limit_threads(2)
    from reproflow.nmr import simulate, train as training

    config = yaml.safe_load(Path(args.config).read_text())["nmr"]
    cfg = simulate.SimConfig.from_config(config["simulation"])
    sets = [simulate.simulate_set(seed, count, cfg, config["nus_fraction"])
            for seed, count in ((1, args.spectra), (2, max(1, args.spectra // 4)))]
    base = {**config["network"], "epochs": args.epochs, "patience": 10 ** 5}
    paths = {"tiles": {**base, "fit": "tiles"},
             "whole": {**base, "fit": "whole", "batch_size": args.whole_batch}}
    timed: dict[str, float] = {}
    original_fit = training.fit

    def timed_fit(model, train_set, *rest, **kwargs):
        start = time.perf_counter()
        history = original_fit(model, train_set, *rest, **kwargs)
        timed["seconds"] = time.perf_counter() - start
        timed["points"] = float(np.prod(model.compute_output_shape(train_set[0].shape)[:3])) * len(history)
        return history

    training.fit = timed_fit
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    work = Path(tempfile.mkdtemp(prefix="nmr_fit_bench_"))
    try:
        for repeat in range(args.repeats):
            for name, options in paths.items():
                backup = work / f"{name}{repeat}"
                _, history = training.train_stage("wnn_bf", [], *sets, options, backup, seed=repeat)
                runs[name].append({"seconds": timed["seconds"], "output_points": timed["points"],
                                   "points_per_s": timed["points"] / timed["seconds"],
                                   "final_val_loss": history[-1]["val_loss"]})
                print(name, json.dumps(runs[name][-1]), flush=True)
    finally:
        training.fit = original_fit
        shutil.rmtree(work, ignore_errors=True)
    result = {"config": args.config, "spectra": args.spectra, "epochs": args.epochs, "repeats": args.repeats,
              "shape": list(sets[0]["reference"].shape[1:]), "tiles": base["tiles"],
              "tile_batch": base["batch_size"], "whole_batch": args.whole_batch, "runs": runs,
              "median_points_per_s": {name: statistics.median(r["points_per_s"] for r in rows)
                                      for name, rows in runs.items()}}
    result["speedup"] = result["median_points_per_s"]["whole"] / result["median_points_per_s"]["tiles"]
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["median_points_per_s"]), f"speedup {result['speedup']:.2f}")


if __name__ == "__main__":
    main()
