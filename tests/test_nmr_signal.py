"""Study 3 signal processing: virtual echo, simulation, IST, metrics, I/O."""

from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

from reproflow.arrays import load_npz
from reproflow.nmr import io, ist, jobs, metrics, plan, simulate, ve
from workflow_utils import REPO, SHARED_DATA

MALT1 = SHARED_DATA / "nmr/malt1-trosy/Malt.ft2"
SMALL = simulate.SimConfig(n1=32, n2=128, peaks=24)


@pytest.fixture(scope="module")
def peaks() -> simulate.Peaks:
    return simulate.random_peaks(np.random.default_rng(7), SMALL)


def test_echo_plus_antiecho_is_the_reference(peaks):
    reference = simulate.reference_spectrum(peaks, SMALL, np.random.default_rng(1))
    total = ve.echo(reference) + ve.antiecho(reference)
    assert np.abs(total - reference).max() <= 1e-12 * np.abs(reference).max()


def test_masked_spectra_are_real_and_masks_symmetric():
    shape = (16, 32)
    for mask in (ve.echo_mask(shape), ve.nus_mask(shape, [0, 2, 5])):
        mirrored = mask[(-np.arange(16)) % 16][:, (-np.arange(32)) % 32]
        assert np.array_equal(mask, mirrored)
    spectrum = np.random.default_rng(0).normal(size=shape)
    masked = np.fft.fft2(ve.echo_mask(shape) * ve.to_ve(spectrum))
    assert np.abs(masked.imag).max() < 1e-12


def test_p_type_echo_matches_ve_masked_reference(peaks):
    """Echo processed from P-type data equals the VE echo of the States reference
    (exactly without phase errors; closely with the 1 degree phase spread)."""
    exact = simulate.SimConfig(n1=32, n2=128, peaks=24, phase_deg=0.0)
    flat = simulate.Peaks(np.abs(peaks.amplitude), peaks.f1, peaks.f2, peaks.r1, peaks.r2)
    reference = simulate.reference_spectrum(flat, exact)
    scale = np.abs(reference).max()
    assert np.abs(simulate.echo_spectrum(flat, exact) - ve.echo(reference)).max() < 1e-10 * scale
    assert np.abs(simulate.antiecho_spectrum(flat, exact) - ve.antiecho(reference)).max() < 1e-10 * scale
    phased = simulate.reference_spectrum(peaks, SMALL)
    r = np.corrcoef(simulate.echo_spectrum(peaks, SMALL).ravel(), ve.echo(phased).ravel())[0, 1]
    assert r > 0.999


def test_flip_t1_is_t1_conjugation():
    spectrum = np.random.default_rng(3).normal(size=(16, 32))
    time = ve.to_ve(spectrum)[(-np.arange(16)) % 16]
    assert np.allclose(ve.flip_t1(spectrum), ve.from_ve(time))
    assert np.allclose(ve.flip_t1(ve.echo(spectrum)), ve.antiecho(ve.flip_t1(spectrum)))


def test_mask_operator_matches_exact_masking():
    spectrum = np.random.default_rng(4).normal(size=(32, 64))
    mask = ve.echo_mask(spectrum.shape)
    fast = ve.MaskOperator(mask, np.float64)(spectrum)
    assert np.allclose(fast, ve.apply_mask(spectrum, mask))


def test_poisson_gap_schedule():
    rng = np.random.default_rng(0)
    schedule = simulate.poisson_gap(rng, 128, 0.5)
    assert len(schedule) == 64 and schedule[0] == 0
    assert np.all(np.diff(schedule) > 0) and schedule[-1] < 128
    # sine weighting: gaps grow towards the end
    gaps = np.diff(schedule)
    assert gaps[-16:].mean() > gaps[:16].mean()


def test_simulated_set_shapes_and_inputs():
    arrays = simulate.simulate_set(5, 2, SMALL, 0.5)
    assert arrays["reference"].shape == (2, 64, 256)
    assert np.allclose(arrays["reference"].max(axis=(1, 2)), 1.0)
    assert arrays["schedules"].sum(axis=1).tolist() == [16, 16]
    assert np.allclose(arrays["echo"] + arrays["antiecho"], arrays["reference"], atol=1e-6)


