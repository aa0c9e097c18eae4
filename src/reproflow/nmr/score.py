"""pSQ, the reference-free quality score of a reconstruction, as `reproflow nmr
quality` computes it: the uncertainty network of the method (network echo,
IST echo, IST NUS) predicts sigma per point from the method's input spectrum;
pSQ is the median of sigma / max(reconstruction) over the points between 1%
and 100% of that maximum (`evaluate.psq`, as the pipeline scores it). Lower
is better; what values mean: README, "pSQ scale"."""

from __future__ import annotations

import numpy as np

from reproflow.nmr import numpy_net, ve

METHODS = ("network", "ist")


def sigma_key(method: str, mode: str) -> str:
    """The shipped uncertainty network for a method and input mode."""
    if method == "network":
        if mode == "nus":
            raise ValueError("the network reconstructs echo or anti-echo data, not NUS")
        return "network_echo"
    return "ist_nus" if mode == "nus" else "ist_echo"


def sigma_spectrum(network: numpy_net.Network, method_input: np.ndarray, mode: str) -> np.ndarray:
    """sigma per point; an anti-echo goes through the echo network conjugated along t1."""
    if mode == "antiecho":
        return ve.flip_t1(numpy_net.uncertainty(network, ve.flip_t1(method_input)))
    return numpy_net.uncertainty(network, method_input)


def psq(sigma: np.ndarray, reconstruction: np.ndarray) -> tuple[float, int]:
    """(pSQ, the number of points it is the median over)."""
    from reproflow.nmr import evaluate  # matplotlib: only here

    scale = float(np.max(reconstruction))
    points = int(np.count_nonzero((reconstruction >= evaluate.PSQ_LEVEL * scale) & (reconstruction <= scale)))
    return evaluate.psq(sigma, reconstruction), points
