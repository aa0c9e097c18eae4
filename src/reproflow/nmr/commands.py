"""`reproflow nmr process`: raw echo/anti-echo data -> reference, echo-only and
anti-echo-only spectra. Registered by `reproflow.nmr.cli`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from reproflow.errors import ReproflowError
from reproflow.outputs import check_output_path

log = logging.getLogger(__name__)


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
