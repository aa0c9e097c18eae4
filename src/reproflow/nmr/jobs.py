"""The Snakemake jobs of Study 3 (scripts/nmr_*.py are thin adapters):
simulate, MALT1 inputs, IST, training, network reconstruction, evaluation
and the summary, each with its run manifest (what MLflow shows of it, see
`reproflow.manifest`).

Import after `reproflow.runtime.limit_threads` in jobs that use Keras.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from reproflow.arrays import load_npz, save_npz, write_csv
from reproflow.data import sha256_file
from reproflow.errors import ReproflowError
from reproflow.manifest import RunRecord, recording
from reproflow.runtime import headline
from reproflow.nmr import STUDY, ist, metrics, score, simulate, ve
from reproflow.data import read_json_object
from reproflow.outputs import atomic_output, check_finite, check_output_path, same_file, write_json, write_text

log = logging.getLogger(__name__)
PROTOCOL = "mr-ai"
UNCERTAINTY_INPUT = {"network_echo": "echo", "ist_echo": "echo", "ist_nus": "nus"}


@contextmanager
def child(path: str, inputs: Sequence[str | Path | None], run_name: str,
          datasets: Mapping[str, tuple[str, str]] | None = None) -> Iterator[RunRecord]:
    """The job's run manifest, tagged with the protocol and its data sets'
    checksums, the data sets ({name: (sha256, file)}) its inputs."""
    datasets = dict(sorted((datasets or {}).items()))
    tags = {"protocol": PROTOCOL, **{f"dataset.{k}.sha256": sha for k, (sha, _) in datasets.items()}}
    with recording(path, [s for s in inputs if s is not None], run_name, tags) as run:
        for name, (sha, source) in datasets.items():
            run.log_dataset(name, sha, source)
        yield run


def check_outputs(outputs: Sequence[str | Path], inputs: Sequence[str | Path | None]) -> None:
    """At a job's start, before any work: no output is (or lies inside) an input, no two are one file."""
    for index, output in enumerate(outputs):
        check_output_path(output, inputs)
        for other in outputs[:index]:
            if same_file(output, other):
                raise ReproflowError(f"{output}: the same file as the output {other}; expected two different "
                                     "output paths")


NPZ = "the .npz arrays an earlier study 3 job wrote"
SET_ARRAYS = ("reference", "echo", "antiecho", "nus", "schedules")


