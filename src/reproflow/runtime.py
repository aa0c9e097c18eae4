"""Glue for scripts run by Snakemake's `script:` directive."""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from reproflow.errors import ReproflowError


HEADLINE_LOGGER = "reproflow.headline"
# TensorFlow's C++ start-up lines on a machine without a GPU: absl writes them
# to file descriptor 2 before Python can configure any logging, and the
# cuInit one reads like a real error although TensorFlow then runs on the CPU.
CPU_STARTUP_NOISE = re.compile(
    rb"All log messages before absl::InitializeLog\(\) is called|oneDNN custom operations are on|"
    rb"Could not find cuda drivers on your machine|failed call to cuInit|"
    rb"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    rb"This TensorFlow binary is optimized to use available CPU instructions|"
    rb"rebuild TensorFlow with the appropriate compiler flags"
)
# Python-level messages nobody running the workflow can act on
UNACTIONABLE = ("triggered tf.function retracing",)


def has_gpu() -> bool:
    """An NVIDIA driver is loaded (device nodes present): keep every CUDA message."""
    return Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists()


def drop_cpu_startup_noise() -> None:
    """On a machine without a GPU, pass the process's file descriptor 2 through
    a filter that drops TensorFlow's C++ start-up lines (CPU_STARTUP_NOISE);
    every other line goes on to the terminal. Nothing is hidden on a machine
    with a GPU, and no device is hidden from TensorFlow."""
    if has_gpu():
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump() -> None:
        with os.fdopen(read, "rb") as source, os.fdopen(terminal, "wb", buffering=0) as sink:
            for line in source:
                if not CPU_STARTUP_NOISE.search(line):
                    sink.write(line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()

    def restore() -> None:
        sys.stderr.flush()
        os.dup2(os.dup(terminal), 2)   # closes the pipe's last write end: the pump ends
        thread.join(timeout=2)

    atexit.register(restore)


def _shown(record: logging.LogRecord, terminal: bool) -> bool:
    """The terminal sees warnings, errors and each job's headline; the log everything."""
    if any(text in record.getMessage() for text in UNACTIONABLE):
        return False
    return not terminal or record.levelno >= logging.WARNING or record.name == HEADLINE_LOGGER


class _TerminalFormat(logging.Formatter):
    """`job: headline`, or `WARNING job (logger): message`."""

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if record.name == HEADLINE_LOGGER and record.levelno < logging.WARNING:
            return f"{self.job}: {message}"
        return f"{record.levelname} {self.job} ({record.name}): {message}"


def job_name(log_path: str | Path) -> str:
    """The job as its log names it: logs/relu/train/paper/wdbc/ffnn-relu/seed0.log -> relu/train/..."""
    parts = Path(log_path).with_suffix("").parts
    if "logs" in parts[:-1]:
        parts = parts[len(parts) - parts[::-1].index("logs"):]
    return "/".join(part for part in parts if part != "/")


# how many headlines the process has logged: run_logged adds "done in N s" to a job that logged none
_headline_count = 0


def headline(message: str, *args: object) -> None:
    """The one line of a job's result shown on the terminal (and in its log)."""
    global _headline_count
    _headline_count += 1
    logging.getLogger(HEADLINE_LOGGER).info(message, *args)


def run_logged(main: Callable[[], None], log_path: str | Path) -> None:
    """Run `main` with logging to the rule's log file and to stderr.

    Every line names the job. The log gets everything; the terminal only
    warnings, errors and the job's headline (`headline`), or "done in N s".
    A ReproflowError ends the job with its message only (no traceback): the
    message already says which file or key is wrong and what was expected.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    drop_cpu_startup_noise()
    job = job_name(log_path)
    handlers: list[logging.Handler] = [logging.FileHandler(log_path), logging.StreamHandler(sys.stderr)]
    handlers[0].addFilter(lambda record: _shown(record, terminal=False))
    handlers[1].addFilter(lambda record: _shown(record, terminal=True))
    handlers[1].setFormatter(_TerminalFormat(job))
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s [{job}] %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    started = time.monotonic()
    before = _headline_count
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
    if _headline_count == before:
        headline("done in %.1f s", time.monotonic() - started)


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend (figures go to files; no display is
    needed). Imported on first use, so that jobs drawing no figure do not pay
    for matplotlib at start-up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def limit_threads(n: int) -> None:
    """Keep TensorFlow, BLAS and scipy.fft to `n` threads, so parallel
    Snakemake jobs do not oversubscribe the cores. Call before Keras is
    first imported: TensorFlow reads the variables once, at start-up."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # the C++ INFO and WARNING lines after start-up


def per_configuration(files: Any, count: int) -> list[dict[str, str]]:
    """A batch job's named inputs or outputs, each a list with one path per
    configuration (the rule's `expand`, in the order of its configurations),
    as one {name: path} per configuration."""
    named = {key: [paths] if isinstance(paths, str) else [str(path) for path in paths]
             for key, paths in files.items()}
    wrong = {key: len(paths) for key, paths in named.items() if len(paths) != count}
    if wrong:
        raise ValueError(f"expected {count} paths per name (one per configuration), got {wrong}")
    return [{key: paths[index] for key, paths in named.items()} for index in range(count)]
