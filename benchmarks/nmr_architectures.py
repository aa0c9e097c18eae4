"""Benchmark: the authors' WNN-2D ("wnn", with biases, normalised tile by
tile) against the bias-free variant the project uses ("wnn_bf", one
convolution over the wrap-padded spectrum), trained and scored on the same data.

Both architectures get the same simulated sets, the same training tiles,
the same seeds, budget and optimiser settings, all through the pipeline's
own code:
- the train, val and test sets from `jobs.simulate_job` (as rule
  nmr_simulate; the test set varied in quality by `vary`), MALT1 from
  `jobs.malt1_job` (as rule nmr_malt1);
- each stage by `jobs.train_stage_job` (as rule nmr_train_stage), its
  model reloaded with `models.load`;
- reconstructions by `jobs.network_job` (as rule nmr_network), scored by
  `evaluate.quality_table` as `jobs.evaluate_job` (MALT1:
  `metrics.quality(..., cut=metrics.MALT1_CUT)`).

What it adds is observation only: the time of each training job and of
one reconstruction. Both architectures read the same files with the same
seeds, so stage 0 samples the same training tiles.

    python benchmarks/nmr_architectures.py --threads 1 --out /tmp/nmr_arch.json

Defaults: config/config.yaml + config/nmr_cpu.yaml simulation (256 x 512
spectra, 4 peaks per tile; 32 train, 4 val, 8 test spectra), 1 stage,
4,096 training tiles x 4 epochs, 1,024 validation tiles, batch 32, lr 1e-3.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nmr_bench  # this folder is on sys.path when a benchmark runs
import numpy as np


def main() -> None:
    parser = nmr_bench.parser(__doc__)
    parser.add_argument("--architectures", nargs="+", default=["wnn", "wnn_bf"])
    parser.add_argument("--stages", type=int, default=1)
    parser.add_argument("--tiles", type=int, default=4096, help="training tiles per stage")
    parser.add_argument("--val-tiles", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--train-spectra", type=int, default=None, help="default: the config's sets.train")
    parser.add_argument("--val-spectra", type=int, default=None)
    parser.add_argument("--test-spectra", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None, help="default: the config's nmr.seed")
    parser.add_argument("--malt1", default=str(nmr_bench.MALT1), help="Malt.ft2; 'none' to skip MALT1")
    parser.add_argument("--repeats", type=int, default=3, help="timed MALT1 reconstructions per architecture")
    args = nmr_bench.parse_args(parser)

    import keras

    from reproflow.config import merge_config_files
    from reproflow.data import sha256_file
    from reproflow.nmr import evaluate, jobs, metrics, models

    started = time.perf_counter()
    options = merge_config_files(args.config).get("nmr", {})
    if args.seed is not None:
        options["seed"] = args.seed
    for split, value in (("train", args.train_spectra), ("val", args.val_spectra), ("test", args.test_spectra)):
        if value is not None:
            options["sets"][split] = value
    network = dict(options["network"], stages=args.stages, tiles=args.tiles, val_tiles=args.val_tiles,
                   epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate)
    seed = options["seed"]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="nmr_arch_"))

    # ---- data, as rules nmr_simulate and nmr_malt1 -------------------------
    t0 = time.perf_counter()
    use_malt1 = args.malt1.lower() != "none"
    paths = nmr_bench.simulate(work, ("train", "val", "test"), options, args.malt1 if use_malt1 else None)
    simulate_s = time.perf_counter() - t0
    data = {name: jobs.load_set(path) for name, path in paths.items()}
    print(f"data in {simulate_s:.1f} s: " + ", ".join(f"{k} {v['reference'].shape}" for k, v in data.items()),
          flush=True)

    # ---- training, by jobs.train_stage_job as rule nmr_train_stage --------
    # Both architectures read the same data files with the same seeds, so stage 0
    # samples the same tiles and starts from the same seed (train_stage seeds both).
    results: dict[str, dict[str, Any]] = {}
    stage_paths: dict[str, list[str]] = {}
    for arch in args.architectures:
        stage_paths[arch] = []
        stages_out = []
        for stage in range(args.stages):
            backup = work / "backup" / arch / f"stage{stage}"
            shutil.rmtree(backup, ignore_errors=True)  # never resume a stale run
            out = work / "models" / arch / f"stage{stage}.keras"
            curves, run_out = out.with_suffix(".csv"), out.with_name(f"stage{stage}_run.json")
            wall, cpu = time.perf_counter(), time.process_time()
            history = jobs.train_stage_job(train=str(paths["train"]), val=str(paths["val"]),
                                           previous=stage_paths[arch], out=str(out), curves=str(curves),
                                           run_out=str(run_out), backup=str(backup), architecture=arch,
                                           stage=stage, options=network, seed=seed)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stage_paths[arch].append(str(out))
            history = [{k: float(v) for k, v in row.items()} for row in history]  # as its .csv reads
            model = models.load(str(out))
            biases = [keras.ops.convert_to_numpy(layer.bias) for layer in model.layers
                      if getattr(layer, "use_bias", False)]
            stages_out.append({
                "stage": stage, "params": model.count_params(), "train_wall_s": wall, "train_cpu_s": cpu,
                "epochs_run": len(history), "final_loss": history[-1]["loss"],
                "final_val_loss": history[-1]["val_loss"],
                "best_val_loss": min(row["val_loss"] for row in history), "history": history,
                "max_abs_bias": float(max(np.abs(b).max() for b in biases)) if biases else None,
            })
            print(f"{arch} stage {stage}: {wall:.0f} s wall, {cpu:.0f} s CPU, "
                  f"loss {history[-1]['loss']:.4g}, val_loss {history[-1]['val_loss']:.4g}", flush=True)
        results[arch] = {"architecture": arch, "stages": stages_out,
                         "params": stages_out[0]["params"],
                         "train_wall_s": sum(s["train_wall_s"] for s in stages_out),
                         "train_cpu_s": sum(s["train_cpu_s"] for s in stages_out),
                         "final_loss": stages_out[-1]["final_loss"],
                         "final_val_loss": stages_out[-1]["final_val_loss"]}

    # ---- reconstruction and scores, by jobs.network_job as rule nmr_network, scored as evaluate_job
    damping = network["damping"]
    for arch in args.architectures:
        for name, arrays in data.items():
            if name in ("train", "val"):
                continue
            cut = metrics.cut_for(name)
            out = work / "network" / arch / f"{name}.npz"
            jobs.network_job(data=str(paths[name]), stages=stage_paths[arch], out=str(out),
                             run_out=str(out.with_name(f"{name}_run.json")), damping_base=damping,
                             arch=arch, set_name=name)
            recs = jobs.load_npz(out)
            table = evaluate.quality_table(arrays["reference"], {
                "echo_plain": arrays["echo"], "network_echo": recs["echo"], "network_antiecho": recs["antiecho"]}, cut)
            results[arch][name] = {m: {"r": v["r"], "rmsd": v["rmsd"]} for m, v in table.items()}
            results[arch][name]["echo_per_stage"] = jobs.stage_means(recs)["echo"]
    cascades = {arch: models.prepare([models.load(p) for p in stage_paths[arch]]) for arch in args.architectures}

    # ---- inference time: one MALT1 echo reconstruction, interleaved ---------
    timing_input = data["malt1"]["echo"][0] if use_malt1 else data["test"]["echo"][0]
    seconds: dict[str, list[float]] = {arch: [] for arch in args.architectures}
    for arch, cascade in cascades.items():
        models.cascade(cascade, timing_input, "echo", damping)  # warm up
    for _ in range(args.repeats):
        for arch, cascade in cascades.items():
            t0 = time.perf_counter()
            models.cascade(cascade, timing_input, "echo", damping)
            seconds[arch].append(time.perf_counter() - t0)
    for arch in args.architectures:
        results[arch]["inference_s_median"] = float(np.median(seconds[arch]))
        results[arch]["inference_s_all"] = seconds[arch]
        results[arch]["inference_path"] = ("one pass (predict_full)" if models.is_bias_free(cascades[arch][0])
                                           else "tiled (predict_tiled)")

    # the bias-free network's one pass equals its normalised tiling (why it is cheaper)
    equivalence = None
    if "wnn_bf" in cascades:
        tile_model = models.load(stage_paths["wnn_bf"][0])
        tiled = models.predict_tiled(tile_model, timing_input)
        full = models.predict_full(cascades["wnn_bf"][0], timing_input)
        equivalence = float(np.abs(tiled - full).max() / np.abs(tiled).max())

    summary = {
        "config_files": args.config, "seed": seed,
        "simulation": options["simulation"], "sets": options["sets"], "vary_test": options.get("vary", {}),
        "network_options": network,
        "data_sha256": {name: sha256_file(path) for name, path in paths.items()},
        "data_seconds": simulate_s,
        "same_inputs": "both architectures train on the same data files with the same seeds (stage 0: the same tiles)",
        "wnn_bf_full_vs_tiled_max_rel_diff": equivalence,
        "inference_input": f"{'MALT1' if use_malt1 else 'test[0]'} echo {list(timing_input.shape)}, "
                           f"{args.stages}-stage cascade, median of {args.repeats} after a warm-up",
        "architectures": results,
        "total_wall_s": time.perf_counter() - started,
    }
    nmr_bench.finish("nmr_architectures", summary, args, work, markdown)


def markdown(summary: dict[str, Any]) -> str:
    archs = list(summary["architectures"].values())
    rows = [("parameters", lambda a: f"{a['params']:,}"),
            ("training wall s", lambda a: f"{a['train_wall_s']:.0f}"),
            ("training CPU s", lambda a: f"{a['train_cpu_s']:.0f}"),
            ("final train loss", lambda a: f"{a['final_loss']:.4g}"),
            ("final val loss", lambda a: f"{a['final_val_loss']:.4g}")]
    for name, label in (("test", "held-out simulated (mean)"), ("malt1", "MALT1")):
        if name not in archs[0]:
            continue
        for method, mode in (("network_echo", "echo"), ("network_antiecho", "anti-echo")):
            rows.append((f"{label} {mode} r / RMSD",
                         lambda a, n=name, m=method: f"{a[n][m]['r']:.4f} / {a[n][m]['rmsd']:.4f}"))
    rows.append(("inference s, one reconstruction", lambda a: f"{a['inference_s_median']:.3f}"))
    lines = ["| | " + " | ".join(a["architecture"] for a in archs) + " |", "|---" * (len(archs) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(cell(a) for a in archs) + " |" for label, cell in rows]
    lines.append("")
    lines.append(f"seed {summary['seed']}; {summary['same_inputs']}")
    lines.append(f"total {summary['total_wall_s']:.0f} s, {summary['threads']} thread(s)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
