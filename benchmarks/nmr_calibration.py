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
differs. Everything goes through the pipeline's own jobs:
- the held-out test set and the sigma sets (`plan.sigma_sets`: sigma_train,
  sigma_val) from `jobs.simulate_job`, as rule nmr_simulate; MALT1 from
  `jobs.malt1_job`, as rule nmr_malt1;
- mu: `jobs.network_job` with the shipped stages (as rule nmr_network) and
  `jobs.ist_job` (as rule nmr_ist: the anti-echo inputs too), picked per
  method by `jobs.method_arrays`;
- training: `jobs.train_sigma_job` with the config's seed, as rule nmr_train_sigma;
- scoring: `models.uncertainty` and `evaluate.calibration` per spectrum,
  averaged over spectra, MALT1 on `metrics.MALT1_CUT`, as `jobs.evaluate_job`.
Also per method and set: mean sigma and RMS error of mu, each over the
reference's max (mean over spectra; the error is the same before and after).
--workdir keeps data/<set>.npz and reconstructions.npz (<set>/network,
<set>/echo, <set>/nus) for benchmarks/nmr_sigma_signal.py.

    python benchmarks/nmr_calibration.py --threads 1 --out /tmp/nmr_calibration.json

An estimated 65 min on one core (IST and cascade on 32 + 4 + 8 simulated
spectra and MALT1, then about 21 min of training per method, measured for
ist_echo; 6 min with --tiles 8192 --epochs 3); --tiles, --epochs and
--methods shorten it; --seed draws a replicate (other simulated sets, other
initial weights).
"""

from __future__ import annotations

import copy
import csv
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nmr_bench  # this folder is on sys.path when a benchmark runs
import numpy as np

METHODS = ("network_echo", "ist_echo", "ist_nus")
SCORES = ("coverage_all", "coverage_signal", "mean_sigma_over_max", "rms_error_over_max")


def main() -> None:
    parser = nmr_bench.parser(__doc__, "files whose nmr.uncertainty section is used")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--tiles", type=int, default=None, help="training tiles (default: the config's)")
    parser.add_argument("--epochs", type=int, default=None, help="default: the config's")
    parser.add_argument("--seed", type=int, default=None,
                        help="data and training seed (default: the shipped run's); a replicate")
    parser.add_argument("--malt1", default=str(nmr_bench.MALT1), help="Malt.ft2")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the data and reconstructions an earlier run left in --workdir (same options)")
    parser.add_argument("--resume", action="store_true",
                        help="go on with the σ trainings an earlier, killed run left in --workdir (same options)")
    args = nmr_bench.parse_args(parser)

    import keras

    from reproflow.config import merge_config_files
    from reproflow.data import sha256_file
    from reproflow.nmr import evaluate, jobs, metrics, models, plan, shipped, simulate

    started = time.perf_counter()
    manifest = shipped.manifest()
    options = copy.deepcopy(manifest["nmr_config"])
    options["uncertainty"] = merge_config_files(args.config)["nmr"]["uncertainty"]
    for key, value in (("tiles", args.tiles), ("epochs", args.epochs)):
        if value is not None:
            options["uncertainty"][key] = value
    if args.seed is not None:
        options["seed"] = args.seed
    work = Path(args.workdir or tempfile.mkdtemp(prefix="nmr_calibration_"))
    sets = plan.sigma_sets(options)  # {"train": "sigma_train", "val": "sigma_val"} when vary is set
    cached = work / "reconstructions.npz"
    reuse = args.reuse and cached.exists()

    # ---- data, as rules nmr_simulate and nmr_malt1 -------------------------
    t0 = time.perf_counter()
    paths = nmr_bench.simulate(work, ("test", *sets.values()), options, args.malt1, run=not reuse)
    data = {name: jobs.load_set(path) for name, path in paths.items()}
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

    # ---- mu, by jobs.network_job (shipped cascade) and jobs.ist_job --------
    # every method's mu, whatever --methods: a --reuse run may train another
    t0 = time.perf_counter()
    stages = [str(shipped.WEIGHTS / f"stage{k}.keras") for k in range(manifest["stages"])]
    outputs = {kind: {name: work / kind / f"{name}.npz" for name in paths} for kind in ("network", "ist")}
    for name, path in ({} if reuse else paths).items():
        ist_npz, network_npz = outputs["ist"][name], outputs["network"][name]
        jobs.ist_job(str(path), str(ist_npz), str(ist_npz.with_suffix(".json")), options["ist"]["iterations"], name)
        jobs.network_job(data=str(path), stages=stages, out=str(network_npz),
                         run_out=str(network_npz.with_suffix(".json")), damping_base=manifest["damping"],
                         arch=manifest["architecture"], set_name=name)
    network = {name: jobs.load_output(outputs["network"][name], jobs.MODES, data[name], path)
               for name, path in paths.items()}
    ist_out = {name: jobs.load_output(outputs["ist"][name], ("echo", "antiecho", "nus"), data[name], path)
               for name, path in paths.items()}
    if not reuse:  # what benchmarks/nmr_sigma_signal.py reads
        np.savez(cached, **{f"{name}/network": out["echo"] for name, out in network.items()},
                 **{f"{name}/{mode}": out[mode] for name, out in ist_out.items() for mode in ("echo", "nus")})
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

    # ---- train by jobs.train_sigma_job, score as jobs.evaluate_job ----------
    results: dict[str, dict[str, Any]] = {}
    for method in args.methods:
        kind = "network" if method == "network_echo" else "ist"
        mu = {role: str(outputs[kind][name]) for role, name in sets.items()}
        backup = work / "backup" / method
        if not args.resume:
            shutil.rmtree(backup, ignore_errors=True)  # never resume a stale run
        out = work / f"sigma_{method}.keras"
        t0 = time.perf_counter()
        jobs.train_sigma_job(method=method, data={role: str(paths[name]) for role, name in sets.items()},
                             ist_out=mu if kind == "ist" else {}, network_out=mu if kind == "network" else {},
                             out=str(out), curves=str(out.with_suffix(".csv")),
                             run_out=str(out.with_name(f"sigma_{method}_run.json")), backup=str(backup),
                             options=options["uncertainty"], seed=options["seed"])
        train_s = time.perf_counter() - t0
        with open(out.with_suffix(".csv"), newline="") as handle:  # the history, as the job returned it
            history = [{k: int(v) if k == "epoch" else float(v) for k, v in row.items()}
                       for row in csv.DictReader(handle)]
        after, before = (models.load(str(path)) for path in (out, shipped.WEIGHTS / f"sigma_{method}.keras"))
        results[method] = {"train_seconds": train_s, "epochs_run": len(history), "history": history,
                           **{name: {"before": score(before, method, name), "after": score(after, method, name)}
                              for name in ("test", "malt1")}}
        print(f"{method}: trained in {train_s:.0f} s; coverage test "
              f"{results[method]['test']['before']['coverage_all']:.3f} -> "
              f"{results[method]['test']['after']['coverage_all']:.3f}, MALT1 "
              f"{results[method]['malt1']['before']['coverage_all']:.3f} -> "
              f"{results[method]['malt1']['after']['coverage_all']:.3f}", flush=True)

    summary = {
        "shipped": {"git": manifest["git"], "config_hash": manifest["config_hash"],
                    "files_sha256": manifest["files_sha256"]},
        "config_files": args.config, "seed": options["seed"], "sigma_sets": sets,
        "uncertainty_options": options["uncertainty"], "sets": quality, "data_seconds": data_s,
        "reconstruct_seconds": reconstruct_s, "methods": results, "total_wall_s": time.perf_counter() - started,
    }
    nmr_bench.finish("nmr_calibration", summary, args, work, markdown)


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
