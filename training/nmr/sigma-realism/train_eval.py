"""Experiment (issue 16 item 3): one sigma network trained on realism-simulated
sigma sets, optionally with a signal-weighted NLL, then calibrated on a
realism-simulated val set and scored on MALT1 and held-out sets.

Data and training are the pipeline's jobs: the sigma sets from
`jobs.simulate_job` with `plan.split_recipe` of the realism config
(config/config.yaml + config/nmr_cpu.yaml + training/nmr/realism1/config.yaml),
mu from `jobs.ist_job` or `jobs.network_job` (the shipped cascade), training
by `jobs.train_sigma_job`. Scoring sets (realism_val, realism_test, test,
malt1) and their reconstructions come from the workdir of
benchmarks/nmr_sigma_calibrate.py --realism ... (run it first):

    python benchmarks/nmr_sigma_calibrate.py --workdir /tmp/sigcal --realism config/config.yaml \
        config/nmr_cpu.yaml training/nmr/realism1/config.yaml
    python training/nmr/sigma-realism/train_eval.py --method ist_echo --tiles 4096 --epochs 3 \
        --signal-weight 5 --workdir /tmp/sigreal --scored /tmp/sigcal
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from reproflow.config import merge_config_files
from reproflow.nmr import evaluate, jobs, metrics, numpy_net, plan, score, shipped

CONFIGS = ["config/config.yaml", "config/nmr_cpu.yaml", "training/nmr/realism1/config.yaml"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", required=True, choices=list(jobs.UNCERTAINTY_INPUT))
    parser.add_argument("--tiles", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--signal-weight", type=float, default=1.0)
    parser.add_argument("--seed", type=int, help="the training seed (default: the config's; the sets keep theirs)")
    parser.add_argument("--workdir", required=True, help="sigma sets, their reconstructions, the network")
    parser.add_argument("--scored", required=True, help="workdir of benchmarks/nmr_sigma_calibrate.py --realism")
    args = parser.parse_args()
    started = time.perf_counter()
    options = merge_config_files(CONFIGS)["nmr"]
    training = plan.training_options(options["uncertainty"]) | {"tiles": args.tiles, "epochs": args.epochs,
                                                                "signal_weight": args.signal_weight}
    work = Path(args.workdir)
    (work / "data").mkdir(parents=True, exist_ok=True)
    data, outputs = {}, {}
    for role, split in (("train", "sigma_train"), ("val", "sigma_val")):
        data[role] = work / "data" / f"{split}.npz"
        if not data[role].exists():
            jobs.simulate_job(str(data[role]), split, **plan.split_recipe(split, options))
        if args.method == "network_echo":
            outputs[role] = work / "data" / f"{split}_network.npz"
            if not outputs[role].exists():
                manifest = shipped.manifest()
                jobs.network_job(data=str(data[role]), stages=[str(shipped.WEIGHTS / f"stage{k}.keras")
                                                               for k in range(manifest["stages"])],
                                 out=str(outputs[role]), run_out=str(work / "data" / f"{split}_network_run.json"),
                                 damping_base=manifest["damping"], arch=manifest["architecture"], set_name=split)
        else:
            outputs[role] = work / "data" / f"{split}_ist.npz"
            if not outputs[role].exists():
                jobs.ist_job(str(data[role]), str(outputs[role]), str(work / "data" / f"{split}_ist_run.json"),
                             options["ist"]["iterations"], split)
    tag = f"{args.method}_t{args.tiles}_e{args.epochs}_w{args.signal_weight:g}"
    if args.seed is not None:
        tag += f"_s{args.seed}"
    model = work / f"{tag}.keras"
    if not model.exists():
        kind = {"ist_out": {k: str(v) for k, v in outputs.items()}, "network_out": {}}
        if args.method == "network_echo":
            kind = {"ist_out": {}, "network_out": {k: str(v) for k, v in outputs.items()}}
        jobs.train_sigma_job(method=args.method, data={k: str(v) for k, v in data.items()}, **kind, out=str(model),
                             curves=str(work / f"{tag}.csv"), run_out=str(work / f"{tag}_run.json"),
                             backup=str(work / f"backup_{tag}"), options=training,
                             seed=options["seed"] if args.seed is None else args.seed)
    network = numpy_net.load(model)
    scored = Path(args.scored)
    sets = {n: jobs.load_npz(scored / "data" / f"{n}.npz") for n in ("realism_val", "realism_test", "test", "malt1")}
    with np.load(scored / "reconstructions.npz", allow_pickle=False) as saved:
        mus = {n: saved[f"{n}/{args.method}"] for n in sets}
    raw = {n: [numpy_net.uncertainty(network, x) for x in a[jobs.UNCERTAINTY_INPUT[args.method]]]
           for n, a in sets.items()}
    fitted = score.fit_calibration(list(sets["realism_val"]["reference"]), list(mus["realism_val"]),
                                   raw["realism_val"])
    result = {"tag": tag, "training": training, "seconds": time.perf_counter() - started}
    for label, calibration in (("network", score.Calibration()), ("calibrated", fitted)):
        rows = {}
        for name, arrays in sets.items():
            sigmas = [calibration.apply(s, m) for s, m in zip(raw[name], mus[name])]
            rows[name] = evaluate.mean_coverage(evaluate.coverage_each(arrays["reference"], mus[name], sigmas,
                                                                       metrics.cut_for(name)), np.nanmean)
        result[label] = {"calibration": [calibration.a, calibration.b, calibration.c], "coverage": rows}
        print(tag, label, "a b c", " ".join(f"{v:.3g}" for v in result[label]["calibration"]), " | ".join(
            f"{n} {r['coverage_all']:.3f}/{r['coverage_signal']:.3f}" for n, r in rows.items()), flush=True)
    (work / f"{tag}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
