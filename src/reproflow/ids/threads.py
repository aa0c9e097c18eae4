"""Thread limits for one training job (no Keras import at module level)."""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def limit_threads(n: int) -> None:
    """Keep TensorFlow and BLAS to `n` threads so that parallel Snakemake jobs do
    not oversubscribe the cores. Call before Keras is first imported."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
