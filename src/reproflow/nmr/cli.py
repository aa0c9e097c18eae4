"""`reproflow nmr reconstruct`: echo, anti-echo or NUS spectrum -> full
pure-absorption spectrum (NMRPipe), by the network cascade or CS-IST, with an
optional predicted-uncertainty (sigma) spectrum.

Which half is echo: the virtual echo (VE) of a spectrum is its 2D inverse
Fourier transform; "echo" (P-type) data hold their VE power in the quadrants
where t1 and t2 have the same sign, "antiecho" (N-type) data in the other two.
P-type data exp(+i W1 t1) exp(+i W2 t2) transformed in both dimensions with
one sign convention (nmrglue's fft in both, or NMRPipe's FT in both) are echo;
reversing the F1 axis (NMRPipe REV or FT -neg along F1, or a spectrometer that
stores F1 the other way round) turns echo into antiecho and back. So the F1
axis orientation of the file decides it, not the pulse sequence's name: the
command measures the share of VE power in the echo quadrants, refuses data
that contradict --mode and says which mode they look like; --mode auto picks
it (and says so).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.nmr import io, ist, numpy_net, score, shipped, ve  # numpy_net: inference without TensorFlow
from reproflow.nmr import paths as nmr_paths
from reproflow.outputs import atomic_output, check_finite, check_output_path, same_file

log = logging.getLogger(__name__)
WEIGHTS = shipped.WEIGHTS  # the trained models shipped with the package (see weights/weights.json)
MAX_ITERATIONS = 100_000
MAX_SCHEDULE_BYTES = 1 << 20  # a schedule lists at most a few thousand increments
STAGE_FILE = re.compile(r"stage(0|[1-9][0-9]*)\.keras")
MODEL_FILE = re.compile(r"stage(0|[1-9][0-9]*)\.keras|sigma_\w+\.keras")
# names that look like a model or a stage but are none: stage1.keras.bak, stage01.keras, a
# .partial file of an interrupted write, stage1.h5; other files (README, curves) are left alone
LOOKS_LIKE_MODEL = re.compile(r"\.?stage.*|.*\.keras|.*\.h5|.*partial.*")
DATA_LOOK = {"echo": "echo (P-type: VE power where t1 and t2 have the same sign)",
             "antiecho": "antiecho (N-type, or P-type with the F1 axis reversed: VE power where t1 and t2 "
                         "have opposite signs)",
             "both": "a spectrum holding both halves (echo and anti-echo: already a full spectrum, or NUS data)"}


def bounded(kind: type, ok: Any, expected: str) -> Any:
    """An argparse type: `kind(text)` when `ok` of it, else refused as not `expected`."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r}: expected {expected}")
        return value
    return parse


iterations_option = bounded(int, lambda n: 1 <= n <= MAX_ITERATIONS, "a whole number of CS-IST iterations "
                            f"between 1 and {MAX_ITERATIONS}")
damping_option = bounded(float, lambda x: math.isfinite(x) and 0.0 <= x < 1.0, "a finite damping base in [0, 1) "
                         "(stage k is damped by 1 - base * 2^-k)")


def add_method_options(parser: argparse.ArgumentParser, **mode: Any) -> None:
    """The options reconstruct and quality share: the input, its --mode (`mode`), NUS schedule and what
    reconstructs it."""
    parser.add_argument("--input", required=True, help="2D NMRPipe spectrum (.ft2) or Bruker processed-data folder; "
                        "processed with 2x zero fill, first point x0.5, P1 = 0, real part")
    parser.add_argument("--mode", **mode)
    parser.add_argument("--schedule", help="NUS schedule (--mode nus): sampled t1 increments (0-based), whitespace "
                        "separated")
    parser.add_argument("--models", help="folder of cascade stages stage0.keras, stage1.keras, ... for --method "
                        "network (default: the cascade shipped with reproflow, trained on simulated spectra; see "
                        "reproflow/nmr/weights/weights.json)")
    parser.add_argument("--sigma-model", help="uncertainty network .keras, its calibration read beside it "
                        "(default: shipped one for the method)")
    parser.add_argument("--iterations", type=iterations_option, default=200,
                        help=f"CS-IST iterations, 1 to {MAX_ITERATIONS} (default: 200)")


