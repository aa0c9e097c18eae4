"""Thread limits for one job (call before Keras is imported)."""

from __future__ import annotations

import os

VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def limit_threads(n: int) -> None:
    """Keep TensorFlow, BLAS and scipy.fft to `n` threads so parallel jobs do
    not oversubscribe the cores."""
    for variable in VARIABLES:
        os.environ[variable] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
