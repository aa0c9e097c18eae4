"""`reproflow nmr quality`: pSQ of a reconstruction, as the pipeline scores it."""

import argparse
import shutil

import nmrglue as ng
import numpy as np
import pytest

from reproflow.errors import ReproflowError
from reproflow.nmr import cli, evaluate, io, numpy_net, score, shipped, simulate, ve


def run(*argv: str) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    parser.parse_args(list(argv)).func(parser.parse_args(list(argv)))


def printed_psq(out: str) -> float:
    return float(out.split("pSQ ")[1].split()[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two 64 x 256 spectra, clean (SNR 3000) and noisy (SNR 10), as echo,
    anti-echo and NUS inputs."""
    root = tmp_path_factory.mktemp("quality")
    cfg = simulate.SimConfig(n1=32, n2=128, peaks=48)
    for name, snr in (("clean", 3000.0), ("noisy", 10.0)):
        arrays = simulate.simulate_set(2, 1, cfg, 0.5, {"snr": [snr, snr]})
        header = io.pipe_header(arrays["reference"][0].shape)
        for mode in ("echo", "antiecho", "nus"):
            ng.pipe.write(str(root / f"{name}_{mode}.ft2"), dict(header), arrays[mode][0], overwrite=True)
        np.savetxt(root / f"{name}.nuslist", simulate.schedule_indices(arrays["schedules"][0]), fmt="%d")
    return root


@pytest.mark.parametrize(("method", "mode"), [("network", "echo"), ("ist", "antiecho"), ("ist", "nus")])
def test_psq_is_the_pipelines_and_ranks_noise(files, tmp_path, capsys, method, mode):
    scores = {}
    for name in ("clean", "noisy"):
        extra = ["--schedule", str(files / f"{name}.nuslist")] if mode == "nus" else []
        run("nmr", "reconstruct", "--input", str(files / f"{name}_{mode}.ft2"), "--mode", mode, "--method", method,
            "--out", str(tmp_path / f"{name}.ft2"), *extra)
        run("nmr", "quality", "--input", str(files / f"{name}_{mode}.ft2"), "--mode", mode, "--method", method,
            "--reconstruction", str(tmp_path / f"{name}.ft2"), "--sigma", str(tmp_path / f"{name}_sigma.ft2"), *extra)
        scores[name] = printed_psq(capsys.readouterr().out)
        # the pipeline's computation: pSQ (evaluate.psq) of the method's sigma network on its input
        # (anti-echo conjugated); the sigma file: that sigma calibrated against mu (shipped beside it)
        key = {"network": "network_echo", "ist": "ist_nus" if mode == "nus" else "ist_echo"}[method]
        measured = io.read_spectrum(files / f"{name}_{mode}.ft2").data
        flip = ve.flip_t1 if mode == "antiecho" else (lambda x: x)
        model = shipped.WEIGHTS / f"sigma_{key}.keras"
        mu = io.read_spectrum(tmp_path / f"{name}.ft2").data
        calibration = score.load_calibration(model)
        assert score.calibration_path(model).exists()  # shipped beside every network
        sigma = flip(numpy_net.uncertainty(numpy_net.load(model), flip(measured)))
        assert scores[name] == pytest.approx(evaluate.psq(sigma, mu), rel=2e-3)
        written = io.read_spectrum(tmp_path / f"{name}_sigma.ft2").data
        assert np.allclose(written, calibration.apply(sigma, mu), rtol=1e-5, atol=1e-8)
    assert scores["noisy"] > scores["clean"], scores  # a noisier input scores worse


def test_quality_reconstructs_when_not_given_one(files, capsys):
    run("nmr", "quality", "--input", str(files / "clean_echo.ft2"), "--method", "ist", "--iterations", "50")
    assert printed_psq(capsys.readouterr().out) > 0


def test_quality_refuses(files, tmp_path):
    with pytest.raises(ReproflowError, match="use --method ist for NUS"):
        run("nmr", "quality", "--input", str(files / "clean_nus.ft2"), "--mode", "nus", "--method", "network")
    with pytest.raises(ReproflowError, match="input"):
        run("nmr", "quality", "--input", str(files / "clean_echo.ft2"), "--method", "ist",
            "--sigma", str(files / "clean_echo.ft2"))
    # the sigma spectrum is never written over the uncertainty network or its calibration, or
    # into the shipped weights (was: `--sigma-model mine.keras --sigma mine.keras` replaced the model)
    model = tmp_path / "mine.keras"
    shutil.copyfile(cli.WEIGHTS / "sigma_ist_echo.keras", model)
    for sigma in (model, tmp_path / "mine.calibration.json", cli.WEIGHTS / "sigma_ist_echo.keras"):
        before = sigma.read_bytes() if sigma.exists() else None
        option = ["--sigma-model", str(model)] if sigma.parent == tmp_path else []
        with pytest.raises(ReproflowError, match="never writes"):
            run("nmr", "quality", "--input", str(files / "clean_echo.ft2"), "--method", "ist", *option,
                "--sigma", str(sigma))
        assert (sigma.read_bytes() if sigma.exists() else None) == before
    small = tmp_path / "small.ft2"
    ng.pipe.write(str(small), io.pipe_header((64, 128)), np.ones((64, 128), np.float32), overwrite=True)
    with pytest.raises(ReproflowError, match="small.ft2: shape 64 x 128"):
        run("nmr", "quality", "--input", str(files / "clean_echo.ft2"), "--method", "ist",
            "--reconstruction", str(small))
