"""Fit the post-hoc calibration of the shipped uncertainty (sigma) networks
and measure coverage before and after it (no network is retrained).

sigma_cal = sqrt((a sigma)^2 + (b |mu|)^2 + (c max|mu|)^2) (`score.Calibration`),
a, b, c per network by `score.fit_calibration` on the shipped run's own
simulated validation sets (sigma_val and val), or
with --realism CONFIG... on a validation set simulated by those config files
(realism_val: MALT1-like size, noise and amplitudes; scored also on its own
held-out realism_test), never on MALT1.
Data as the pipeline makes them (`jobs.simulate_job` from the shipped run's
`nmr` config, `jobs.malt1_job`); mu from the shipped cascade
(`numpy_net.cascade`) and IST (`ist.reconstruct`, 200 iterations); sigma by
`numpy_net.uncertainty`; coverage of +-1.96 sigma over all points and signal
points by `evaluate.calibration`, averaged over spectra, MALT1 on
`metrics.MALT1_CUT`, as `jobs.evaluate_job`.

    python benchmarks/nmr_sigma_calibrate.py --workdir /tmp/sigcal --out /tmp/sigcal.json --write
    python benchmarks/nmr_sigma_calibrate.py --workdir /tmp/sigcal --realism config/config.yaml \
        config/nmr_cpu.yaml training/nmr/realism1/config.yaml --out /tmp/sigcal.json --write

--write puts the fitted sigma_<key>.calibration.json beside the shipped
networks (src/reproflow/nmr/weights/). About 3 min on 2 cores; --reuse takes
the data and reconstructions an earlier run left in --workdir.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from nmr_bench import MALT1, ROOT  # this folder is on sys.path when a benchmark runs

METHODS = ("network_echo", "ist_echo", "ist_nus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True, help="data and reconstructions are kept here")
    parser.add_argument("--malt1", default=str(MALT1), help="Malt.ft2")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--realism", nargs="+", metavar="CONFIG",
                        help="fit on a val set simulated by these config files (merged as --configfile does)")
    parser.add_argument("--write", action="store_true", help="write the calibrations beside the shipped networks")
    parser.add_argument("--out", help="JSON results")
    args = parser.parse_args()

    from reproflow.nmr import evaluate, ist, jobs, metrics, numpy_net, plan, score, shipped, simulate
    from reproflow.outputs import write_json

    started = time.perf_counter()
    command = " ".join(["python", *sys.argv])
    manifest = shipped.manifest()
    options = manifest["nmr_config"]
    # the sigma networks' own val set (sparse, of varied quality: it calibrates the noise) and
    # the cascade's (as crowded as the test spectra: it calibrates the error on peaks)
    fit_sets = list(dict.fromkeys([plan.sigma_sets(options)["val"], "val"]))
    work = Path(args.workdir)
    (work / "data").mkdir(parents=True, exist_ok=True)
    paths = {name: work / "data" / f"{name}.npz" for name in (*fit_sets, "test", "malt1")}
    recipes = {name: (name, options) for name in paths}
    if args.realism:
        from reproflow.config import merge_config_files

        realism = merge_config_files(args.realism)["nmr"]
        for split in ("val", "test"):
            paths[f"realism_{split}"] = work / "data" / f"realism_{split}.npz"
            recipes[f"realism_{split}"] = (split, realism)
        fit_sets = ["realism_val"]
    cached = work / "reconstructions.npz"
    mus: dict[str, np.ndarray] = {}
    if args.reuse and cached.exists():
        with np.load(cached, allow_pickle=False) as saved:
            mus = {key: saved[key] for key in saved.files}
    for name, path in paths.items():
        if path.exists() and args.reuse:
            continue
        if name == "malt1":
            jobs.malt1_job(args.malt1, str(path), options["nus_fraction"], options["seed"])
        else:
            split, recipe = recipes[name]
            jobs.simulate_job(str(path), name, **plan.split_recipe(split, recipe))
    data = {name: jobs.load_npz(path) for name, path in paths.items()}
    missing = [name for name in data if f"{name}/{METHODS[0]}" not in mus]
    if missing:
        stages = [numpy_net.load(shipped.WEIGHTS / f"stage{k}.keras") for k in range(manifest["stages"])]
        for name in missing:
            arrays = data[name]
            rec: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
            for index in range(len(arrays["reference"])):
                schedule = simulate.schedule_indices(arrays["schedules"][index])
                rec["network_echo"].append(numpy_net.cascade(stages, arrays["echo"][index], "echo",
                                                             manifest["damping"]))
                for mode in ("echo", "nus"):
                    rec[f"ist_{mode}"].append(ist.reconstruct(arrays[mode][index], mode,
                                                              options["ist"]["iterations"], schedule))
            mus.update({f"{name}/{m}": np.stack(v) for m, v in rec.items()})
            print(f"{name}: {len(arrays['reference'])} spectra reconstructed, {time.perf_counter() - started:.0f} s",
                  flush=True)
        np.savez(cached, **mus)

    results = {}
    for method in METHODS:
        network = numpy_net.load(shipped.WEIGHTS / f"sigma_{method}.keras")
        raw = {name: [numpy_net.uncertainty(network, x) for x in arrays[jobs.UNCERTAINTY_INPUT[method]]]
               for name, arrays in data.items()}
        calibration = score.fit_calibration([r for n in fit_sets for r in data[n]["reference"]],
                                             [m for n in fit_sets for m in mus[f"{n}/{method}"]],
                                             [s for n in fit_sets for s in raw[n]])
        scores: dict[str, dict[str, dict[str, float]]] = {}
        for name, arrays in data.items():
            mu = mus[f"{name}/{method}"]
            for label, cal in (("before", score.Calibration()), ("after", calibration)):
                sigmas = [cal.apply(sigma, m) for sigma, m in zip(raw[name], mu)]
                scores.setdefault(name, {})[label] = evaluate.mean_coverage(
                    evaluate.coverage_each(arrays["reference"], mu, sigmas, metrics.cut_for(name)))
        results[method] = {"calibration": asdict(calibration), "coverage": scores}
        if args.write:
            record = score.calibration_record(
                calibration, key=method, fitted_on=f"{' + '.join(fit_sets)} "
                f"({sum(len(data[n]['reference']) for n in fit_sets)} simulated spectra of the config below)",
                objective="score.fit_calibration: balanced Gaussian NLL, a >= 1, signal coverage 0.95",
                config=args.realism or "the shipped run's",
                command=command, shipped_git=manifest["git"]["commit"],
                coverage={name: scores[name]["after"] for name in data if name != "malt1"})
            write_json(score.calibration_path(shipped.WEIGHTS / f"sigma_{method}.keras"), record)
    summary = {"command": command, "fit_sets": fit_sets, "git": shipped.git_state(ROOT),
               "methods": results, "wall_s": time.perf_counter() - started}
    if args.out:
        write_json(args.out, summary)
    shown = [*fit_sets, *(name for name in data if name not in fit_sets)]
    print("| σ network | a, b, c | " + " | ".join(f"{n}{' (fit)' if n in fit_sets else ''}: all / signal"
                                               for n in shown) + " |")
    print("|---|---|" + "---|" * len(shown))
    for method, result in results.items():
        cal = result["calibration"]
        cells = [" / ".join(f"{c['before'][k]:.3f} -> {c['after'][k]:.3f}" for k in ("coverage_all", "coverage_signal"))
                 for c in (result["coverage"][n] for n in shown)]
        print(f"| {method} | {cal['a']:.3g}, {cal['b']:.3g}, {cal['c']:.3g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
