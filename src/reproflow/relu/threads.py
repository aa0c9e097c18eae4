"""Thread limits for one training job (no Keras import here)."""

from __future__ import annotations

import logging
import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def limit_threads(n: int) -> None:
    """Keep TensorFlow and BLAS to `n` threads, so parallel Snakemake jobs
    do not oversubscribe the cores. Call before Keras is imported."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: PLC0415  (after the variables are set)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415

        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # runtime already started: the variables above still hold
            logging.getLogger(__name__).warning("TensorFlow already initialised; thread limit from environment only")
