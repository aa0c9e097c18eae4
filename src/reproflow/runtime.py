"""Glue for scripts run by Snakemake's `script:` directive."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from reproflow.errors import ReproflowError


def run_logged(main: Callable[[], None], log_path: str | Path) -> None:
    """Run `main` with logging to the rule's log file and to stderr.

    A ReproflowError ends the job with its message only (no traceback): the
    message already says which file or key is wrong and what was expected.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(log_path), logging.StreamHandler(sys.stderr)],
        force=True,
    )
    try:
        main()
    except ReproflowError as error:
        logging.getLogger("reproflow").error("%s", error)
        raise SystemExit(f"error: {error}") from None
    except MemoryError:
        # sizes claimed by files are checked before allocating; what is left is the config's scale
        message = (f"out of memory (see {log_path}); give the job more memory (the profile's mem_mb) "
                   "or lower the config's sizes")
        logging.getLogger("reproflow").error("%s", message)
        raise SystemExit(f"error: {message}") from None


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def limit_threads(n: int) -> None:
    """Keep TensorFlow, BLAS and scipy.fft to `n` threads, so parallel
    Snakemake jobs do not oversubscribe the cores. Call before Keras is
    first imported: TensorFlow reads the variables once, at start-up."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
