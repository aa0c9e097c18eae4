"""What the benchmarks share: the Study 3 ones' common options, the data (by
the jobs of rules nmr_simulate and nmr_malt1), a stage's weights from a
best-epoch .npz, the end of a run (JSON, table), and the CPU seconds of child
processes."""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MALT1 = ROOT.parent / "shared" / "data" / "nmr" / "malt1-trosy" / "Malt.ft2"


def parser(doc: str, config_help: str | None = None) -> argparse.ArgumentParser:
    """--config, --threads, --workdir and --out; the caller adds its own."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", nargs="+", help=config_help,
                        default=[str(ROOT / "config/config.yaml"), str(ROOT / "config/nmr_cpu.yaml")])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workdir", default=None, help="default: a temporary directory, removed at the end")
    parser.add_argument("--out", default=None, help="JSON results")
    return parser


def parse_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The options, and `limit_threads(--threads)` done before Keras is first imported."""
    from reproflow.runtime import limit_threads

    args = parser.parse_args()
    limit_threads(args.threads)
    return args


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def npz_weights(model: Any, path: str | Path) -> Any:
    """`model` with the weights of a training's best-epoch .npz (arr_0, arr_1, ...)."""
    import numpy as np

    with np.load(path, allow_pickle=False) as saved:
        model.set_weights([saved[f"arr_{k}"] for k in range(len(saved.files))])
    return model


def simulate(work: Path, names: Iterable[str], options: Mapping[str, Any], malt1: str | None,
             run: bool = True) -> dict[str, Path]:
    """work/data/<name>.npz of each simulated set and, from `malt1` (Malt.ft2),
    of MALT1, as the rules make them (`run=False`: only the paths)."""
    from reproflow.nmr import jobs, plan

    paths = {name: work / "data" / f"{name}.npz" for name in names}
    for name, path in paths.items():
        if run:
            jobs.simulate_job(str(path), name, **plan.split_recipe(name, options))
    if malt1:
        paths["malt1"] = work / "data" / "malt1.npz"
        if run:
            jobs.malt1_job(malt1, str(paths["malt1"]), options["nus_fraction"], options["seed"])
    return paths


def finish(benchmark: str, summary: dict[str, Any], args: argparse.Namespace, work: Path,
           markdown: Callable[[dict[str, Any]], str]) -> None:
    """The summary after the run's environment to --out, a temporary workdir removed, the table printed."""
    import keras

    from reproflow.nmr.shipped import git_state

    summary = {"benchmark": benchmark, "command": " ".join([Path(sys.executable).name, *sys.argv]),
               "threads": args.threads, "keras": keras.__version__, "backend": keras.backend.backend(),
               "python": platform.python_version(), "machine": platform.machine(), "git": git_state(ROOT),
               **summary}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(markdown(summary))
