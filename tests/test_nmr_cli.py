"""`reproflow nmr reconstruct` end to end on small NMRPipe files."""

import argparse
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nmrglue as ng  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from reproflow.errors import ReproflowError  # noqa: E402
from reproflow.nmr import cli, io, metrics, simulate, ve  # noqa: E402


def run(*argv: str) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    args.func(args)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("nmr")
    arrays = simulate.simulate_set(3, 1, simulate.SimConfig(n1=32, n2=128, peaks=24), 0.5)
    header = io.pipe_header(arrays["reference"][0].shape)
    for name in ("reference", "echo", "antiecho", "nus"):
        ng.pipe.write(str(root / f"{name}.ft2"), dict(header), arrays[name][0], overwrite=True)
    np.savetxt(root / "nuslist", simulate.schedule_indices(arrays["schedules"][0]), fmt="%d")
    return root


@pytest.mark.parametrize("mode", ["echo", "antiecho", "nus"])
def test_ist_reconstruction_writes_nmrpipe(files, mode):
    out = files / f"out_{mode}.ft2"
    extra = ["--schedule", str(files / "nuslist")] if mode == "nus" else []
    run("nmr", "reconstruct", "--input", str(files / f"{mode}.ft2"), "--mode", mode, "--method", "ist",
        "--out", str(out), "--iterations", "100", *extra)
    reference = io.read_spectrum(files / "reference.ft2").data
    assert metrics.quality(reference, io.read_spectrum(out).data)["r"] > 0.97


# (SF MHz, SW_p Hz, OFFSET ppm of the first point, AXNUC) of procs (F2) and proc2s (F1): a 1H-15N HSQC
AXES = {"procs": (600.13, 8000.0, 12.5, "1H"), "proc2s": (60.81, 2000.0, 135.0, "15N")}


def bruker_procs(size: int, procs: str) -> dict[str, Any]:
    """A TopSpin-like procs file: int32 points scaled by 2**-NC_proc, stored in
    XDIM-point submatrices (a quarter of the axis, so nmrglue must reorder)."""
    sf, sw_p, offset, nucleus = AXES[procs]
    return {"_coreheader": ["##TITLE= Parameter file", "##JCAMPDX= 5.0"], "_comments": [],
            "SI": size, "XDIM": size // 4, "NC_proc": -28, "BYTORDP": 0, "DTYPP": 0, "PHC0": 0.0, "PHC1": 0.0,
            "MC2": 3, "SF": sf, "SW_p": sw_p, "OFFSET": offset, "AXNUC": nucleus}


@pytest.fixture(scope="module")
def bruker(files: Path) -> Path:
    """The echo and anti-echo of `files` as Bruker experiments <mode>/pdata/1
    (2rr, procs, proc2s), written by nmrglue."""
    for mode in ("echo", "antiecho"):
        _, data = ng.pipe.read(str(files / f"{mode}.ft2"))
        dic = {"procs": bruker_procs(data.shape[1], "procs"), "proc2s": bruker_procs(data.shape[0], "proc2s")}
        ng.bruker.write_pdata(str(files / "bruker" / mode), dic, data.astype(np.float64), scale_data=True,
                              write_procs=True, pdata_folder=1)
    return files / "bruker"


