"""Inference of reproflow's WNN-2D networks (.keras files) with NumPy alone.

A cascade stage is five unpadded, dilated Conv2D layers (30,600 parameters):
importing TensorFlow to run it costs several times the inference itself.
This module reads the model's config.json and weights (model.weights.h5)
from the .keras zip without Keras, accepts only what reproflow saves (an
input, Conv2D layers with ReLU or no activation, and the `Sigma` head: no
code is ever loaded), and runs each layer as matrix products over blocks of points
(float32, channels last, im2col). Outputs equal Keras' to float32 rounding
(tests/test_nmr_numpy_net.py); `reproflow nmr reconstruct` and `nmr quality`
use it.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import threadpoolctl

from reproflow.errors import ReproflowError
from reproflow.nmr import threads, tiling

THREADS = threads.budget()


@dataclass(frozen=True)
class Conv:
    kernel: np.ndarray  # (kh, kw, cin, cout) float32
    bias: np.ndarray | None
    dilation: tuple[int, int]
    relu: bool


@dataclass(frozen=True)
class Network:
    convs: tuple[Conv, ...]
    sigma_head: bool  # sigma = 1e-3 + relu(0.01 x)
    source: str

    @property
    def bias_free(self) -> bool:
        return all(conv.bias is None for conv in self.convs)

    @property
    def parameters(self) -> int:
        return sum(c.kernel.size + (0 if c.bias is None else c.bias.size) for c in self.convs)


def _refuse(path: Path, what: str) -> ReproflowError:
    return ReproflowError(f"{path}: {what}; expected a WNN-2D model saved by reproflow (.keras: Conv2D layers "
                          "and the Sigma head only)")


def load(path: str | Path) -> Network:
    """A reproflow .keras model as NumPy arrays (config and weights checked)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise _refuse(path, f"not a readable .keras file ({error})") from error
    import io

    import h5py

    layers = config.get("config", {}).get("layers", []) if isinstance(config, dict) else []
    convs, sigma = [], False
    try:
        with h5py.File(io.BytesIO(weights), "r") as store:
            for index, layer in enumerate(layers):
                kind, options = layer.get("class_name"), layer.get("config", {})
                if kind == "InputLayer":
                    continue
                if kind == "Sigma" and index == len(layers) - 1:
                    sigma = True
                    continue
                if kind != "Conv2D" or options.get("padding") != "valid" or options.get("strides") != [1, 1] \
                        or options.get("activation") not in ("relu", "linear") or options.get("groups", 1) != 1:
                    raise _refuse(path, f"layer {index} ({kind} {options.get('name')}) is not an unpadded, "
                                  "unstrided Conv2D with ReLU or no activation")
                group = store["layers"]["conv2d" + (f"_{len(convs)}" if convs else "")]["vars"]
                kernel = np.asarray(group["0"], dtype=np.float32)
                bias = np.asarray(group["1"], dtype=np.float32) if options.get("use_bias") else None
                if kernel.ndim != 4 or list(kernel.shape[:2]) != list(options.get("kernel_size")) \
                        or kernel.shape[3] != options.get("filters"):
                    raise _refuse(path, f"layer {index}: kernel of shape {kernel.shape} does not match its config")
                if not np.isfinite(kernel).all() or (bias is not None and not np.isfinite(bias).all()):
                    raise _refuse(path, f"layer {index}: NaN or infinite weights")
                convs.append(Conv(kernel, bias, tuple(options.get("dilation_rate", (1, 1))),
                                  options.get("activation") == "relu"))
    except (KeyError, OSError, TypeError, ValueError) as error:
        raise _refuse(path, f"unexpected weights file ({error!r})") from error
    if not convs or convs[0].kernel.shape[2] != 1 or convs[-1].kernel.shape[3] != 1:
        raise _refuse(path, "not a one-channel-in, one-channel-out convolutional network")
    return Network(tuple(convs), sigma, str(path))


# Activations are kept flat and channels last, one row of `width` points after
# the other, with `slack` zero points after the last row (at least the widest
# tap reach along a row, dilation x (kernel width - 1)): a kernel tap is then
# one offset, its view of a block of outputs a contiguous slab, and every
# block written is contiguous too (strided blocks cost TLB misses). Outputs
# past a row's valid width wrap into the next row; they are computed and never
# used (they only ever feed such columns).
BLOCK = 2048  # output points per product: the gathered taps stay in the core's cache