def test_sigma_sets_vary_in_noise_and_have_noise_only_tiles(tmp_path):
    """uncertainty.vary gives the sigma networks their own sets, spread over
    noise levels and with empty tiles; the cascade's train set stays as it was."""
    options = {"seed": 0, "nus_fraction": 0.5, "simulation": {"n1": 32, "n2": 128, "peaks": 24},
               "sets": {"train": 16, "val": 2, "test": 2}, "vary": {"snr": [30.0, 3000.0]},
               "uncertainty": {"methods": ["ist_echo"], "vary": {"snr": [2.0, 2000.0], "peaks": [0.05, 1.0]}}}
    assert plan.sigma_sets(options) == {"train": "sigma_train", "val": "sigma_val"}
    assert plan.sigma_sets({**options, "uncertainty": {"methods": ["ist_echo"]}}) == {"train": "train", "val": "val"}
    assert plan.quality_ranges("test", options) == {"snr": [30.0, 3000.0]}
    quality = {}
    for split in ("train", "sigma_train", "sigma_val"):
        jobs.simulate_job(str(tmp_path / f"{split}.npz"), split, **plan.split_recipe(split, options))
        arrays = load_npz(tmp_path / f"{split}.npz")
        quality[split] = simulate.quality(arrays["reference"])
    noise, empty = quality["sigma_train"]
    assert len(noise) == 16 and len(quality["sigma_val"][0]) == 2
    assert noise.max() / noise.min() > 20  # snr spans 1000x: noise/max from ~4e-4 to ~2e-2
    assert noise.max() > 5e-3 and empty.mean() > 0.05 and (empty > 0).sum() >= 4
    noise, empty = quality["train"]  # snr 1000, 24 peaks everywhere
    assert noise.max() / noise.min() < 5 and empty.max() == 0.0


def test_vary_draws_quality_and_line_shapes_per_spectrum():
    vary = {"snr": [2.0, 3000.0], "peaks": [0.05, 2.0], "phase_deg": [0.0, 5.0], "linewidth": [0.5, 3.0]}
    rng = np.random.default_rng(0)
    drawn = [simulate.varied(rng, SMALL, vary) for _ in range(300)]
    snr = np.array([one.snr for one in drawn])
    phase = np.array([one.phase_deg for one in drawn])
    factor1 = np.array([one.decay1[1] / SMALL.decay1[1] for one in drawn])
    factor2 = np.array([one.decay2[0] / SMALL.decay2[0] for one in drawn])
    assert 2.0 <= snr.min() < 10 and 1000 < snr.max() <= 3000.0  # log-uniform: both decades reached
    assert {one.peaks for one in drawn} <= set(range(1, 49)) and len({one.peaks for one in drawn}) > 20
    assert 0.0 <= phase.min() < 0.5 and 4.5 < phase.max() <= 5.0
    assert np.allclose(factor1, factor2) and 0.5 <= factor1.min() < 0.6 and 2.7 < factor1.max() <= 3.0
    with pytest.raises(ValueError, match=r"vary keys must be among .*'noise'"):
        simulate.varied(rng, SMALL, {"noise": [0.1, 1.0]})


def test_vary_linewidth_broadens_the_same_peaks():
    one_peak = simulate.SimConfig(n1=32, n2=128, peaks=1, snr=0.0)
    narrow = simulate.simulate_set(3, 1, one_peak, 0.5, {"linewidth": [1.0, 1.0]})["reference"][0]
    broad = simulate.simulate_set(3, 1, one_peak, 0.5, {"linewidth": [4.0, 4.0]})["reference"][0]
    assert np.unravel_index(narrow.argmax(), narrow.shape) == np.unravel_index(broad.argmax(), broad.shape)
    assert (broad > 0.5).sum() > 1.5 * (narrow > 0.5).sum()


def test_schema_checks_uncertainty_vary():
    import yaml

    from reproflow.config import ConfigError, validate

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    schema = REPO / "workflow/schemas/config.schema.yaml"
    validate(config, schema, "config")
    config["nmr"]["uncertainty"]["vary"] = {"snr": [2.0, 30.0, 3000.0]}
    with pytest.raises(ConfigError, match=r"nmr\.uncertainty\.vary\.snr"):
        validate(config, schema, "config")
    config["nmr"]["uncertainty"]["vary"] = {"noise": [0.1, 1.0]}
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['noise'\] under 'nmr\.uncertainty\.vary'"):
        validate(config, schema, "config")
    config["nmr"]["uncertainty"]["vary"] = {"phase_deg": [0.0, 5.0]}
    validate(config, schema, "config")
    config["nmr"]["vary"] = {"linewidth": [0.0, 2.0]}  # the test set's spread: same ranges, same checks
    with pytest.raises(ConfigError, match=r"nmr\.vary\.linewidth"):
        validate(config, schema, "config")