def load_set(path: str | Path) -> dict[str, np.ndarray]:
    """A simulated or MALT1 set: reference and its echo, anti-echo and NUS
    inputs, all (spectra, F1, F2), and one NUS schedule per spectrum."""
    arrays = load_npz(path, SET_ARRAYS, NPZ)
    shape = arrays["reference"].shape
    for key in ("reference", "echo", "antiecho", "nus"):
        if len(shape) != 3 or arrays[key].shape != shape:
            raise ReproflowError(f"{path}: array {key!r} has shape {arrays[key].shape} (reference {shape}); expected "
                                 "reference, echo, antiecho and nus of one shape (spectra, F1, F2)")
    if shape[0] == 0:
        raise ReproflowError(f"{path}: no spectra (array 'reference' has shape {shape}); expected at least one")
    if arrays["schedules"].shape != (shape[0], shape[1] // 2):
        raise ReproflowError(f"{path}: array 'schedules' has shape {arrays['schedules'].shape}; expected "
                             f"{(shape[0], shape[1] // 2)}, one row of t1 increments per spectrum")
    return arrays


def load_output(path: str | Path, modes: Sequence[str], of: Mapping[str, np.ndarray],
                set_path: str | Path) -> dict[str, np.ndarray]:
    """A method's reconstructions (`modes`) of the set `of`: one per spectrum, of its shape."""
    arrays = load_npz(path, (*modes, "seconds"), NPZ)
    shape = of["reference"].shape
    for mode in modes:
        if arrays[mode].shape != shape:
            raise ReproflowError(f"{path}: array {mode!r} has shape {arrays[mode].shape}; expected {shape}, the "
                                 f"shape of the set {set_path} it reconstructs")
    return arrays


def same_spectra(first: tuple[str | Path, Mapping[str, np.ndarray]],
                 second: tuple[str | Path, Mapping[str, np.ndarray]]) -> None:
    """Two sets (train and val) of one spectrum size."""
    (a, one), (b, two) = first, second
    if one["reference"].shape[1:] != two["reference"].shape[1:]:
        raise ReproflowError(f"{b}: spectra of shape {two['reference'].shape}, but {a}: {one['reference'].shape}; "
                             "expected sets of one simulation (the same F1 x F2 size)")


def save_model(model: Any, path: str | Path, inputs: Sequence[str | Path | None] = ()) -> None:
    check_finite(np.concatenate([np.ravel(w) for w in model.get_weights()] or [np.zeros(0)]), f"{path}: weights")
    with atomic_output(path, inputs) as tmp:
        model.save(tmp)


def save_spectrum(path: str | Path, like: Any, data: np.ndarray, inputs: Sequence[str | Path | None] = ()) -> None:
    from reproflow.nmr import io

    check_finite(data, f"{path}: spectrum")
    with atomic_output(path, inputs) as tmp:
        io.write_spectrum(tmp, like, data)


def save_figure(figure: Any, path: str | Path, inputs: Sequence[str | Path | None] = (),
                run: RunRecord | None = None) -> None:
    """Write `figure` and close it; logged as an artifact of `run`, if given."""
    from reproflow.runtime import pyplot

    with atomic_output(path, inputs) as tmp:
        figure.savefig(tmp, dpi=120)
    pyplot().close(figure)
    if run is not None:
        run.log_artifact(path)


def save_trained(run: RunRecord, model: Any, history: Sequence[Mapping[str, float]], out: str, curves: str,
                 sources: Sequence[str]) -> float:
    """Save a trained network and its curves (every epoch, also those before a resume), as files and in
    the run; returns the best validation loss."""
    run.log_history(history, "epoch")
    write_csv(history, curves, sources)
    save_model(model, out, sources)
    run.log_artifact(out)
    run.log_artifact(curves)
    return min(row["val_loss"] for row in history)


def datasets_of(arrays: Mapping[str, np.ndarray], path: str) -> dict[str, tuple[str, str]]:
    """The MALT1 spectrum's checksum, which its set (`path`) carries; simulated sets carry none."""
    return {"malt1": (str(arrays["sha256"]), path)} if "sha256" in arrays else {}


# ---- data -----------------------------------------------------------------

def simulate_job(out: str, split: str, *, simulation: Mapping[str, Any], count: int,
                 vary: Mapping[str, Sequence[float]], nus_fraction: float, seed: int) -> None:
    """One simulated set (`split_recipe`): train, val, test (varied in quality)
    or the uncertainty networks' sigma_train and sigma_val."""
    check_outputs([out], [])
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ReproflowError(f"{out}: count = {count!r} spectra; expected a whole number, at least 1")
    if not (isinstance(nus_fraction, int | float) and 0.0 < nus_fraction <= 1.0):
        raise ReproflowError(f"{out}: nus_fraction = {nus_fraction!r}; expected a share of t1 increments in (0, 1]")
    cfg = simulate.SimConfig.from_config(simulation)
    arrays = simulate.simulate_set(seed, count, cfg, nus_fraction, vary)
    save_npz(out, **arrays)
    noise, empty = simulate.quality(arrays["reference"])
    log.info("%s: %d spectra of %s; noise/max %.1e to %.1e, %.0f%% of output tiles noise-only",
             split, count, cfg.shape, noise.min(), noise.max(), 100 * empty.mean())


def malt1_job(spectrum: str, out: str, nus_fraction: float, seed: int) -> None:
    """MALT1 reference and the echo, anti-echo and NUS inputs simulated from it."""
    from reproflow.nmr import io  # nmrglue only here

    check_outputs([out], [spectrum])
    reference = io.read_spectrum(spectrum).data.astype(np.float64)
    acquired = reference.shape[0] // 2
    schedule = simulate.poisson_gap(np.random.default_rng(seed), acquired, nus_fraction)
    row = np.zeros(acquired, bool)
    row[schedule] = True
    save_npz(out, [spectrum], reference=reference[None].astype(np.float32),
             echo=ve.echo(reference)[None].astype(np.float32),
             antiecho=ve.antiecho(reference)[None].astype(np.float32),
             nus=ve.apply_mask(reference, ve.nus_mask(reference.shape, schedule))[None].astype(np.float32),
             schedules=row[None], sha256=np.array(sha256_file(spectrum)))


# ---- reconstruction -------------------------------------------------------

def ist_job(data: str, out: str, run_out: str, iterations: int, name: str) -> None:
    """IST for echo, anti-echo and NUS inputs of every spectrum of one set."""
    check_outputs([out, run_out], [data])
    arrays = load_set(data)
    result: dict[str, list[np.ndarray]] = {"echo": [], "antiecho": [], "nus": []}
    seconds = []
    with child(run_out, [data], f"ist/{name}", datasets_of(arrays, data)) as run:
        run.log_params({"set": name, "iterations": iterations, "spectra": len(arrays["reference"])})
        for index in range(len(arrays["reference"])):
            schedule = simulate.schedule_indices(arrays["schedules"][index])
            for mode in result:
                start = time.perf_counter()
                result[mode].append(ist.reconstruct(arrays[mode][index], mode, iterations, schedule))
                seconds.append(time.perf_counter() - start)
        run.log_metrics({"seconds_per_spectrum": float(np.mean(seconds))})
        save_npz(out, [data], seconds=np.array(seconds), **{mode: np.stack(v) for mode, v in result.items()})


def train_stage_job(*, train: str, val: str, previous: Sequence[str], out: str, curves: str, run_out: str,
                    backup: str, architecture: str, stage: int, options: Mapping[str, Any], seed: int,
                    callbacks: Sequence[Any] = ()) -> list[dict[str, float]]:
    """Train one cascade stage on the earlier stages' outputs; returns its
    per-epoch history (`callbacks`: extra Keras callbacks, e.g. a time budget)."""
    sources = [train, val, *previous]
    check_outputs([out, curves, run_out], sources)
    train_set, val_set = load_set(train), load_set(val)   # checked before Keras starts (seconds)
    same_spectra((train, train_set), (val, val_set))
    from reproflow.nmr import models, train as training
    from reproflow.resume import same_inputs_or_fresh

    previous_models = [models.load(path) for path in previous]
    datasets = {"simulated-train": (sha256_file(train), train), "simulated-val": (sha256_file(val), val)}
    # the earlier stages follow from the same sets, settings and seed
    same_inputs_or_fresh(backup, {"sets_sha256": [sha for sha, _ in datasets.values()], "architecture": architecture,
                                  "stage": stage, "options": options, "seed": seed})
    with child(run_out, sources, f"train/{architecture}/stage{stage}", datasets) as run:
        run.log_params({"architecture": architecture, "stage": stage, **options})
        model, history = training.train_stage(
            architecture, previous_models, train_set, val_set, options, backup, seed + stage,
            callbacks=callbacks)
        best = save_trained(run, model, history, out, curves, sources)
        run.log_metrics({"params": model.count_params(), "epochs_run": len(history), "best_val_loss": best})
    headline("best validation loss %.3g in %d epochs", best, len(history))
    return history


def train_stages_job(*, train: str, val: str, outs: Sequence[Mapping[str, str]], architecture: str,
                     options: Mapping[str, Any], seed: int) -> list[list[dict[str, float]]]:
    """Every cascade stage of one architecture in one process (one TensorFlow
    start-up): stage k as `train_stage_job` with `outs[k]` (model, curves,
    run, backup), the stages before it read back from their files, in a fresh
    Keras session (`clear_session`), so each is trained as in a job of its own.
    All outputs are checked first; a killed job, rerun, resumes its finished
    stages from their backups (after their last epoch: not retrained)."""
    check_outputs([out[key] for out in outs for key in ("model", "curves", "run")], [train, val])
    import keras

    histories = []
    for stage, out in enumerate(outs):
        keras.backend.clear_session()
        histories.append(train_stage_job(
            train=train, val=val, previous=[earlier["model"] for earlier in outs[:stage]], out=out["model"],
            curves=out["curves"], run_out=out["run"], backup=out["backup"], architecture=architecture,
            stage=stage, options=options, seed=seed))
    return histories


MODES = ("echo", "antiecho")


def reconstruct_set(cascade: Sequence[Any], arrays: Mapping[str, np.ndarray], damping_base: float,
                    cut: tuple[int, int] | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[float]]:
    """The cascade's echo and anti-echo reconstructions of a set's spectra,
    the quality after each stage (`<mode>_stage_r` / `_rmsd`: stages x
    spectra, see `stage_means`) and the seconds of each reconstruction (the
    scoring is outside the timing). `cascade`: `numpy_net.Network`s (no
    TensorFlow) or Keras models."""
    from reproflow.nmr import numpy_net

    if all(isinstance(stage, numpy_net.Network) for stage in cascade):
        run_cascade = numpy_net.cascade
    else:
        from reproflow.nmr import models

        run_cascade = models.cascade
    result: dict[str, list[np.ndarray]] = {mode: [] for mode in MODES}
    per_stage: dict[str, list[list[dict[str, float]]]] = {mode: [[] for _ in cascade] for mode in MODES}
    seconds = []
    for index, reference in enumerate(arrays["reference"]):
        for mode in MODES:
            estimates: list[np.ndarray] = []
            start = time.perf_counter()
            result[mode].append(run_cascade(list(cascade), arrays[mode][index], mode, damping_base,
                                            on_stage=lambda _, estimate: estimates.append(estimate)))
            seconds.append(time.perf_counter() - start)
            for stage, estimate in enumerate(estimates):
                per_stage[mode][stage].append(metrics.quality(reference, estimate, cut))
    scores = {f"{mode}_stage_{key}": np.array([[row[key] for row in rows] for rows in per_stage[mode]])
              for mode in MODES for key in ("r", "rmsd")}
    return {mode: np.stack(v) for mode, v in result.items()}, scores, seconds


def stage_means(scores: Mapping[str, np.ndarray]) -> dict[str, list[dict[str, float]]]:
    """Mean r and RMSD after each stage, per mode, from `reconstruct_set`'s
    scores (or a network job's output; empty for one made before it scored stages)."""
    return {mode: [{"r": float(r.mean()), "rmsd": float(rmsd.mean())}
                   for r, rmsd in zip(scores[f"{mode}_stage_r"], scores[f"{mode}_stage_rmsd"])]
            for mode in MODES if f"{mode}_stage_r" in scores}


def network_job(*, data: str, stages: Sequence[str], out: str, run_out: str, damping_base: float,
                arch: str, set_name: str) -> None:
    """The cascade's echo and anti-echo reconstructions of one set, and the
    quality after each stage: in the output (`reconstruct_set`), in MLflow per step.
    The stages run on NumPy (`numpy_net`: Keras' outputs to float32 rounding,
    without TensorFlow's start-up)."""
    check_outputs([out, run_out], [data, *stages])
    arrays = load_set(data)
    from reproflow.nmr import numpy_net

    cascade = [numpy_net.load(path) for path in stages]
    with child(run_out, [data, *stages], f"network/{arch}/{set_name}", datasets_of(arrays, data)) as run:
        result, scores, seconds = reconstruct_set(cascade, arrays, damping_base, metrics.cut_for(set_name))
        run.log_metrics({"seconds_per_spectrum": float(np.mean(seconds))})
        means = stage_means(scores)
        for stage in range(len(cascade)):
            run.log_metrics({f"{mode}.{key}": rows[stage][key] for mode, rows in means.items()
                             for key in ("r", "rmsd")}, step=stage + 1)
        save_npz(out, [data, *stages], seconds=np.array(seconds), **scores, **result)
    headline("r after the last stage: echo %.4f, anti-echo %.4f", means["echo"][-1]["r"], means["antiecho"][-1]["r"])


def method_arrays(method: str, data: Mapping[str, np.ndarray], ist_out: Mapping[str, np.ndarray],
                  network_out: Mapping[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """(the method's input spectra, its reconstructions)."""
    mu = network_out["echo"] if method == "network_echo" else ist_out[method.removeprefix("ist_")]
    return data[UNCERTAINTY_INPUT[method]], mu


def train_sigma_job(*, method: str, data: Mapping[str, str], ist_out: Mapping[str, str],
                    network_out: Mapping[str, str], out: str, curves: str, run_out: str, backup: str,
                    options: Mapping[str, Any], seed: int) -> None:
    """The NLL network of one method, trained on data["train"], stopped on
    data["val"] (the cascade's sets or the sigma_* sets, see `plan.sigma_sets`),
    and its calibration (`score.fit_calibration` on data["val"]) written
    beside it (`score.calibration_path(out)`)."""
    sources = [*data.values(), *ist_out.values(), *network_out.values()]
    calibration_out = score.calibration_path(out)
    check_outputs([out, curves, run_out, calibration_out], sources)
    split = {}
    for name in ("train", "val"):   # every input checked before Keras starts (seconds)
        arrays = load_set(data[name])
        inputs, mu = method_arrays(
            method, arrays, load_output(ist_out[name], ("echo", "antiecho", "nus"), arrays, data[name]) if ist_out else {},
            load_output(network_out[name], MODES, arrays, data[name]) if network_out else None)
        split[name] = (inputs, arrays["reference"], mu)
    same_spectra((data["train"], {"reference": split["train"][1]}), (data["val"], {"reference": split["val"][1]}))
    from reproflow.nmr import train as training
    from reproflow.resume import same_inputs_or_fresh

    datasets = {f"simulated-{name}": (sha256_file(data[name]), data[name]) for name in ("train", "val")}
    outputs_sha256 = [sha256_file(path) for path in (*ist_out.values(), *network_out.values())]
    same_inputs_or_fresh(backup, {"inputs_sha256": [sha for sha, _ in datasets.values()] + outputs_sha256,
                                  "method": method, "options": options, "seed": seed})
    with child(run_out, sources, f"train/sigma/{method}", datasets) as run:
        run.log_params({"method": method, **options})
        model, history = training.train_uncertainty(*split["train"], split["val"], options, backup, seed)
        best = save_trained(run, model, history, out, curves, sources)
        calibration = calibrate(out, *split["val"], data["val"], sources)
        run.log_metrics({"epochs_run": len(history), "best_val_loss": best,
                        **{f"calibration_{k}": v for k, v in asdict(calibration).items()}})
        run.log_artifact(str(calibration_out))
    headline("best validation loss %.3g in %d epochs; calibration a %.3g, b %.3g, c %.3g",
             best, len(history), calibration.a, calibration.b, calibration.c)


def calibrate(model: str, inputs: np.ndarray, references: np.ndarray, mus: np.ndarray, val: str,
              sources: Sequence[str]) -> score.Calibration:
    """Fit the calibration of the sigma network saved at `model` on the
    validation spectra (`score.fit_calibration`) and write it beside it."""
    from reproflow.nmr import numpy_net

    network = numpy_net.load(model)
    sigmas = [numpy_net.uncertainty(network, x) for x in inputs]
    try:
        calibration = score.fit_calibration(list(references), list(mus), sigmas)
    except ValueError as error:   # e.g. reconstructions equal to their references: no error to fit
        raise ReproflowError(f"{val}: cannot calibrate the uncertainty network on it ({error})") from error
    record = score.calibration_record(calibration, fitted_on=f"{val} ({len(references)} simulated spectra)",
                                      objective="score.fit_calibration: balanced Gaussian NLL, a >= 1, "
                                                f"signal coverage {score.COVERAGE}")
    write_json(score.calibration_path(model), record, sources)
    return calibration


def train_sigma_jobs(configurations: Sequence[Mapping[str, Any]]) -> None:
    """The NLL networks of several methods in one process (one TensorFlow
    start-up): each `train_sigma_job` (its keyword arguments) in a fresh Keras
    session, from its own seed, as in a job of its own. All outputs are
    checked first; a killed job, rerun, resumes the finished networks from
    their backups (after their last epoch: not retrained)."""
    for options in configurations:
        check_outputs([*(options[key] for key in ("out", "curves", "run_out")), score.calibration_path(options["out"])],
                      [*options["data"].values(), *options["ist_out"].values(), *options["network_out"].values()])
    import keras

    for options in configurations:
        keras.backend.clear_session()
        train_sigma_job(**options)


# ---- evaluation -----------------------------------------------------------

def evaluate_job(*, name: str, data: str, ist_out: str, networks: Mapping[str, str], sigma_models: Mapping[str, str],
                 primary: str, out: Mapping[str, str], spectrum: str | None) -> dict[str, Any]:
    """Table, uncertainty coverage and pSQ of one set (held-out simulated or
    MALT1): coverage of the calibrated sigma (its calibration beside each
    network, `score.load_calibration`), pSQ of the network's own (`score`)."""
    from reproflow.nmr import evaluate, io

    sources = [data, ist_out, *networks.values(), *sigma_models.values(), spectrum]
    sigma_dir = Path(out["sigma_dir"])
    check_outputs([out[key] for key in ("json", "psq", "boxes", "figure", "run")]
                  + [sigma_dir / f"{prefix}{method}.ft2" for method in sigma_models for prefix in ("sigma_", "")],
                  sources)
    # every input checked before the networks load
    arrays = load_set(data)
    ist_arrays = load_output(ist_out, ("echo", "antiecho", "nus"), arrays, data)
    network_arrays = {arch: load_output(path, MODES, arrays, data) for arch, path in networks.items()}
    header = io.read_spectrum(spectrum) if spectrum else None
    from reproflow.nmr import numpy_net  # the sigma networks on NumPy: no TensorFlow start-up

    sigma_networks = {method: numpy_net.load(path) for method, path in sigma_models.items()}
    calibrations = {method: score.load_calibration(path) for method, path in sigma_models.items()}
    cut = metrics.cut_for(name)
    references = arrays["reference"]
    methods = evaluate.reconstructions(arrays, ist_arrays, network_arrays, primary)
    table = evaluate.quality_table(references, methods, cut)
    result: dict[str, Any] = {"set": name, "spectra": len(references), "shape": list(references.shape[1:]),
                              "cut": cut, "table": table, "uncertainty": {}, "seconds": {
                                  "ist_per_spectrum": float(np.mean(ist_arrays["seconds"])),
                                  **{f"network_{a}_per_spectrum": float(np.mean(v["seconds"]))
                                     for a, v in network_arrays.items()}},
                              "network_stages": {a: stage_means(v) for a, v in network_arrays.items()}}
    psq_rows, boxes = [], {}
    with child(out["run"], sources, f"evaluate/{name}", datasets_of(arrays, data)) as run:
        for method, model in sigma_networks.items():
            mus = methods[method]
            raws = [numpy_net.uncertainty(model, x) for x in arrays[UNCERTAINTY_INPUT[method]]]
            sigmas = [calibrations[method].apply(raw, mu) for raw, mu in zip(raws, mus)]
            covered = evaluate.coverage_each(references, mus, sigmas, cut)
            scores = [evaluate.psq(*metrics.crop(cut, raw, mu)) for raw, mu in zip(raws, mus)]
            psq_rows += [{"set": name, "spectrum": index, "method": method, "psq": scores[index],
                          "rmsd": table[method]["rmsd_each"][index], "r": table[method]["r_each"][index],
                          **covered[index]} for index in range(len(references))]
            boxes[method] = evaluate.normalised_sigma(*metrics.crop(cut, raws[0], mus[0]))
            like = header or io.Spectrum(sigmas[0], io.pipe_header(sigmas[0].shape), name)
            save_spectrum(sigma_dir / f"sigma_{method}.ft2", like, sigmas[0], sources)
            save_spectrum(sigma_dir / f"{method}.ft2", like, mus[0], sources)
            if method == "network_echo" or len(sigma_models) == 1 or "network_echo" not in sigma_models:
                figure = evaluate.figure_reconstruction(references[0], mus[0], sigmas[0],
                                                        f"{evaluate.set_label(name)}, {evaluate.LABELS.get(method, method)}", cut)
                save_figure(figure, out["figure"], sources, run)
            result["uncertainty"][method] = {**evaluate.mean_coverage(covered), "psq_mean": float(np.mean(scores))}
        if not sigma_models:  # no uncertainty network: still draw the reconstruction
            figure = evaluate.figure_reconstruction(references[0], methods["ist_echo"][0],
                                                    np.zeros_like(references[0]), f"{evaluate.set_label(name)}, echo, CS-IST", cut)
            save_figure(figure, out["figure"], sources)
        if len(psq_rows) >= 5:  # a rank correlation over fewer points says little
            result["psq_spearman_rmsd"] = evaluate.spearman([row["psq"] for row in psq_rows],
                                                            [row["rmsd"] for row in psq_rows])
        run.log_metrics({f"{m}.{k}": v for m, row in table.items() for k, v in row.items()
                        if k in ("r", "rmsd")})
        run.log_metrics({f"{m}.{k}": v for m, row in result["uncertainty"].items()
                        for k, v in row.items()})
        if "psq_spearman_rmsd" in result:
            run.log_metric("psq_spearman_rmsd", result["psq_spearman_rmsd"])
        # finite=False: pSQ and the signal coverage are NaN where no point qualifies, as in the JSON
        write_csv(psq_rows or [{"set": name}], out["psq"], sources, finite=False)
        save_npz(out["boxes"], sources, **boxes)
        check_finite([v for row in table.values() for k, v in row.items() if k in ("r", "rmsd")],
                     f"{out['json']}: r and RMSD of {name}")
        write_text(out["json"], json.dumps(result, indent=2), sources)
        sigma_dir.mkdir(parents=True, exist_ok=True)   # an output folder, empty without uncertainty networks
        run.log_artifact(out["json"])
    headline("r: " + ", ".join(f"{evaluate.LABELS.get(m, m)} {row['r']:.4f}" for m, row in result["table"].items()
                               if m in ("network_echo", "ist_echo", "ist_nus")))
    return result


def summary_job(*, evaluations: Sequence[str], boxes: Sequence[str], out: Mapping[str, str],
                options: Mapping[str, Any]) -> None:
    """metrics.json, the table CSV, the RMSD bars and sigma boxes, the report
    section, and the run manifest that gives them to the MLflow parent run too."""
    from reproflow.nmr import evaluate, report

    sources = [*evaluations, *boxes]
    check_outputs([out[key] for key in ("table", "metrics", "rmsd_figure", "sigma_figure", "report", "summary_html", "run")], sources)
    # every input read before anything is written
    results = [read_json_object(path, "a set's evaluation (rule nmr_evaluate)", ("set", "table")) for path in evaluations]
    box_samples = [load_npz(path, (), NPZ) for path in boxes]
    for path, result in zip(evaluations, results):
        table = result["table"]
        if not isinstance(table, dict) or not all(isinstance(v, dict) and {"r", "rmsd"} <= v.keys()
                                                  for v in table.values()):
            raise ReproflowError(f"{path}: key 'table' is not {{method: {{r, rmsd, ...}}}}; expected the evaluation "
                                 "rule nmr_evaluate writes")
    tables = {r["set"]: r["table"] for r in results}
    rows = [{"set": r["set"], "method": m, "r": v["r"], "rmsd": v["rmsd"],
             "paper_r": evaluate.PAPER_MALT1.get(m, (None, None))[0],
             "paper_rmsd": evaluate.PAPER_MALT1.get(m, (None, None))[1]}
            for r in results for m, v in r["table"].items()]
    write_csv(rows, out["table"], sources)
    summary = {"study": STUDY, "options": options,
               "sets": {r["set"]: {k: v for k, v in r.items() if k != "table"} | {
                   "table": {m: {"r": v["r"], "rmsd": v["rmsd"]} for m, v in r["table"].items()}}
                   for r in results},
               "paper_malt1": {m: {"r": r, "rmsd": d} for m, (r, d) in evaluate.PAPER_MALT1.items()}}
    write_text(out["metrics"], json.dumps(summary, indent=2), sources)
    with child(out["run"], sources, "summary") as run:
        save_figure(evaluate.figure_rmsd_bars(tables), out["rmsd_figure"], sources, run)
        samples = {f"{method} ({result['set']})": values for result, arrays in zip(results, box_samples)
                   for method, values in arrays.items()}
        save_figure(evaluate.figure_sigma_boxes(samples, "Predicted uncertainty (pSQ points)"), out["sigma_figure"],
                    sources, run)
        write_text(out["report"], report.markdown(summary), sources)
        write_text(out["summary_html"], report.html(summary), sources)
        for path in (out["metrics"], out["table"], out["report"], out["summary_html"]):
            run.log_artifact(path)
        run.log_metrics({f"{s}.{m}.rmsd": v["rmsd"] for s, t in tables.items() for m, v in t.items()})
    primary = "malt1" if "malt1" in tables else next(iter(tables))
    headline("%s: network echo r %.4f, CS-IST echo r %.4f (paper, MALT1: 0.9865, 0.9630); table in %s", primary,
             tables[primary]["network_echo"]["r"], tables[primary]["ist_echo"]["r"], out["summary_html"])
