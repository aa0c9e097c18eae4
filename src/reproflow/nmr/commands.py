"""`reproflow nmr process` (raw echo/anti-echo data -> reference, echo-only and
anti-echo-only spectra) and `reproflow nmr quality` (the reference-free score
pSQ of a reconstruction). Registered by `reproflow.nmr.cli`; nothing here
imports Keras until a network is run."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from reproflow.errors import ReproflowError
from reproflow.nmr import ve
from reproflow.outputs import atomic_output, check_finite, check_output_path

log = logging.getLogger(__name__)
MAX_ITERATIONS = 100_000


def register(commands: argparse._SubParsersAction) -> None:
    proc = commands.add_parser(
        "process", help="raw echo/anti-echo 2D data -> reference, echo-only and anti-echo-only spectra",
        description="Process raw echo/anti-echo data (Bruker ser with FnMODE echo-antiecho, or an NMRPipe 2D "
        "time-domain file with the pairs as recorded) with nmrglue: sine bell, first point x0.5, 2x zero fill, "
        "FT, zero-order phases, P1 = 0. Writes NMRPipe spectra: the pair's pure-absorption reference and each "
        "half alone, labelled as `nmr reconstruct --mode echo|antiecho` expects.")
    proc.add_argument("--input", required=True, help="Bruker experiment folder (ser, acqus, acqu2s) or NMRPipe "
                      "2D time-domain file, echo and anti-echo FIDs interleaved along t1")
    proc.add_argument("--reference", help="output: the full pair, pure absorption (NMRPipe)")
    proc.add_argument("--echo", help="output: the echo-only spectrum (input of reconstruct --mode echo)")
    proc.add_argument("--antiecho", help="output: the anti-echo-only spectrum (reconstruct --mode antiecho)")
    proc.add_argument("--f1-sign", type=int, choices=(1, -1), default=1,
                      help="+1: the first FID of each pair is P-type, exp(+i W1 t1); -1: N-type (the F1 axis "
                      "comes out mirrored with the wrong sign) (default: +1)")
    proc.add_argument("--p0", type=float, nargs=2, metavar=("F2", "F1"),
                      help="zero-order phases in degrees (default: estimated and printed)")
    proc.add_argument("--sine", type=float, nargs=3, metavar=("OFFSET", "END", "POWER"), default=(0.48, 0.95, 2.0),
                      help="sine-bell apodisation, both dimensions (default: 0.48 0.95 2, the MR-Ai authors')")
    proc.set_defaults(func=process_command)
    register_quality(commands)


def process_command(args: argparse.Namespace) -> None:
    import numpy as np

    from reproflow.nmr import process
    from reproflow.nmr.simulate import Apodisation

    outputs = {name: getattr(args, name) for name in ("reference", "echo", "antiecho") if getattr(args, name)}
    if not outputs:
        raise ReproflowError("nmr process: nothing to write; give --reference, --echo and/or --antiecho")
    if len({str(Path(p).resolve()) for p in outputs.values()}) < len(outputs):
        raise ReproflowError(f"nmr process: two outputs name the same file ({outputs}); give each its own path")
    offset, end, power = args.sine
    if not (np.isfinite([offset, end, power]).all() and 0.0 <= offset < end <= 1.0 and power > 0):
        raise ReproflowError(f"--sine {offset} {end} {power}: expected 0 <= OFFSET < END <= 1 and POWER > 0")
    if args.p0 is not None and not np.isfinite(args.p0).all():
        raise ReproflowError(f"--p0 {args.p0[0]} {args.p0[1]}: expected finite phases in degrees")
    for path in outputs.values():  # refused before the work, not after it
        check_output_path(path, [args.input], "spectrum")
    raw = process.read_raw(args.input)
    phases = process.Phases(*args.p0) if args.p0 is not None else None
    result = process.process(raw, Apodisation(offset, end, power), args.f1_sign, phases)
    how = "given" if phases else "estimated"
    print(f"zero-order phases ({how}): F2 {result.phases.f2:.2f}, F1 {result.phases.f1:.2f} degrees, P1 0 "
          f"(repeat with --p0 {result.phases.f2:.2f} {result.phases.f1:.2f})")
    print(f"the first FID of each pair is the {'echo' if result.first_is == 'echo' else 'anti-echo'} in reconstruct's "
          f"convention (VE quadrants; {100 * result.echo_purity:.3f}% of the echo half's VE power in the echo "
          "quadrants)")
    header = process.output_header(raw, result.reference.shape, result.phases)
    spectra = {"reference": result.reference, **result.halves}
    for name, path in outputs.items():
        process.write_spectrum(path, header, spectra[name], [args.input])
        log.info("wrote %s (%s, %d x %d)", path, name, *spectra[name].shape)


def iterations_option(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of CS-IST iterations between 1 and "
                                         f"{MAX_ITERATIONS}")
    return value


def register_quality(commands: argparse._SubParsersAction) -> None:
    quality = commands.add_parser(
        "quality", help="the reference-free quality score pSQ of a reconstruction (lower is better)",
        description="pSQ: the median predicted uncertainty sigma / max(reconstruction) over the points above 1% "
        "of the maximum, from the uncertainty network of the method (trained on simulated spectra, shipped with "
        "reproflow). Reconstructs --input with the method unless --reconstruction is given. What values mean: "
        "docs/notes/nmr-psq-scale.md.")
    quality.add_argument("--input", required=True, help="the method's input: echo, anti-echo or NUS spectrum "
                         "(NMRPipe or Bruker processed data, as for reconstruct)")
    quality.add_argument("--method", required=True, choices=("network", "ist"),
                         help="the method whose reconstruction is scored (its uncertainty network is used)")
    quality.add_argument("--mode", default="echo", choices=ve.MODES, help="input mode, as for reconstruct "
                         "(default: echo)")
    quality.add_argument("--schedule", help="NUS schedule (--mode nus, as for reconstruct)")
    quality.add_argument("--reconstruction", help="the method's reconstruction of --input (default: made now)")
    quality.add_argument("--sigma", help="also write the sigma spectrum (NMRPipe), calibrated; pSQ is of the "
                         "network's sigma before calibration")
    quality.add_argument("--sigma-model", help="uncertainty network .keras, its calibration read beside it "
                         "(default: shipped one for the method)")
    quality.add_argument("--models", help="cascade folder for --method network (default: the shipped cascade)")
    quality.add_argument("--iterations", type=iterations_option, default=200, help="CS-IST iterations (default: 200)")
    quality.set_defaults(func=quality_command)


def quality_command(args: argparse.Namespace) -> None:
    import numpy as np

    from reproflow.nmr import cli, io, ist, numpy_net, score

    if args.sigma:
        check_output_path(args.sigma, [args.input, args.reconstruction], "sigma spectrum")
    if args.method == "network" and args.mode == "nus":
        raise ReproflowError("--method network reconstructs echo or anti-echo data; use --method ist for NUS")
    spectrum = io.read_spectrum(args.input)
    io.check_tileable(spectrum)  # sigma is predicted per 32 x 64 tile
    cli.resolve_mode(spectrum, args.mode)  # data that contradict --mode are refused, as by reconstruct
    data = spectrum.data.astype(np.float64)
    if args.reconstruction:
        reconstruction = io.read_spectrum(args.reconstruction).data.astype(np.float64)
        if reconstruction.shape != data.shape:
            raise ReproflowError(f"{args.reconstruction}: shape {' x '.join(map(str, reconstruction.shape))}, but "
                                 f"the input {args.input} is {' x '.join(map(str, data.shape))}; expected the "
                                 "reconstruction of that input")
    elif args.method == "network":
        paths = cli.stage_paths(args.models)
        reconstruction = numpy_net.cascade([cli.load_network(p, sigma=False) for p in paths], data, args.mode,
                                           cli.cascade_damping(paths[0].parent, None))
    else:
        if args.mode == "nus" and not args.schedule:
            raise ReproflowError("--mode nus needs --schedule FILE (sampled t1 increments)")
        schedule = cli.read_schedule(args.schedule, data.shape[0] // 2) if args.mode == "nus" else None
        reconstruction = ist.reconstruct(data, args.mode, args.iterations, schedule)
    if float(np.max(reconstruction)) <= 0:
        raise ReproflowError(f"{args.reconstruction or args.input}: the reconstruction has no positive maximum; "
                             "pSQ is relative to it")
    key = score.sigma_key(args.method, args.mode)
    model = cli.sigma_path(args.sigma_model, key)
    network = cli.load_network(model, sigma=True)
    calibration = score.load_calibration(model)
    sigma = check_finite(score.sigma_spectrum(network, data, args.mode), f"the sigma spectrum of {args.input}")
    value, points = score.psq(sigma, reconstruction)
    sigma = check_finite(calibration.apply(sigma, reconstruction), f"the calibrated sigma spectrum of {args.input}")
    print(f"pSQ {value:.3e} ({args.method} {args.mode}, uncertainty network {key}; median sigma / max over "
          f"{points} points; lower is better)")
    if args.sigma:
        with atomic_output(args.sigma, [args.input, args.reconstruction], "sigma spectrum") as tmp:
            io.write_spectrum(tmp, spectrum, sigma)
        log.info("wrote %s (sigma of %s, calibrated: a %.3g, b %.3g, c %.3g)", args.sigma, model.name,
                 calibration.a, calibration.b, calibration.c)
