"""The NumPy inference path (reproflow.nmr.numpy_net) against Keras, and the
command line without TensorFlow."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nmrglue as ng
import numpy as np
import pytest

from reproflow.errors import ReproflowError
from reproflow.nmr import io, numpy_net, shipped, simulate


@pytest.fixture(scope="module")
def arrays():
    return simulate.simulate_set(5, 1, simulate.SimConfig(n1=32, n2=128, peaks=48), 0.5)


def test_shipped_cascade_and_sigma_equal_keras(arrays):
    from reproflow.nmr import models

    paths = sorted(shipped.WEIGHTS.glob("stage*.keras"))
    keras_stages = models.prepare([models.load(str(p)) for p in paths])
    numpy_stages = [numpy_net.load(p) for p in paths]
    assert [n.parameters for n in numpy_stages] == [m.count_params() for m in keras_stages]
    for mode in ("echo", "antiecho"):
        measured = arrays[mode][0]
        expected = models.cascade(keras_stages, measured, mode, shipped.damping())
        got = numpy_net.cascade(numpy_stages, measured, mode, shipped.damping())
        assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max(), mode
    sigma_path = shipped.WEIGHTS / "sigma_network_echo.keras"
    expected = models.uncertainty(models.load(str(sigma_path)), arrays["echo"][0])
    got = numpy_net.uncertainty(numpy_net.load(sigma_path), arrays["echo"][0])
    assert np.abs(got - expected).max() <= 1e-5 * expected.max()


def test_whole_spectrum_pass_equals_the_network_on_the_wrap_padded_spectrum(arrays):
    # predict_full runs each layer as a circular convolution (its own reach wrapped
    # around) instead of one pass over the padded spectrum: the same products, the
    # same numbers
    from reproflow.nmr import tiling

    network = numpy_net.load(shipped.WEIGHTS / "stage0.keras")
    for spectrum in (arrays["echo"][0], np.random.default_rng(1).normal(size=(64, 192))):
        padded = numpy_net.forward(network, tiling.wrap_pad(spectrum).astype(np.float32))
        circular = numpy_net.forward_circular(network, spectrum.astype(np.float32))
        assert circular.shape == spectrum.shape
        assert np.abs(circular - padded).max() <= 1e-6 * np.abs(padded).max()


def test_biased_tiled_network_equals_keras(arrays, tmp_path):
    from reproflow.nmr import models

    model = models.wnn2d("wnn", width=6)
    model.set_weights([w + 0.05 for w in model.get_weights()])  # non-zero biases
    model.save(tmp_path / "wnn.keras")
    net = numpy_net.load(tmp_path / "wnn.keras")
    assert not net.bias_free
    expected = models.predict(model, arrays["echo"][0])
    got = numpy_net.predict(net, arrays["echo"][0])
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()


def test_loader_refuses_code_and_junk(tmp_path):
    import keras

    inputs = keras.Input((63, 127, 1))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lambda.keras")
    with pytest.raises(ReproflowError, match=r"lambda\.keras: layer 1 \(Lambda"):
        numpy_net.load(tmp_path / "lambda.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ReproflowError, match=r"junk\.keras: not a readable \.keras file"):
        numpy_net.load(tmp_path / "junk.keras")


def test_network_reconstruct_and_help_do_not_import_tensorflow(arrays, tmp_path):
    """`reproflow nmr reconstruct --method network --sigma ...` with the shipped
    weights, and the help texts, in a fresh interpreter: TensorFlow and Keras
    are never imported."""
    header = io.pipe_header(arrays["echo"][0].shape)
    ng.pipe.write(str(tmp_path / "echo.ft2"), dict(header), arrays["echo"][0], overwrite=True)
    script = f"""
import contextlib, io, sys
from reproflow.cli import main
for argv in (["nmr", "--help"], ["nmr", "reconstruct", "--help"], ["nmr", "process", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
assert main(["nmr", "reconstruct", "--input", {str(tmp_path / "echo.ft2")!r}, "--mode", "echo", "--method",
             "network", "--out", {str(tmp_path / "rec.ft2")!r}, "--sigma", {str(tmp_path / "s.ft2")!r}]) == 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print("imported:", heavy)
assert not heavy
"""
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert io.read_spectrum(tmp_path / "rec.ft2").data.shape == arrays["echo"][0].shape
