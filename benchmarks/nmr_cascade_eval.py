"""Benchmark: a trained cascade (a folder of stage{k}.keras) scored as the
shipped one is, on MALT1 echo and anti-echo and on the shipped run's
held-out simulated test set, with the quality after every stage.

The data and scoring are the pipeline's: MALT1 from `jobs.malt1_job` (rule
nmr_malt1), the held-out set from `jobs.simulate_job` with the shipped run's
config (`shipped.manifest()["nmr_config"]`, `plan.split_recipe("test")`:
the very set the shipped weights were scored on), reconstructions and
per-stage r / RMSD from `jobs.reconstruct_set` (as `jobs.network_job`; MALT1
on `metrics.MALT1_CUT`).

    python benchmarks/nmr_cascade_eval.py --stages-dir training/nmr/realism1/cascade/wnn_bf \
        --threads 1 --out /tmp/eval.json
    python benchmarks/nmr_cascade_eval.py --threads 1      # the shipped cascade
    python benchmarks/nmr_cascade_eval.py --stage-files training/nmr/realism1/backup/stage0/best3.npz

--stage-files takes .keras files or the best-epoch .npz a running training
keeps in its backup folder (wnn_bf weights, width 50): a look at a stage
before its training ends.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import nmr_bench  # this folder is on sys.path when a benchmark runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages-dir", default=None, help="folder of stage{k}.keras (default: the shipped ones)")
    parser.add_argument("--stage-files", nargs="+", default=None, help=".keras or best*.npz files, in order")
    parser.add_argument("--damping", type=float, default=None, help="default: the shipped manifest's")
    parser.add_argument("--malt1", default=str(nmr_bench.MALT1))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = nmr_bench.parse_args(parser)
    from reproflow.nmr import jobs, metrics, models, shipped

    manifest = shipped.manifest()
    folder = Path(args.stages_dir) if args.stages_dir else shipped.WEIGHTS
    paths = (args.stage_files or
             sorted(folder.glob("stage*.keras"), key=lambda p: int(p.stem.removeprefix("stage"))))
    # a best-epoch .npz: a bias-free stage's arrays
    cascade = models.prepare([nmr_bench.npz_weights(models.wnn2d("wnn_bf", 50, tiled_input=False), p)
                              if str(p).endswith(".npz") else models.load(str(p)) for p in paths])
    damping = args.damping if args.damping is not None else manifest["damping"]
    sets = nmr_bench.simulate(Path(tempfile.mkdtemp(prefix="nmr_eval_")), ["test"], manifest["nmr_config"], args.malt1)
    result = {"stages": [str(p) for p in paths], "damping": damping}
    for name in ("malt1", "test"):
        arrays = jobs.load_set(sets[name])
        _, scores, seconds = jobs.reconstruct_set(cascade, arrays, damping, metrics.cut_for(name))
        result[name] = jobs.stage_means(scores)
        for mode, rows in result[name].items():
            print(f"{name} {mode}: " + ", ".join(f"stage {k}: r {row['r']:.4f} rmsd {row['rmsd']:.4f}"
                                                  for k, row in enumerate(rows)), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