def conv2d(x: np.ndarray, rows: int, width: int, slack: int, conv: Conv, buffer: np.ndarray | None = None
           ) -> tuple[np.ndarray, int]:
    """Unpadded dilated convolution on flat channels-last activations:
    (rows x width + slack, Cin) -> (rows' x width + slack, Cout), rows' = rows -
    dilation (kernel height - 1). BLOCK outputs at a time, their kernel taps
    gathered side by side (im2col) for one (BLOCK x taps*Cin) @ (taps*Cin x
    Cout) product; the blocks shared among one thread per core (the products
    are too narrow for BLAS to use more than one). The output goes to the
    start of `buffer` (flat float32, large enough) when given."""
    kh, kw, cin, cout = conv.kernel.shape
    dh, dw = conv.dilation
    if dw * (kw - 1) > slack:
        raise ValueError(f"kernel reach {dw * (kw - 1)} exceeds the {slack}-point slack")
    out_rows = rows - dh * (kh - 1)
    points = out_rows * width
    offsets = [i * dh * width + j * dw for i in range(kh) for j in range(kw)]
    taps = len(offsets)
    kernel = conv.kernel.reshape(taps * cin, cout)  # (kh, kw, cin) row-major: the order of the gathered taps
    size = (points + slack) * cout
    out = (np.empty(size, np.float32) if buffer is None else buffer[:size]).reshape(points + slack, cout)
    out[points:] = 0.0
    starts = range(0, points, BLOCK)

    def blocks(first: int, step: int) -> None:
        columns = np.empty((BLOCK, taps * cin), np.float32)
        zeros = np.zeros((BLOCK, cout), np.float32)  # maximum with an array: several times faster than with 0.0
        for start in starts[first::step]:
            stop = min(start + BLOCK, points)
            count = stop - start
            for tap, offset in enumerate(offsets):
                columns[:count, tap * cin:(tap + 1) * cin] = x[start + offset:stop + offset]
            block = out[start:stop]
            np.matmul(columns[:count], kernel, out=block)
            if conv.bias is not None:
                block += conv.bias
            if conv.relu:
                np.maximum(block, zeros[:count], out=block)

    workers = min(THREADS, len(starts))
    if workers > 1:
        list(_pool().map(blocks, range(workers), [workers] * workers))
    else:
        blocks(0, 1)
    return out, out_rows


@functools.cache
def _blas() -> threadpoolctl.ThreadpoolController:
    return threadpoolctl.ThreadpoolController()  # finding the BLAS libraries takes ~15 ms: once


@functools.cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(THREADS, thread_name_prefix="numpy_net")


def forward(network: Network, x: np.ndarray) -> np.ndarray:
    """(H, W) -> (H - 31, W - 63): the network on one (padded) input."""
    rows, width = x.shape
    slack = max(conv.dilation[1] * (conv.kernel.shape[1] - 1) for conv in network.convs)
    flat = np.zeros((rows * width + slack, 1), np.float32)
    flat[:rows * width, 0] = x.reshape(-1)
    out_width = width - sum(conv.dilation[1] * (conv.kernel.shape[1] - 1) for conv in network.convs)
    # two buffers the layers write in turn: 100+ MB each for a 256 x 2048 spectrum, allocated once
    size = max(conv.kernel.shape[3] for conv in network.convs) * (rows * width + slack)
    buffers = [np.empty(size, np.float32), np.empty(size, np.float32)]
    with _blas().limit(limits=1, user_api="blas"):  # our threads, not BLAS's
        for index, conv in enumerate(network.convs):
            flat, rows = conv2d(flat, rows, width, slack, conv, buffers[index % 2])
    y = flat[:rows * width, 0].reshape(rows, width)[:, :out_width]
    return 1e-3 + np.maximum(0.01 * y, 0.0) if network.sigma_head else np.ascontiguousarray(y)


