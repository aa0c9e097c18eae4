"""`reproflow nmr reconstruct`: echo, anti-echo or NUS spectrum -> full
pure-absorption spectrum (NMRPipe), by the network cascade or CS-IST, with an
optional predicted-uncertainty (sigma) spectrum."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.nmr import commands as more_commands
from reproflow.nmr import io, ist, shipped, ve

log = logging.getLogger(__name__)
WEIGHTS = shipped.WEIGHTS  # the trained models shipped with the package (see weights/weights.json)


def register(subparsers: argparse._SubParsersAction) -> None:
    nmr = subparsers.add_parser("nmr", help="Study 3: MR-Ai NMR reconstruction")
    commands = nmr.add_subparsers(dest="nmr_command", required=True)
    rec = commands.add_parser("reconstruct", help="reconstruct a full spectrum from echo, anti-echo or NUS data",
                              description=__doc__)
    rec.add_argument("--input", required=True, help="2D NMRPipe spectrum (.ft2) or Bruker processed-data folder; "
                     "processed with 2x zero fill, first point x0.5, P1 = 0, real part")
    rec.add_argument("--mode", required=True, choices=ve.MODES)
    rec.add_argument("--schedule", help="NUS schedule: sampled t1 increments (0-based), whitespace separated")
    rec.add_argument("--method", required=True, choices=("network", "ist"))
    rec.add_argument("--out", required=True, help="output NMRPipe file")
    rec.add_argument("--sigma", help="also write the predicted uncertainty (sigma) as an NMRPipe file")
    rec.add_argument("--models", help="folder of cascade stages stage0.keras, stage1.keras, ... (default: the "
                     "cascade shipped with reproflow, trained on simulated spectra; see "
                     "reproflow/nmr/weights/weights.json)")
    rec.add_argument("--sigma-model", help="uncertainty network .keras (default: shipped one for the method)")
    rec.add_argument("--iterations", type=int, default=200, help="CS-IST iterations (default 200)")
    rec.add_argument("--damping", type=float, help="cascade damping base (default: the one the cascade was "
                     "trained with, from weights.json in its folder, else 0.05)")
    rec.set_defaults(func=reconstruct_command)
    more_commands.register(commands)  # process, quality


def read_schedule(path: str, acquired: int) -> np.ndarray:
    try:
        values = np.loadtxt(path, dtype=float, ndmin=1)
    except (OSError, ValueError) as error:
        raise ReproflowError(f"{path}: unreadable NUS schedule ({error}); expected whitespace-separated "
                             "integers (sampled t1 increments, 0-based)") from error
    schedule = values.astype(int).ravel()
    if values.size == 0 or np.any(values != schedule) or schedule.min() < 0 or schedule.max() >= acquired:
        raise ReproflowError(f"{path}: expected integer t1 increments between 0 and {acquired - 1} "
                             f"(half of the {2 * acquired} F1 points)")
    return np.unique(schedule)


def stage_paths(folder: str | None) -> list[Path]:
    root = Path(folder) if folder else WEIGHTS
    paths = sorted(root.glob("stage*.keras"), key=lambda p: int(p.stem.removeprefix("stage") or 0))
    if not paths:
        raise ReproflowError(f"{root}: no trained cascade (stage0.keras, ...); pass --models with the folder "
                             "the workflow writes (results/nmr/work/models/<architecture>) or use --method ist")
    return paths


def sigma_path(option: str | None, key: str) -> Path:
    path = Path(option) if option else WEIGHTS / f"sigma_{key}.keras"
    if not path.exists():
        raise ReproflowError(f"{path}: no uncertainty network; pass --sigma-model (the workflow writes "
                             f"results/nmr/work/sigma/{key}.keras)")
    return path


def reconstruct_command(args: argparse.Namespace) -> None:
    spectrum = io.read_spectrum(args.input)
    data = spectrum.data.astype(np.float64)
    schedule = None
    if args.mode == "nus":
        if not args.schedule:
            raise ReproflowError("--mode nus needs --schedule FILE (sampled t1 increments)")
        schedule = read_schedule(args.schedule, data.shape[0] // 2)
    if args.method == "network":
        if args.mode == "nus":
            raise ReproflowError("--method network reconstructs echo or anti-echo data; use --method ist for NUS")
        io.check_tileable(spectrum)
        # inference without TensorFlow (equal to Keras' to float32)
        from reproflow.nmr import numpy_net

        paths = stage_paths(args.models)
        damping = args.damping if args.damping is not None else shipped.damping(paths[0].parent)
        result = numpy_net.cascade([numpy_net.load(p) for p in paths], data, args.mode, damping)
    else:
        result = ist.reconstruct(data, args.mode, args.iterations, schedule)
    io.write_spectrum(args.out, spectrum, result)
    log.info("wrote %s (%s, %s)", args.out, args.mode, args.method)
    if args.sigma:
        io.check_tileable(spectrum)
        # the same load / uncertainty API as models, no TensorFlow
        from reproflow.nmr import numpy_net as models

        key = "network_echo" if args.method == "network" else f"ist_{'nus' if args.mode == 'nus' else 'echo'}"
        model = models.load(str(sigma_path(args.sigma_model, key)))
        method_input = ve.flip_t1(data) if args.mode == "antiecho" else data
        sigma = models.uncertainty(model, method_input)
        io.write_spectrum(args.sigma, spectrum, ve.flip_t1(sigma) if args.mode == "antiecho" else sigma)
        log.info("wrote %s (sigma)", args.sigma)