@pytest.mark.parametrize(("method", "mode"), [("ist", "echo"), ("network", "antiecho")])
def test_bruker_input_reconstructs_like_nmrpipe(files, bruker, tmp_path, method, mode):
    """A Bruker experiment folder is the same spectrum as its NMRPipe file, so it
    gives the same reconstruction (shipped weights for the network), and the
    output keeps the Bruker ppm axes so it overlays the input."""
    pipe_input = files / f"{mode}.ft2"
    # NC_proc undone: equal up to the int32 rounding (2**-28 of a spectrum with max 1)
    assert np.abs(io.read_spectrum(bruker / mode).data - io.read_spectrum(pipe_input).data).max() < 1e-7
    out = {}
    for name, source in (("bruker", bruker / mode), ("pipe", pipe_input)):
        extra = ["--iterations", "100"] if method == "ist" else []
        run("nmr", "reconstruct", "--input", str(source), "--mode", mode, "--method", method, *extra,
            "--out", str(tmp_path / f"{name}.ft2"), "--sigma", str(tmp_path / f"{name}_sigma.ft2"))
        out[name] = ng.pipe.read(str(tmp_path / f"{name}.ft2"))
        out[f"{name}_sigma"] = ng.pipe.read(str(tmp_path / f"{name}_sigma.ft2"))[1]
    dic, rec = out["bruker"]
    reference = ng.pipe.read(str(files / "reference.ft2"))[1]
    assert rec.shape == reference.shape
    r = metrics.quality(reference, rec)["r"]
    assert r == pytest.approx(metrics.quality(reference, out["pipe"][1])["r"], abs=1e-4) and r > 0.97, r
    assert np.abs(rec - out["pipe"][1]).max() < 1e-4 * np.abs(reference).max()
    assert (out["bruker_sigma"] > 0).all()
    assert np.abs(out["bruker_sigma"] - out["pipe_sigma"]).max() < 1e-4 * out["pipe_sigma"].max()
    for axis, procs in ((1, "procs"), (0, "proc2s")):
        sf, sw_p, offset, nucleus = AXES[procs]
        ppm = ng.pipe.make_uc(dic, rec, dim=axis)
        assert ppm.ppm(0) == pytest.approx(offset, abs=1e-4)  # OFFSET: the first point's ppm
        assert ppm.ppm(0) - ppm.ppm(rec.shape[axis]) == pytest.approx(sw_p / sf, rel=1e-5)  # SW_p Hz wide
        assert dic[f"FDF{axis + 1}LABEL"] == nucleus and dic[f"FDF{axis + 1}OBS"] == pytest.approx(sf, rel=1e-6)


def test_network_with_sigma(files, tmp_path):
    from reproflow.nmr import models

    (tmp_path / "models").mkdir()  # outputs are never written into an input folder
    for k in range(2):
        models.wnn2d("wnn_bf", width=4).save(tmp_path / f"models/stage{k}.keras")
    models.uncertainty_net(width=4).save(tmp_path / "sigma.keras")
    run("nmr", "reconstruct", "--input", str(files / "antiecho.ft2"), "--mode", "antiecho", "--method", "network",
        "--models", str(tmp_path / "models"), "--out", str(tmp_path / "o.ft2"), "--sigma", str(tmp_path / "s.ft2"),
        "--sigma-model", str(tmp_path / "sigma.keras"))
    out = io.read_spectrum(tmp_path / "o.ft2").data
    measured = io.read_spectrum(files / "antiecho.ft2").data
    assert np.abs(ve.antiecho(out) - measured).max() < 1e-3 * np.abs(measured).max()
    assert (io.read_spectrum(tmp_path / "s.ft2").data > 0).all()