def register(subparsers: argparse._SubParsersAction) -> None:
    nmr = subparsers.add_parser(
        "nmr", help="Study 3: MR-Ai NMR reconstruction (nmr)",
        description="Study 3: MR-Ai NMR reconstruction (nmr), Jahangiri & Orekhov 2024: process raw echo/anti-echo "
        "data, reconstruct a full spectrum from one half (or from NUS data), and score a reconstruction without a "
        "reference (pSQ).")
    commands = nmr.add_subparsers(dest="nmr_command", required=True, metavar="COMMAND")
    rec = commands.add_parser("reconstruct", help="reconstruct a full spectrum from echo, anti-echo or NUS data",
                              description=__doc__)
    add_method_options(rec, required=True, choices=(*ve.MODES, "auto"),
                       help="echo (P-type: VE power where t1 and t2 have the same sign), antiecho (N-type, or "
                       "P-type with the F1 axis reversed), nus (needs --schedule), or auto: echo or antiecho as "
                       "the data show; data that contradict the mode are refused")
    rec.add_argument("--method", required=True, choices=("network", "ist"),
                     help="network: the trained cascade (NumPy inference, no TensorFlow needed); ist: compressed "
                     "sensing by iterative soft thresholding (CS-IST)")
    rec.add_argument("--out", required=True, help="output NMRPipe file (never one of the inputs; written only when "
                     "complete)")
    rec.add_argument("--sigma", help="also write the predicted uncertainty (sigma, calibrated by the "
                     "sigma_<method>.calibration.json beside the network) as an NMRPipe file")
    rec.add_argument("--damping", type=damping_option, help="cascade damping base in [0, 1) (default: the one "
                     "the cascade was trained with, from weights.json in its folder, else 0.05)")
    rec.set_defaults(func=reconstruct_command)
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
    quality = commands.add_parser(
        "quality", help="the reference-free quality score pSQ of a reconstruction (lower is better)",
        description="pSQ: the median predicted uncertainty sigma / max(reconstruction) over the points above 1% "
        "of the maximum, from the uncertainty network of the method (trained on simulated spectra, shipped with "
        "reproflow). Reconstructs --input with the method unless --reconstruction is given. What values mean: "
        "docs/notes/nmr-psq-scale.md.")
    add_method_options(quality, default="echo", choices=ve.MODES, help="input mode, as for reconstruct "
                       "(default: echo)")
    quality.add_argument("--method", required=True, choices=("network", "ist"),
                         help="the method whose reconstruction is scored (its uncertainty network is used)")
    quality.add_argument("--reconstruction", help="the method's reconstruction of --input (default: made now)")
    quality.add_argument("--sigma", help="also write the sigma spectrum (NMRPipe), calibrated; pSQ is of the "
                         "network's sigma before calibration")
    quality.set_defaults(func=quality_command)


def schedule_text(path: str) -> str:
    """The schedule file as text, refused (named for what it is) when it is
    not plain UTF-8 text with LF or CRLF line endings."""
    source = Path(path)
    if not source.is_file():
        raise ReproflowError(f"{path}: {'a folder' if source.is_dir() else 'no such file'}; expected a NUS schedule "
                             "file (sampled t1 increments, 0-based, whitespace separated)")
    if source.stat().st_size > MAX_SCHEDULE_BYTES:
        raise ReproflowError(f"{path}: unreadable NUS schedule ({source.stat().st_size} bytes); expected a short text "
                             f"file of whitespace-separated integers (at most {MAX_SCHEDULE_BYTES} bytes)")
    raw = source.read_bytes()
    problem = None
    if raw.startswith(b"\xef\xbb\xbf"):
        problem = "starts with a UTF-8 byte-order mark (BOM)"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        problem = "holds NUL bytes (UTF-16 text or binary data)"
    elif b"\r" in raw and b"\n" not in raw:
        problem = "has CR-only (old Mac) line endings"
    if problem is None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            problem = f"is not UTF-8 text (byte {error.start})"
    raise ReproflowError(f"{path}: unreadable NUS schedule: the file {problem}; expected whitespace-separated "
                         "integers (sampled t1 increments, 0-based) in plain UTF-8 text with LF or CRLF line endings")