def forward_circular(network: Network, x: np.ndarray) -> np.ndarray:
    """(H, W) -> (H, W): the network on the wrap-padded input, as `forward` on
    `tiling.wrap_pad(x)` computes it, with every layer a circular convolution on
    the H x W torus: each layer's input gets only its own reach wrapped around
    (copied rows and columns) instead of the whole network's, about 10% fewer
    points for the three 50-channel layers."""
    rows, width = x.shape
    reaches = [(conv.dilation[0] * (conv.kernel.shape[0] - 1), conv.dilation[1] * (conv.kernel.shape[1] - 1))
               for conv in network.convs]
    slack = max(reach for _, reach in reaches)
    stride = width + slack  # a row and the wrapped copy of its first points (columns past those: unused)
    size = max(conv.kernel.shape[3] for conv in network.convs) * ((rows + max(r for r, _ in reaches)) * stride + slack)
    # zeros, not empty: the unused points are computed too, and stale memory could hold NaN or denormals
    buffers = [np.zeros(size, np.float32), np.zeros(size, np.float32)]
    flat = _wrapped(buffers[1], x[:, :, None].astype(np.float32), stride, reaches[0])
    with _blas().limit(limits=1, user_api="blas"):  # our threads, not BLAS's
        for index, conv in enumerate(network.convs):
            flat, _ = conv2d(flat, rows + reaches[index][0], stride, slack, conv, buffers[index % 2])
            if index + 1 < len(network.convs):
                grid = flat[:rows * stride].reshape(rows, stride, -1)[:, :width]
                flat = _wrapped(buffers[index % 2], grid, stride, reaches[index + 1])
    y = flat[:rows * stride, 0].reshape(rows, stride)[:, :width]
    # output (r, c) read the input from (r, c) on; `forward`'s from MARGIN before it
    return np.roll(y, (tiling.MARGIN[0][0], tiling.MARGIN[1][0]), axis=(0, 1))


def _wrapped(buffer: np.ndarray, grid: np.ndarray, stride: int, reach: tuple[int, int]) -> np.ndarray:
    """(rows, width, channels) laid flat in `buffer` (where it may already lie):
    rows of `stride` points, each row's first reach[1] points copied after it,
    the first reach[0] rows copied after the last, and zeros to the end."""
    rows, width, channels = grid.shape
    down, across = reach
    out = buffer[:((rows + down) * stride + stride - width) * channels].reshape(-1, channels)
    layout = out[:(rows + down) * stride].reshape(rows + down, stride, channels)
    if not np.shares_memory(layout, grid):
        layout[:rows, :width] = grid
    layout[:rows, width:width + across] = layout[:rows, :across]
    layout[rows:] = layout[:down]
    out[(rows + down) * stride:] = 0.0
    return out


def predict_full(network: Network, spectrum: np.ndarray) -> np.ndarray:
    """One pass over the wrap-padded spectrum (exact for bias-free networks)."""
    tiling.check_shape(spectrum.shape)
    scale = float(np.sqrt(np.mean(np.square(spectrum, dtype=np.float64)))) + tiling.EPS
    return forward_circular(network, spectrum / scale) * scale


TILES_PER_PASS = 32  # 100 MB of layer buffers


def predict_tiled(network: Network, spectrum: np.ndarray) -> np.ndarray:
    """Tile by tile, each 63 x 127 window divided by its norm and scaled back.

    The windows go through the network stacked one under the other, many in one
    pass: output row r of a window reads its input rows r..r+31 only, so its 32
    output rows are exactly the window's own (the rows between are not used).
    """
    windows = tiling.tiles(spectrum)
    norms = tiling.tile_norms(windows)
    height = tiling.TILE_IN[0]
    own_rows = (np.arange(TILES_PER_PASS)[:, None] * height + np.arange(tiling.TILE_OUT[0])).reshape(-1)
    out = np.empty((len(windows), *tiling.TILE_OUT), np.float32)
    for first in range(0, len(windows), TILES_PER_PASS):
        group = windows[first:first + TILES_PER_PASS] / norms[first:first + TILES_PER_PASS, None, None]
        stacked = forward(network, group.reshape(-1, tiling.TILE_IN[1]))
        out[first:first + len(group)] = stacked[own_rows[:len(group) * tiling.TILE_OUT[0]]].reshape(
            len(group), *tiling.TILE_OUT)
    return tiling.untile(out * norms[:, None, None], spectrum.shape)


def predict(network: Network, spectrum: np.ndarray) -> np.ndarray:
    return predict_full(network, spectrum) if network.bias_free else predict_tiled(network, spectrum)


def cascade(networks: list[Network], measured: np.ndarray, mode: str = "echo", damping_base: float = 0.05,
            schedule: np.ndarray | None = None, on_stage=None) -> np.ndarray:
    """`tiling.cascade` with these networks as the stages."""
    stages = [lambda estimate, net=net: predict(net, estimate) for net in networks]
    return tiling.cascade(stages, measured, mode, damping_base, schedule, on_stage)


def uncertainty(network: Network, method_input: np.ndarray) -> np.ndarray:
    """sigma per point from the assessed method's input (tiled, as in training)."""
    return predict_tiled(network, method_input)