def test_clear_errors(files, tmp_path):
    with pytest.raises(ReproflowError, match="schedule"):
        run("nmr", "reconstruct", "--input", str(files / "nus.ft2"), "--mode", "nus", "--method", "ist",
            "--out", str(tmp_path / "o.ft2"))
    (tmp_path / "bad").write_text("1 2 99\n")
    with pytest.raises(ReproflowError, match="between 0 and 31"):
        run("nmr", "reconstruct", "--input", str(files / "nus.ft2"), "--mode", "nus", "--method", "ist",
            "--schedule", str(tmp_path / "bad"), "--out", str(tmp_path / "o.ft2"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReproflowError, match="no trained cascade"):
        run("nmr", "reconstruct", "--input", str(files / "echo.ft2"), "--mode", "echo", "--method", "network",
            "--models", str(tmp_path / "empty"), "--out", str(tmp_path / "o.ft2"))
    odd = tmp_path / "odd.ft2"
    data = ve.echo(np.random.default_rng(0).normal(size=(48, 128))).astype(np.float32)
    ng.pipe.write(str(odd), io.pipe_header(data.shape), data, overwrite=True)
    with pytest.raises(ReproflowError, match="multiples of 32"):
        run("nmr", "reconstruct", "--input", str(odd), "--mode", "echo", "--method", "network",
            "--models", str(tmp_path / "empty"), "--out", str(tmp_path / "o.ft2"))
    cube = tmp_path / "cube.ft3"
    ng.pipe.write(str(cube), io.pipe_header((4, 8, 16)), np.zeros((4, 8, 16), np.float32), overwrite=True)
    with pytest.raises(ReproflowError, match="3D"):
        run("nmr", "reconstruct", "--input", str(cube), "--mode", "echo", "--method", "ist",
            "--out", str(tmp_path / "o.ft2"))


def test_shipped_weights_reconstruct_by_default(tmp_path):
    """The cascade and uncertainty networks shipped in the package, made by the
    pipeline (weights.json says with which config and commit), are the default."""
    from reproflow.nmr import shipped

    info = shipped.manifest()
    assert info["git"]["commit"] and info["nmr_config"]["network"]["stages"] == info["stages"]
    assert sorted(p.name for p in shipped.WEIGHTS.glob("*.keras")) == sorted(info["files_sha256"])
    arrays = simulate.simulate_set(11, 1, simulate.SimConfig(n1=64, n2=256, peaks=128), 0.5)
    header = io.pipe_header(arrays["reference"][0].shape)
    for mode in ("echo", "antiecho"):
        source = tmp_path / f"{mode}.ft2"
        ng.pipe.write(str(source), dict(header), arrays[mode][0], overwrite=True)
        out, sigma = tmp_path / f"rec_{mode}.ft2", tmp_path / f"sigma_{mode}.ft2"
        run("nmr", "reconstruct", "--input", str(source), "--mode", mode, "--method", "network",
            "--out", str(out), "--sigma", str(sigma))
        plain = metrics.quality(arrays["reference"][0], arrays[mode][0])["r"]
        rec = metrics.quality(arrays["reference"][0], io.read_spectrum(out).data)["r"]
        assert plain < 0.8 and rec > 0.97, (mode, plain, rec)
        assert (io.read_spectrum(sigma).data > 0).all()


def test_ship_copies_a_run_with_its_manifest(files, tmp_path):
    """scripts/nmr_ship_weights.py's step: a run's models and config into a
    weights folder that `--models` (and the default) read, damping included."""
    import json

    from reproflow.nmr import models, paths, shipped

    run_dir = tmp_path / "run"
    nmr = {"network": {"stages": 2, "damping": 0.1}, "uncertainty": {"methods": ["network_echo"]}}
    (run_dir / paths.models("wnn_bf")).mkdir(parents=True)
    (run_dir / paths.sigma("network_echo")).parent.mkdir(parents=True)
    for k in range(2):
        models.wnn2d("wnn_bf", width=4).save(run_dir / paths.model("wnn_bf", k))
    models.uncertainty_net(width=4).save(run_dir / paths.sigma("network_echo"))
    (run_dir / paths.sigma("network_echo", ".calibration.json")).write_text('{"a": 1.5, "b": 0.2, "c": 0.0}')
    (run_dir / paths.LAYOUT.metrics).write_text(json.dumps(
        {"options": nmr, "config_hash": "abc", "sets": {"malt1": {"table": {"network_echo": {"r": 0.9}}}}}))
    out = tmp_path / "weights"
    info = shipped.ship(run_dir, architecture="wnn_bf", command="snakemake ...", repo=tmp_path, commit="f" * 40,
                        out=out)
    assert sorted(info["files_sha256"]) == ["sigma_network_echo.calibration.json", "sigma_network_echo.keras",
                                            "stage0.keras", "stage1.keras"]
    from reproflow.nmr import score

    assert score.load_calibration(out / "sigma_network_echo.keras") == score.Calibration(1.5, 0.2, 0.0)
    assert shipped.manifest(out)["git"]["commit"] == "f" * 40 and shipped.damping(out) == 0.1
    assert info["results"]["malt1"]["table"]["network_echo"]["r"] == 0.9
    run("nmr", "reconstruct", "--input", str(files / "echo.ft2"), "--mode", "echo", "--method", "network",
        "--models", str(out), "--out", str(tmp_path / "o.ft2"))
    assert io.read_spectrum(tmp_path / "o.ft2").data.shape == (64, 256)


def test_git_state_names_the_changed_files(tmp_path):
    import subprocess

    from reproflow.nmr import shipped

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    (tmp_path / "a.py").write_text("a\n")
    (tmp_path / "b.py").write_text("b\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "x")
    (tmp_path / "a.py").write_text("changed\n")  # " M a.py": the status line starts with a space
    (tmp_path / "new.py").write_text("new\n")
    state = shipped.git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["uncommitted"] == ["a.py", "new.py"]


def test_mode_auto_picks_the_half_and_says_so(files, tmp_path, caplog):
    """--mode auto on anti-echo data reconstructs as --mode antiecho, and logs
    what it measured; the wrong mode is refused, naming the right one."""
    source = str(files / "antiecho.ft2")
    with caplog.at_level("INFO", logger="reproflow"):
        run("nmr", "reconstruct", "--input", source, "--mode", "auto", "--method", "ist", "--iterations", "20",
            "--out", str(tmp_path / "auto.ft2"))
    assert "looks like antiecho" in caplog.text and "0.0% of its virtual-echo power" in caplog.text
    run("nmr", "reconstruct", "--input", source, "--mode", "antiecho", "--method", "ist", "--iterations", "20",
        "--out", str(tmp_path / "named.ft2"))
    assert np.array_equal(io.read_spectrum(tmp_path / "auto.ft2").data, io.read_spectrum(tmp_path / "named.ft2").data)
    with pytest.raises(ReproflowError, match="look like antiecho .*use --mode antiecho"):
        run("nmr", "reconstruct", "--input", source, "--mode", "echo", "--method", "ist",
            "--out", str(tmp_path / "wrong.ft2"))
    with pytest.raises(ReproflowError, match="holding both halves"):
        run("nmr", "reconstruct", "--input", str(files / "reference.ft2"), "--mode", "echo", "--method", "ist",
            "--out", str(tmp_path / "wrong.ft2"))
    assert not (tmp_path / "wrong.ft2").exists()


def test_a_failing_sigma_leaves_no_output_and_keeps_the_old_one(files, tmp_path):
    """--out is written only with --sigma, after both are computed: a sigma
    model that is no WNN-2D (here a Dense network) fails after the
    reconstruction, and the earlier --out stays as it was."""
    import keras

    dense = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    dense.save(tmp_path / "dense.keras")
    out = tmp_path / "out.ft2"
    out.write_bytes(b"an earlier result")
    with pytest.raises(ReproflowError, match="dense.keras: layer 1 .Dense dense. is not an unpadded.* expected a WNN-2D model"):
        run("nmr", "reconstruct", "--input", str(files / "echo.ft2"), "--mode", "echo", "--method", "ist",
            "--iterations", "5", "--out", str(out), "--sigma", str(tmp_path / "s.ft2"),
            "--sigma-model", str(tmp_path / "dense.keras"))
    assert out.read_bytes() == b"an earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.keras", "out.ft2"]


def test_help_says_the_echo_convention_without_starting_tensorflow():
    import subprocess
    import sys

    code = ("import sys\nfrom reproflow import cli\ntry:\n    cli.main(['nmr', 'reconstruct', '--help'])\n"
            "except SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOADED []" in result.stdout, result.stdout[-500:]
    text = " ".join(result.stdout.split())
    assert all(words in text for words in ("echo (P-type", "F1 axis orientation", "--mode auto picks")), text


def test_network_run_shows_no_tensorflow_start_up_noise(files, tmp_path):
    """TensorFlow's C++ start-up lines (absl, "could not find cuda drivers") do
    not reach the user's terminal; the command's own log does."""
    import subprocess
    import sys

    from reproflow.nmr import models

    (tmp_path / "models").mkdir()
    models.wnn2d("wnn_bf", width=4).save(tmp_path / "models/stage0.keras")
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "reproflow.cli", "nmr", "reconstruct", "--input",
                             str(files / "echo.ft2"), "--mode", "echo", "--method", "network", "--models",
                             str(tmp_path / "models"), "--out", str(tmp_path / "o.ft2")],
                            capture_output=True, text=True, timeout=240, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "wrote" in result.stderr
    for noise in ("absl", "cuda", "oneDNN", "cpu_feature_guard", "I0000"):
        assert noise not in result.stderr, result.stderr[-2000:]