def read_schedule(path: str, acquired: int) -> np.ndarray:
    """Sampled t1 increments (0-based), each a whole number in 0..acquired-1."""
    values = []
    for line_number, line in enumerate(schedule_text(path).splitlines(), start=1):
        for token in line.split():
            try:
                number = float(token)
            except ValueError:
                raise ReproflowError(f"{path}: line {line_number}: unreadable NUS schedule ({token!r} is not a "
                                     "number); expected whitespace-separated integers (sampled t1 increments, "
                                     "0-based)") from None
            if not math.isfinite(number):
                raise ReproflowError(f"{path}: line {line_number}: {token!r} is not finite; expected integer t1 "
                                     f"increments between 0 and {acquired - 1} (half of the {2 * acquired} F1 points)")
            if number != int(number) or not 0 <= number < acquired:
                raise ReproflowError(f"{path}: line {line_number}: {token!r}: expected integer t1 increments between "
                                     f"0 and {acquired - 1} (half of the {2 * acquired} F1 points)")
            values.append(int(number))
    if not values:
        raise ReproflowError(f"{path}: unreadable NUS schedule (no numbers); expected whitespace-separated "
                             f"integers: integer t1 increments between 0 and {acquired - 1}")
    return np.unique(np.array(values))


def check_keras_file(path: Path, what: str) -> None:
    """A .keras file is a zip archive holding config.json: refuse anything else
    before TensorFlow is started (seconds) to load it."""
    if not path.is_file():
        state = "a dangling link" if path.is_symlink() else "a folder" if path.is_dir() else "missing"
        raise ReproflowError(f"{path}: {what} is {state}; expected a .keras model file saved by reproflow")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise ReproflowError(f"{path}: {what} is not a Keras model file ({error}); expected a .keras file "
                             "(a zip archive with config.json and model.weights.h5) saved by reproflow") from error
    if "config.json" not in names:
        raise ReproflowError(f"{path}: {what} is a zip archive without config.json, not a Keras model; expected a "
                             ".keras file saved by reproflow")


def stage_paths(folder: str | None) -> list[Path]:
    """The cascade's stage0.keras, stage1.keras, ... of a models folder, all
    present, with no stray files beside them."""
    root = Path(folder) if folder else WEIGHTS
    if not root.is_dir():
        raise ReproflowError(f"{root}: --models is {'a file' if root.exists() else 'missing'}; expected the folder "
                             "of cascade stages stage0.keras, stage1.keras, ...")
    entries = sorted(p.name for p in root.iterdir())
    numbers = sorted(int(STAGE_FILE.fullmatch(name).group(1)) for name in entries if STAGE_FILE.fullmatch(name))
    if not numbers:
        raise ReproflowError(f"{root}: no trained cascade (stage0.keras, ...); pass --models with the folder "
                             f"the workflow writes ({nmr_paths.models('<architecture>')}) or use --method ist")
    stray = [name for name in entries if LOOKS_LIKE_MODEL.fullmatch(name) and not MODEL_FILE.fullmatch(name)]
    if stray:
        raise ReproflowError(f"{root}: stray files in the models folder ({', '.join(stray[:5])}): which cascade they "
                             "belong to is unclear; expected only stage0.keras, stage1.keras, ... (and "
                             "sigma_*.keras): remove or rename them")
    missing = sorted(set(range(numbers[-1] + 1)) - set(numbers))
    if missing:
        raise ReproflowError(f"{root}: a partial cascade: stage{missing[0]}.keras is missing (found "
                             f"{', '.join(f'stage{k}' for k in numbers)}); expected stage0.keras to "
                             f"stage{numbers[-1]}.keras")
    paths = [root / f"stage{k}.keras" for k in numbers]
    for path in paths:
        check_keras_file(path, "this cascade stage")
    return paths


def sigma_path(option: str | None, key: str) -> Path:
    path = Path(option) if option else WEIGHTS / f"sigma_{key}.keras"
    if not path.exists() and not path.is_symlink():
        raise ReproflowError(f"{path}: no uncertainty network; pass --sigma-model (the workflow writes "
                             f"{nmr_paths.sigma(key)})")
    check_keras_file(path, "the uncertainty network")
    return path


def cascade_damping(folder: Path, option: float | None) -> float:
    """--damping, else the one in the folder's weights.json, else 0.05."""
    if option is not None:
        return option
    manifest = folder / shipped.MANIFEST
    try:
        value = shipped.damping(folder)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise ReproflowError(f"{manifest}: corrupt weights manifest ({error}); expected the JSON object "
                             "reproflow writes (with a \"damping\" number), or pass --damping") from error
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise ReproflowError(f"{manifest}: damping = {value}; expected a finite number in [0, 1), or pass --damping")
    return value