def test_ist_recovers_echo_and_nus():
    arrays = simulate.simulate_set(11, 1, SMALL, 0.5)
    reference = arrays["reference"][0]
    plain = metrics.quality(reference, arrays["echo"][0])
    for mode in ("echo", "antiecho"):
        rebuilt = ist.reconstruct(arrays[mode][0], mode, iterations=100)
        result = metrics.quality(reference, rebuilt)
        assert result["r"] > 0.97 and result["rmsd"] < plain["rmsd"] / 2
    schedule = simulate.schedule_indices(arrays["schedules"][0])
    nus = ist.reconstruct(arrays["nus"][0], "nus", iterations=100, schedule=schedule)
    assert metrics.quality(reference, nus)["r"] > 0.97


def test_metrics_as_coded():
    ref = np.zeros((4, 10))
    ref[1, 2] = 2.0
    rec = ref.copy()
    rec[1, 3] = 0.2  # 0.1 of max: selected
    rec[2, 2] = 0.01  # 0.005 of max: not selected
    result = metrics.quality(ref, rec)
    assert result["points"] == 2
    assert result["rmsd"] == pytest.approx(np.sqrt(0.1**2 / 2))
    assert metrics.quality(rec, rec)["r"] == pytest.approx(1.0)
    cut = metrics.quality(np.pad(ref, ((0, 0), (5, 5))), np.pad(rec, ((0, 0), (5, 5))), cut=(5, 15))
    assert cut == result


def test_pipe_round_trip_and_errors(tmp_path):
    data = np.random.default_rng(0).normal(size=(64, 128)).astype(np.float32)
    source = io.Spectrum(data, io.pipe_header(data.shape), "memory")
    io.write_spectrum(tmp_path / "a.ft2", source, data)
    back = io.read_spectrum(tmp_path / "a.ft2")
    assert np.array_equal(back.data, data)
    io.check_tileable(back)
    with pytest.raises(io.SpectrumError, match="tiles"):
        io.check_tileable(io.Spectrum(data[:60], source.dic, "x"))
    (tmp_path / "junk.ft2").write_bytes(b"not nmr")
    with pytest.raises(io.SpectrumError, match="NMRPipe"):
        io.read_spectrum(tmp_path / "junk.ft2")
    with pytest.raises(io.SpectrumError, match="no such"):
        io.read_spectrum(tmp_path / "missing.ft2")
    phased = dict(source.dic, FDF1P1=30.0)
    ng.pipe.write(str(tmp_path / "p1.ft2"), phased, data, overwrite=True)
    with pytest.raises(io.SpectrumError, match="P1"):
        io.read_spectrum(tmp_path / "p1.ft2")
    one_d = data[0]
    dic1 = io.pipe_header(one_d.shape)
    ng.pipe.write(str(tmp_path / "1d.ft1"), dic1, one_d, overwrite=True)
    with pytest.raises(io.SpectrumError, match="1D"):
        io.read_spectrum(tmp_path / "1d.ft1")


@pytest.mark.skipif(not MALT1.exists(), reason=f"MALT1 spectrum not available at {MALT1} (shared data absent)")
def test_ist_on_malt1_meets_paper():
    """CS-IST echo on MALT1: r >= 0.963 and RMSD <= 0.0194 (the paper's CS numbers)."""
    reference = io.read_spectrum(MALT1).data.astype(np.float64)
    echo = ve.echo(reference)
    plain = metrics.quality(reference, echo, cut=metrics.MALT1_CUT)
    assert plain["r"] == pytest.approx(0.693, abs=0.002)
    result = metrics.quality(reference, ist.reconstruct(echo, "echo", 200), cut=metrics.MALT1_CUT)
    assert result["r"] >= 0.963 and result["rmsd"] <= 0.0194


def one_half_spectra(seed: int, cfg: simulate.SimConfig) -> dict[str, np.ndarray]:
    """Echo from P-type and anti-echo from N-type data with noise, processed
    directly (as a spectrometer's data would be), and the full reference."""
    rng = np.random.default_rng(seed)
    peaks = simulate.random_peaks(rng, cfg)
    p_type = simulate.add_noise(rng, simulate.time_domain(peaks, cfg, "P"), cfg.snr)
    n_type = simulate.add_noise(rng, simulate.time_domain(peaks, cfg, "N"), cfg.snr)
    return {"echo": simulate.process_complex(p_type, cfg.apod),
            "antiecho": ve.flip_t1(simulate.process_complex(n_type, cfg.apod)),
            "full": simulate.reference_spectrum(peaks, cfg, rng)}


