"""`reproflow nmr process`: raw echo/anti-echo data simulated in the time
domain from peak lists -> reference, echo-only and anti-echo-only spectra."""

import argparse

import nmr_raw
import nmrglue as ng
import numpy as np
import pytest

from reproflow.errors import ReproflowError
from reproflow.nmr import cli, io, process, simulate, ve

CFG = simulate.SimConfig(n1=32, n2=128, peaks=24)


def run(*argv: str) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    args.func(args)


def r(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def peaks() -> simulate.Peaks:
    return simulate.random_peaks(np.random.default_rng(7), CFG)


@pytest.fixture(scope="module")
def pn(peaks) -> tuple[np.ndarray, np.ndarray]:
    """Noisy P- and N-type data (SNR 1000), no phase error."""
    return nmr_raw.pn_data(peaks, CFG, np.random.default_rng(3))


def process_files(tmp_path, source, *extra):
    out = {name: tmp_path / f"{name}.ft2" for name in ("reference", "echo", "antiecho")}
    run("nmr", "process", "--input", str(source), *[a for n, p in out.items() for a in (f"--{n}", str(p))], *extra)
    # io.read_spectrum: what reconstruct reads (2D, frequency domain, P1 = 0 in the header)
    return {name: io.read_spectrum(path).data.astype(float) for name, path in out.items()}


@pytest.mark.parametrize("stored", ["P first", "N first"])
@pytest.mark.parametrize("f1_sign", [1, -1])
def test_each_half_is_the_ve_masked_pair(tmp_path, peaks, pn, stored, f1_sign, capsys):
    """For both storage orders and both F1 sign conventions, the processed echo
    (anti-echo) file equals the VE echo (anti-echo) mask of the processed pair,
    as `reconstruct --mode echo|antiecho` assumes; with the matching sign the
    reference is the simulator's pure-absorption spectrum of the peaks, with
    the other it is that spectrum F1-mirrored."""
    p, n = pn
    rows = nmr_raw.interleave(p, n) if stored == "P first" else nmr_raw.interleave(n, p)
    nmr_raw.write_pipe_fid(tmp_path / "raw.fid", rows)
    out = process_files(tmp_path, tmp_path / "raw.fid", "--f1-sign", str(f1_sign), "--p0", "0", "0")
    assert r(out["echo"], ve.echo(out["reference"])) >= 0.9995
    assert r(out["antiecho"], ve.antiecho(out["reference"])) >= 0.9995
    assert np.abs(out["echo"] + out["antiecho"] - out["reference"]).max() < 1e-5 * np.abs(out["reference"]).max()
    truth = simulate.reference_spectrum(peaks, CFG)
    matching = (stored == "P first") == (f1_sign == 1)
    assert r(out["reference"], truth if matching else ve.flip_t1(truth)) > 0.999
    if matching:  # the P-type FIDs make the echo: the simulator's echo spectrum
        assert r(out["echo"], simulate.echo_spectrum(peaks, CFG)) > 0.999
    first_is = "echo" if f1_sign == 1 else "anti-echo"
    assert f"the first FID of each pair is the {first_is}" in capsys.readouterr().out


def test_bruker_ser_processes_like_the_nmrpipe_fid(tmp_path, peaks, capsys):
    """nmrglue writes the same P/N data (with F2 30 and F1 -50 degree phase
    errors) as a Bruker experiment and as an NMRPipe FID: same phases
    estimated, same spectra, same ppm axes."""
    p, n = nmr_raw.pn_data(peaks, CFG, np.random.default_rng(4), phases_deg=(30.0, -50.0))
    rows = nmr_raw.interleave(p, n)
    nmr_raw.write_bruker(tmp_path / "exp", rows)
    nmr_raw.write_pipe_fid(tmp_path / "raw.fid", rows)
    spectra, printed = {}, {}
    for route, source in (("bruker", tmp_path / "exp"), ("pipe", tmp_path / "raw.fid")):
        (tmp_path / route).mkdir()
        spectra[route] = process_files(tmp_path / route, source)
        printed[route] = capsys.readouterr().out.splitlines()[0]
    assert printed["bruker"] == printed["pipe"]
    f2, f1 = (float(v) for v in printed["pipe"].split("--p0 ")[1].rstrip(")").split())
    assert f2 == pytest.approx(-30.0, abs=1.0) and f1 == pytest.approx(50.0, abs=1.0)
    for name in ("reference", "echo", "antiecho"):
        scale = np.abs(spectra["pipe"][name]).max()
        assert np.abs(spectra["bruker"][name] - spectra["pipe"][name]).max() < 1e-5 * scale
    truth = simulate.reference_spectrum(peaks, CFG)
    assert r(spectra["bruker"]["reference"], truth) > 0.999
    headers = [ng.pipe.read(str(tmp_path / route / "reference.ft2"))[0] for route in ("bruker", "pipe")]
    for key in ("FDF1SW", "FDF2SW", "FDF1OBS", "FDF2OBS", "FDF1CAR", "FDF2CAR", "FDF1ORIG", "FDF2ORIG"):
        assert headers[0][key] == pytest.approx(headers[1][key], rel=1e-6), key
    assert headers[0]["FDF1P0"] == pytest.approx(50.0, abs=1.0) and headers[0]["FDF1P1"] == 0.0


def test_ppm_axes_put_a_peak_where_its_frequency_is(tmp_path):
    """One peak 1000 Hz above the 1H carrier and 300 Hz above the 15N one lands
    at (O1 + offset) / SFO1 ppm on both axes of the output (within a point)."""
    sw2, sfo2, o2, _ = nmr_raw.F2_AXIS
    sw1, sfo1, o1, _ = nmr_raw.F1_AXIS
    t1, t2 = np.arange(32)[:, None], np.arange(128)[None, :]
    decay = np.exp(-t1 / 40.0 - t2 / 100.0)
    p = np.exp(2j * np.pi * (300.0 / sw1 * t1 + 1000.0 / sw2 * t2)) * decay
    n = np.exp(2j * np.pi * (-300.0 / sw1 * t1 + 1000.0 / sw2 * t2)) * decay
    nmr_raw.write_bruker(tmp_path / "exp", nmr_raw.interleave(p, n))
    run("nmr", "process", "--input", str(tmp_path / "exp"), "--reference", str(tmp_path / "ref.ft2"))
    dic, data = ng.pipe.read(str(tmp_path / "ref.ft2"))
    row, col = np.unravel_index(np.argmax(data), data.shape)
    for axis, index, (sw, sfo, o, offset) in ((0, row, (sw1, sfo1, o1, 300.0)), (1, col, (sw2, sfo2, o2, 1000.0))):
        uc = ng.pipe.make_uc(dic, data, dim=axis)
        assert uc.ppm(index) == pytest.approx((o + offset) / sfo, abs=sw / sfo / data.shape[axis])
    assert dic["FDF2LABEL"] == "1H" and dic["FDF1LABEL"] == "15N"


def test_process_refuses_what_it_cannot_split(tmp_path, pn):
    p, n = pn
    rows = nmr_raw.interleave(p, n)
    nmr_raw.write_bruker(tmp_path / "states", rows, fnmode=4)
    with pytest.raises(ReproflowError, match=r"acqu2s: FnMODE = 4 \(States\); expected 6 \(Echo-Antiecho\)"):
        process.read_raw(tmp_path / "states")
    cos, sin = (p + n) / 2, -1j * (p - n) / 2  # States data given as if it were echo/anti-echo
    nmr_raw.write_pipe_fid(tmp_path / "states.fid", nmr_raw.interleave(cos, sin))
    with pytest.raises(ReproflowError, match="States data"):
        process.read_raw(tmp_path / "states.fid")
    nmr_raw.write_pipe_fid(tmp_path / "raw.fid", rows)
    with pytest.raises(ReproflowError, match="input"):
        run("nmr", "process", "--input", str(tmp_path / "raw.fid"), "--echo", str(tmp_path / "raw.fid"))
    with pytest.raises(ReproflowError, match="nothing to write"):
        run("nmr", "process", "--input", str(tmp_path / "raw.fid"))
    assert not list(tmp_path.glob("*.ft2")) and not list(tmp_path.glob(".*partial*"))