def load_network(path: Path, sigma: bool) -> Any:
    """A checked WNN-2D network for NumPy inference: a cascade stage, or (`sigma`) an uncertainty network."""
    network = numpy_net.load(path)
    if network.sigma_head != sigma:
        found, wanted = ("an uncertainty (sigma) network", "a cascade stage") if network.sigma_head else \
            ("a cascade stage", "an uncertainty (sigma) network")
        raise ReproflowError(f"{path}: {found}; expected {wanted} here")
    return network


def resolve_mode(spectrum: io.Spectrum, requested: str) -> str:
    """The mode the data are: measured from the share of VE power in the echo
    quadrants (`ve.echo_share`); refused when it contradicts `requested`."""
    share = ve.echo_share(spectrum.data)
    looks = ve.half_of(share)
    measured = (f"{100 * share:.1f}% of its virtual-echo power lies in the echo quadrants "
                f"(at least {100 * ve.ONE_HALF_SHARE:.0f}% for echo, at most {100 - 100 * ve.ONE_HALF_SHARE:.0f}% "
                "for antiecho)")
    if requested == "auto":
        if looks == "both":
            raise ReproflowError(f"{spectrum.source}: --mode auto: {measured}, so the data look like "
                                 f"{DATA_LOOK['both']}; expected echo-only or anti-echo-only data (for NUS data "
                                 "use --mode nus --schedule FILE)")
        log.info("--mode auto: %s looks like %s (%s)", spectrum.source, looks, measured)
        return looks
    if requested == "nus":
        if looks != "both":
            raise ReproflowError(f"{spectrum.source}: --mode nus, but {measured}: the data look like "
                                 f"{DATA_LOOK[looks]}; expected NUS data, which hold both halves (use --mode "
                                 f"{looks})")
        return requested
    if looks != requested:
        hint = f"use --mode {looks}" if looks != "both" else "a full spectrum needs no reconstruction"
        raise ReproflowError(f"{spectrum.source}: --mode {requested}, but {measured}: the data look like "
                             f"{DATA_LOOK[looks]}; expected {DATA_LOOK[requested]} ({hint}; --mode auto "
                             "picks echo or antiecho from the data)")
    return requested


def read_paths(args: argparse.Namespace, sigma: bool) -> list[str | Path | None]:
    """Every file and folder a reconstruct or quality call reads (`sigma`: it
    runs an uncertainty network): no output may be one of them or lie inside one."""
    paths = [args.input, args.schedule, getattr(args, "reconstruction", None)]
    if args.method == "network":
        paths.append(args.models or WEIGHTS)
    if sigma:
        paths += [args.sigma_model, score.calibration_path(args.sigma_model)] if args.sigma_model else [WEIGHTS]
    return paths


def check_outputs(args: argparse.Namespace) -> None:
    """Before anything is read: no output is an input (or inside one), --out
    is not --sigma, and both can be written."""
    inputs = read_paths(args, bool(args.sigma))
    if args.sigma and same_file(args.out, args.sigma):
        raise ReproflowError(f"{args.sigma}: --sigma is the same file as --out; expected two different output paths")
    check_output_path(args.out, inputs, "--out")
    if args.sigma:
        check_output_path(args.sigma, inputs, "--sigma")