@pytest.mark.parametrize("cfg", [
    simulate.SimConfig(n1=32, n2=128, peaks=24),
    simulate.SimConfig(n1=64, n2=256, peaks=8, snr=10.0, phase_deg=10.0),
    simulate.SimConfig(n1=32, n2=128, peaks=24, apod=simulate.Apodisation(first_point=1.0)),
], ids=["plain", "noisy-phase-spread", "no-first-point-scaling"])
def test_echo_share_tells_the_halves_apart_in_both_f1_conventions(cfg):
    """P-type data in the echo quadrants, N-type in the anti-echo ones, a full
    spectrum in between; reversing F1 (the other sign convention) swaps the halves."""
    spectra = one_half_spectra(3, cfg)
    shares = {name: ve.echo_share(data) for name, data in spectra.items()}
    assert shares["echo"] > 0.999 and shares["antiecho"] < 0.001, shares
    assert 0.4 < shares["full"] < 0.6, shares
    assert {name: ve.half_of(s) for name, s in shares.items()} == {"echo": "echo", "antiecho": "antiecho",
                                                                   "full": "both"}
    reversed_f1 = {name: ve.half_of(ve.echo_share(data[::-1])) for name, data in spectra.items()}
    assert reversed_f1 == {"echo": "antiecho", "antiecho": "echo", "full": "both"}
    # a full spectrum with unbalanced halves (anti-echo at 0.3 of the echo's 0.7) still holds both
    mixed = 0.7 * ve.echo(spectra["full"]) + 0.3 * ve.antiecho(spectra["full"])
    assert ve.half_of(ve.echo_share(mixed)) == "both"


@pytest.mark.skipif(not MALT1.exists(), reason=f"MALT1 spectrum not available at {MALT1} (shared data absent)")
def test_echo_share_on_malt1():
    """The measured MALT1 spectrum holds both halves (0.454: documented in ve.py);
    its VE-masked echo and anti-echo are one half each, in either F1 orientation."""
    full = io.read_spectrum(MALT1).data.astype(np.float64)
    assert ve.echo_share(full) == pytest.approx(0.454, abs=0.005)
    assert ve.half_of(ve.echo_share(full)) == "both"
    for mode, other in (("echo", "antiecho"), ("antiecho", "echo")):
        half = ve.apply_mask(full, ve.mask_for(mode, full.shape))
        assert ve.half_of(ve.echo_share(half)) == mode
        assert ve.half_of(ve.echo_share(ve.flip_t1(half))) == other


def test_mask_operator_gives_the_same_bits_on_any_thread_count():
    # the operator keeps its one- or multi-threaded FFTW plan by which runs faster at the time
    spectrum = np.random.default_rng(5).normal(size=(64, 256)).astype(np.float32)
    operator = ve.MaskOperator(ve.echo_mask(spectrum.shape), workers=1)
    operator.input[...] = spectrum
    one = operator._run(operator._plan(1)).copy()
    assert np.array_equal(one, operator._run(operator._plan(2)))
    assert np.allclose(one, ve.apply_mask(spectrum, ve.echo_mask(spectrum.shape)), atol=1e-5)


def test_evaluation_without_uncertainty_networks_still_scores_and_draws(tmp_path):
    """uncertainty.methods: [] (the schema allows it): the set is scored and its
    figure drawn from the first spectrum's CS-IST reconstruction."""
    options = {"seed": 0, "nus_fraction": 0.5, "simulation": {"n1": 32, "n2": 128, "peaks": 24},
               "sets": {"train": 2, "val": 2, "test": 2}}
    data, ist_out = tmp_path / "test.npz", tmp_path / "ist.npz"
    jobs.simulate_job(str(data), "test", **plan.split_recipe("test", options))
    jobs.ist_job(str(data), str(ist_out), str(tmp_path / "ist_run.json"), 20, "test")
    out = {key: str(tmp_path / "eval" / name) for key, name in (
        ("json", "test.json"), ("psq", "psq.csv"), ("boxes", "boxes.npz"), ("figure", "test.png"),
        ("run", "run.json"), ("sigma_dir", "sigma"))}
    result = jobs.evaluate_job(name="test", data=str(data), ist_out=str(ist_out), networks={}, sigma_models={},
                               primary="wnn_bf", out=out, spectrum=None)
    assert result["uncertainty"] == {} and 0.5 < result["table"]["ist_echo"]["r"] <= 1.0
    assert Path(out["figure"]).read_bytes()[:4] == b"\x89PNG" and Path(out["sigma_dir"]).is_dir()
