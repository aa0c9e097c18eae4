"""Benchmark: calibration of the uncertainty (sigma) networks before and
after training them on their own varied-quality simulated sets
(`nmr.uncertainty.vary`), with the SHIPPED cascade kept fixed.

Calibration is the share of points whose true error lies within +-1.96
sigma (`evaluate.calibration`; target 0.90-0.98), per method
(network_echo, ist_echo, ist_nus), on the held-out simulated test set and on
MALT1. "before" is the shipped sigma network (`reproflow/nmr/weights/`),
"after" the one retrained here. Only the sigma networks are trained.

Config: the shipped run's `nmr` config (`shipped.manifest()["nmr_config"]`)
with its `uncertainty` section replaced by the current one from --config
(default config/config.yaml + config/nmr_cpu.yaml: `vary`, 16,384 tiles x 6
epochs), so the data are the shipped run's and only the sigma training
differs. Everything goes through the pipeline's own code:
- the held-out test set and the sigma sets (`plan.sigma_sets`: sigma_train,
  sigma_val) from `jobs.simulate_job`, as rule nmr_simulate; MALT1 from
  `jobs.malt1_job`, as rule nmr_malt1;
- mu: `models.cascade` with the shipped stages (echo, as `jobs.network_job`)
  and `ist.reconstruct` (echo, NUS, as `jobs.ist_job`), picked per method by
  `jobs.method_arrays`;
- training: `train.train_uncertainty` with the config's seed, as
  `jobs.train_sigma_job`;
- scoring: `models.uncertainty` and `evaluate.calibration` per spectrum,
  averaged over spectra, MALT1 on `metrics.MALT1_CUT`, as `jobs.evaluate_job`.
Also per method and set: mean sigma and RMS error of mu, each over the
reference's max (mean over spectra; the error is the same before and after).

    python benchmarks/nmr_calibration.py --threads 1 --out /tmp/nmr_calibration.json

An estimated 65 min on one core (IST and cascade on 32 + 4 + 8 simulated
spectra and MALT1, then about 21 min of training per method, measured for
ist_echo; 6 min with --tiles 8192 --epochs 3); --tiles, --epochs and
--methods shorten it; --seed draws a replicate (other simulated sets, other
initial weights).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MALT1 = ROOT.parent / "shared" / "data" / "nmr" / "malt1-trosy" / "Malt.ft2"
METHODS = ("network_echo", "ist_echo", "ist_nus")
SCORES = ("coverage_all", "coverage_signal", "mean_sigma_over_max", "rms_error_over_max")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", nargs="+", default=[str(ROOT / "config/config.yaml"),
                                                         str(ROOT / "config/nmr_cpu.yaml")],
                        help="files whose nmr.uncertainty section is used")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--tiles", type=int, default=None, help="training tiles (default: the config's)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--seed", type=int, default=None,
                        help="data and training seed (default: the shipped run's); a replicate")
    parser.add_argument("--malt1", default=str(MALT1), help="Malt.ft2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workdir", default=None, help="default: a temporary directory, removed at the end")
    parser.add_argument("--out", default=None, help="JSON results")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the data and reconstructions an earlier run left in --workdir (same options)")
    parser.add_argument("--resume", action="store_true",
                        help="go on with the σ trainings an earlier, killed run left in --workdir (same options)")
    return parser.parse_args()


def main() -> None:
    args = parse()
    from reproflow.runtime import limit_threads

    limit_threads(args.threads)  # before Keras is first imported

    import keras

    from reproflow.config import merge_config_files
    from reproflow.data import sha256_file
    from reproflow.nmr import evaluate, ist, jobs, metrics, models, plan, shipped, simulate
    from reproflow.nmr import train as training

    started = time.perf_counter()
    manifest = shipped.manifest()
    options = copy.deepcopy(manifest["nmr_config"])
    options["uncertainty"] = merge_config_files(args.config)["nmr"]["uncertainty"]
    for key, value in (("tiles", args.tiles), ("epochs", args.epochs)):
        if value is not None:
            options["uncertainty"][key] = value
    if args.seed is not None:
        options["seed"] = args.seed
    seed, iterations, damping = options["seed"], options["ist"]["iterations"], manifest["damping"]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="nmr_calibration_"))
    (work / "data").mkdir(parents=True, exist_ok=True)

    # ---- data, as rules nmr_simulate and nmr_malt1 -------------------------
    t0 = time.perf_counter()
    cached = work / "reconstructions.npz"
    sets = plan.sigma_sets(options)  # {"train": "sigma_train", "val": "sigma_val"} when vary is set
    paths = {name: work / "data" / f"{name}.npz" for name in ("test", *sets.values())}
    paths["malt1"] = work / "data" / "malt1.npz"
    reuse = args.reuse and cached.exists()
    for name, path in paths.items():
        if reuse:
            continue
        if name == "malt1":
            jobs.malt1_job(args.malt1, str(path), options["nus_fraction"], seed)
        else:
            jobs.simulate_job(str(path), name, **plan.split_recipe(name, options))
    data = {name: jobs.load_npz(path) for name, path in paths.items()}
    quality = {}
    for name, arrays in data.items():
        noise, empty = simulate.quality(arrays["reference"])
        noise = noise / arrays["reference"].max(axis=(1, 2))  # simulated references peak at 1, MALT1 not
        quality[name] = {"spectra": len(noise), "shape": list(arrays["reference"].shape[1:]),
                         "noise_over_max": [float(noise.min()), float(noise.max())],
                         "noise_only_tiles": float(empty.mean()), "sha256": sha256_file(paths[name])}
        print(f"{name}: {len(noise)} x {quality[name]['shape']}, noise/max {noise.min():.1e}..{noise.max():.1e}, "
              f"{empty.mean():.1%} noise-only tiles", flush=True)
    data_s = time.perf_counter() - t0

    # ---- mu, as jobs.network_job and jobs.ist_job (shipped cascade) --------
    t0 = time.perf_counter()
    stages = models.prepare([models.load(str(shipped.WEIGHTS / f"stage{k}.keras"))
                             for k in range(manifest["stages"])])
    network, ist_out = {}, {}
    for name, arrays in data.items():
        if reuse:
            with np.load(cached, allow_pickle=False) as saved:
                kept = {key: saved[key] for key in saved.files if key.startswith(f"{name}/")}
            network[name] = {"echo": kept[f"{name}/network"]} if f"{name}/network" in kept else None
            ist_out[name] = {mode: kept[f"{name}/{mode}"] for mode in ("echo", "nus") if f"{name}/{mode}" in kept}
            continue
        rec: dict[str, list[np.ndarray]] = {"network": [], "echo": [], "nus": []}
        for index in range(len(arrays["reference"])):
            schedule = simulate.schedule_indices(arrays["schedules"][index])
            # every method's mu, whatever --methods: a --reuse run may train another
            rec["network"].append(models.cascade(stages, arrays["echo"][index], "echo", damping))
            for mode in ("echo", "nus"):
                rec[mode].append(ist.reconstruct(arrays[mode][index], mode, iterations, schedule,
                                                 workers=args.threads))
        network[name] = {"echo": np.stack(rec["network"])} if rec["network"] else None
        ist_out[name] = {mode: np.stack(rec[mode]) for mode in ("echo", "nus") if rec[mode]}
    if not reuse:
        np.savez(cached, **{f"{name}/network": out["echo"] for name, out in network.items() if out},
                 **{f"{name}/{mode}": v for name, out in ist_out.items() for mode, v in out.items()})
    reconstruct_s = time.perf_counter() - t0
    print(f"data {data_s:.0f} s, reconstructions {reconstruct_s:.0f} s", flush=True)

    def score(model: keras.Model, method: str, name: str) -> dict[str, float]:
        """Mean over the set's spectra, as jobs.evaluate_job."""
        arrays, cut = data[name], metrics.cut_for(name)
        inputs, mus = jobs.method_arrays(method, arrays, ist_out[name], network[name])
        rows = []
        for reference, mu, method_input in zip(arrays["reference"], mus, inputs):
            sigma = models.uncertainty(model, method_input)
            reference, mu, sigma = metrics.crop(cut, reference, mu, sigma)
            scale = float(reference.max())
            rows.append({**evaluate.calibration(reference, mu, sigma),
                         "mean_sigma_over_max": float(sigma.mean()) / scale,
                         "rms_error_over_max": float(np.sqrt(np.mean(np.square(reference - mu)))) / scale})
        return {key: float(np.mean([row[key] for row in rows])) for key in SCORES}

    # ---- train and score, as jobs.train_sigma_job and jobs.evaluate_job -----
    results: dict[str, dict[str, Any]] = {}
    for method in args.methods:
        split = {}
        for role, name in sets.items():
            inputs, mu = jobs.method_arrays(method, data[name], ist_out[name], network[name])
            split[role] = (inputs, data[name]["reference"], mu)
        backup = work / "backup" / method
        if not args.resume:
            shutil.rmtree(backup, ignore_errors=True)  # never resume a stale run
        t0 = time.perf_counter()
        model, history = training.train_uncertainty(*split["train"], split["val"], options["uncertainty"],
                                                    backup, seed)
        train_s = time.perf_counter() - t0
        model.save(work / f"sigma_{method}.keras")
        before = models.load(str(shipped.WEIGHTS / f"sigma_{method}.keras"))
        results[method] = {"train_seconds": train_s, "epochs_run": len(history), "history": history,
                           **{name: {"before": score(before, method, name), "after": score(model, method, name)}
                              for name in ("test", "malt1")}}
        print(f"{method}: trained in {train_s:.0f} s; coverage test "
              f"{results[method]['test']['before']['coverage_all']:.3f} -> "
              f"{results[method]['test']['after']['coverage_all']:.3f}, MALT1 "
              f"{results[method]['malt1']['before']['coverage_all']:.3f} -> "
              f"{results[method]['malt1']['after']['coverage_all']:.3f}", flush=True)

    summary = {
        "benchmark": "nmr_calibration",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "threads": args.threads, "keras": keras.__version__, "backend": keras.backend.backend(),
        "python": platform.python_version(), "machine": platform.machine(), "git": shipped.git_state(ROOT),
        "shipped": {"git": manifest["git"], "config_hash": manifest["config_hash"],
                    "files_sha256": manifest["files_sha256"]},
        "config_files": args.config, "seed": seed, "sigma_sets": sets, "uncertainty_options": options["uncertainty"],
        "sets": quality, "data_seconds": data_s, "reconstruct_seconds": reconstruct_s,
        "methods": results, "total_wall_s": time.perf_counter() - started,
    }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(markdown(summary))