def method_inputs(args: argparse.Namespace, spectrum: io.Spectrum, mode: str) -> Any:
    """args.method's reconstruction of `spectrum`, to run once every input (NUS
    schedule, cascade stages and damping) is checked and every network loaded."""
    data = spectrum.data.astype(np.float64)
    schedule = None
    if mode == "nus":
        if not args.schedule:
            raise ReproflowError("--mode nus needs --schedule FILE (sampled t1 increments)")
        schedule = read_schedule(args.schedule, data.shape[0] // 2)
    if args.method == "network" and mode == "nus":
        raise ReproflowError("--method network reconstructs echo or anti-echo data; use --method ist for NUS")
    if args.method == "network" or args.sigma:
        io.check_tileable(spectrum)  # sigma and the cascade run per 32 x 64 tile
    if args.method == "ist":
        return lambda: ist.reconstruct(data, mode, args.iterations, schedule)
    stages = stage_paths(args.models)
    damping = cascade_damping(stages[0].parent, getattr(args, "damping", None))  # quality has no --damping
    networks = [load_network(path, sigma=False) for path in stages]
    return lambda: numpy_net.cascade(networks, data, mode, damping)


def sigma_inputs(option: str | None, key: str) -> tuple[Path, Any, score.Calibration]:
    """The uncertainty network (--sigma-model, else the shipped one for `key`), loaded, and its calibration."""
    model = sigma_path(option, key)
    return model, load_network(model, sigma=True), score.load_calibration(model)


def reconstruct_command(args: argparse.Namespace) -> None:
    check_outputs(args)
    spectrum = io.read_spectrum(args.input)
    mode = resolve_mode(spectrum, args.mode)
    # every input is checked before anything is computed or written
    run = method_inputs(args, spectrum, mode)
    if args.sigma:
        sigma_model, sigma_network, calibration = sigma_inputs(args.sigma_model, score.sigma_key(args.method, mode))
    result = check_finite(run(), f"{args.out}: the reconstruction of {spectrum.source}")
    sigma = None
    if args.sigma:
        sigma = calibration.apply(score.sigma_spectrum(sigma_network, spectrum.data.astype(np.float64), mode), result)
        check_finite(sigma, f"{args.sigma}: the uncertainty of {spectrum.source}")
    inputs = read_paths(args, bool(args.sigma))
    # both files are written before either is renamed into place: a failure leaves neither
    with contextlib.ExitStack() as stack:
        out_tmp = stack.enter_context(atomic_output(args.out, inputs, "--out"))
        sigma_tmp = stack.enter_context(atomic_output(args.sigma, inputs, "--sigma")) if sigma is not None else None
        io.write_spectrum(out_tmp, spectrum, result)
        if sigma_tmp is not None:
            io.write_spectrum(sigma_tmp, spectrum, sigma)
    log.info("wrote %s (%s, %s)", args.out, mode, args.method)
    if sigma is not None:
        log.info("wrote %s (sigma of %s, calibrated: a %.3g, b %.3g, c %.3g)", args.sigma, sigma_model.name,
                 calibration.a, calibration.b, calibration.c)


def quality_command(args: argparse.Namespace) -> None:
    inputs = read_paths(args, sigma=True)
    if args.sigma:
        check_output_path(args.sigma, inputs, "sigma spectrum")
    if args.method == "network" and args.mode == "nus":
        raise ReproflowError("--method network reconstructs echo or anti-echo data; use --method ist for NUS")
    spectrum = io.read_spectrum(args.input)
    io.check_tileable(spectrum)  # sigma is predicted per 32 x 64 tile
    resolve_mode(spectrum, args.mode)  # data that contradict --mode are refused, as by reconstruct
    data = spectrum.data.astype(np.float64)
    if args.reconstruction:
        reconstruction = io.read_spectrum(args.reconstruction).data.astype(np.float64)
        if reconstruction.shape != data.shape:
            raise ReproflowError(f"{args.reconstruction}: shape {' x '.join(map(str, reconstruction.shape))}, but "
                                 f"the input {args.input} is {' x '.join(map(str, data.shape))}; expected the "
                                 "reconstruction of that input")
    else:
        reconstruction = method_inputs(args, spectrum, args.mode)()
    if float(np.max(reconstruction)) <= 0:
        raise ReproflowError(f"{args.reconstruction or args.input}: the reconstruction has no positive maximum; "
                             "pSQ is relative to it")
    key = score.sigma_key(args.method, args.mode)
    model, network, calibration = sigma_inputs(args.sigma_model, key)
    sigma = check_finite(score.sigma_spectrum(network, data, args.mode), f"the sigma spectrum of {args.input}")
    value, points = score.psq(sigma, reconstruction)
    sigma = check_finite(calibration.apply(sigma, reconstruction), f"the calibrated sigma spectrum of {args.input}")
    print(f"pSQ {value:.3e} ({args.method} {args.mode}, uncertainty network {key}; median sigma / max over "
          f"{points} points; lower is better)")
    if args.sigma:
        with atomic_output(args.sigma, inputs, "sigma spectrum") as tmp:
            io.write_spectrum(tmp, spectrum, sigma)
        log.info("wrote %s (sigma of %s, calibrated: a %.3g, b %.3g, c %.3g)", args.sigma, model.name,
                 calibration.a, calibration.b, calibration.c)


def process_command(args: argparse.Namespace) -> None:
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