def markdown(summary: dict[str, Any]) -> str:
    labels = {"test": f"held-out simulated ({summary['sets']['test']['spectra']})", "malt1": "MALT1"}
    lines = ["| method | set | coverage, all points | coverage, signal points | mean sigma / max "
             "| RMS error / max | training s |", "|---" * 7 + "|"]
    for method, result in summary["methods"].items():
        for name, label in labels.items():
            before, after = result[name]["before"], result[name]["after"]
            lines.append(f"| {method} | {label} | {before['coverage_all']:.3f} -> {after['coverage_all']:.3f} "
                         f"| {before['coverage_signal']:.3f} -> {after['coverage_signal']:.3f} "
                         f"| {before['mean_sigma_over_max']:.2e} -> {after['mean_sigma_over_max']:.2e} "
                         f"| {after['rms_error_over_max']:.2e} "
                         f"| {result['train_seconds']:.0f} |")
    options = summary["uncertainty_options"]
    sigma_train = summary["sets"][summary["sigma_sets"]["train"]]
    lines += ["", f"before: shipped sigma networks; after: retrained on {summary['sigma_sets']['train']} "
                  f"({sigma_train['spectra']} spectra, noise/max {sigma_train['noise_over_max'][0]:.1e}.."
                  f"{sigma_train['noise_over_max'][1]:.1e}, {sigma_train['noise_only_tiles']:.1%} noise-only "
                  f"tiles), {options['tiles']} tiles x {options['epochs']} epochs, vary {options.get('vary')}, "
                  f"seed {summary['seed']}; shipped cascade {summary['shipped']['git']['commit'][:7]}",
              f"total {summary['total_wall_s']:.0f} s (data {summary['data_seconds']:.0f} s, "
              f"reconstructions {summary['reconstruct_seconds']:.0f} s), {summary['threads']} thread(s)"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
