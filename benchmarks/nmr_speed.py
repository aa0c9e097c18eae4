"""Benchmark: Study 3's speed targets on this machine (2 cores), as JSON.

- CS-IST, 200 iterations, one 256 x 2048 echo spectrum (`ist.reconstruct`);
- the shipped 3-stage cascade on the same echo, NumPy inference
  (`numpy_net.cascade`, what `reproflow nmr reconstruct` runs) and, with
  --keras, the Keras/TensorFlow path (`models.cascade`) for comparison;
- the whole `reproflow nmr reconstruct --method network` call, a fresh
  process each time: from its start to its exit (file written);
- with --parts sigma: the network's uncertainty (sigma) spectrum of the same
  echo (`numpy_net.uncertainty`, tiled), what `--sigma` and `nmr quality` add.

Each timing is repeated (--repeats) and the median reported, wall and CPU
seconds (CPU: this process's, or the child's for the command), with the
1-minute load average before each part: on a shared machine wall time
depends on the other work, CPU seconds much less.

Usage: python benchmarks/nmr_speed.py [--spectrum Malt.ft2] [--repeats 5] [--keras] [--parts ist cascade command sigma]
       [--threads N] [--out FILE]
--threads N: the IST's FFT workers and the NumPy inference's threads in this process (default: one per
core); the command's process always uses its defaults.
Without --spectrum a simulated 256 x 2048 spectrum (128 x 1024 points zero-filled) is used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nmr_bench  # this folder is on sys.path when a benchmark runs
import numpy as np

from reproflow.nmr import io, ist, numpy_net, shipped, simulate, ve


def reference(spectrum: str | None) -> np.ndarray:
    """The spectrum's data; without one a simulated 128 x 1024-point spectrum (256 x 2048 after zero fill)."""
    if spectrum:
        return io.read_spectrum(spectrum).data.astype(np.float64)
    return simulate.simulate_set(0, 1, simulate.SimConfig(n1=128, n2=1024, peaks=1024), 0.5)["reference"][0]


def timed(work: Callable[[], object], repeats: int,
          cpu_clock: Callable[[], float] = time.process_time) -> dict[str, object]:
    """Wall and CPU seconds of `repeats` calls (CPU: this process's, or by `cpu_clock` the children's)."""
    wall, cpu = [], []
    load = os.getloadavg()[0]
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), cpu_clock()
        work()
        wall.append(time.perf_counter() - start)
        cpu.append(cpu_clock() - start_cpu)
    return {"load_1min": load, "wall_s": [round(w, 3) for w in wall], "cpu_s": [round(c, 3) for c in cpu],
            "wall_median_s": float(np.median(wall)), "cpu_median_s": float(np.median(cpu))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spectrum", help="NMRPipe 2D spectrum (e.g. MALT1 Malt.ft2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keras", action="store_true", help="also time the Keras/TensorFlow cascade")
    parser.add_argument("--parts", nargs="+", default=["ist", "cascade", "command"])
    parser.add_argument("--threads", type=int, help="FFT workers and inference threads (default: one per core)")
    parser.add_argument("--out")
    args = parser.parse_args()
    workers = args.threads or -1
    if args.threads:
        numpy_net.THREADS = args.threads
    echo = ve.echo(reference(args.spectrum))
    result: dict[str, object] = {"shape": list(echo.shape), "spectrum": args.spectrum or "simulated",
                                 "cores": os.cpu_count(), "threads": args.threads or numpy_net.THREADS,
                                 "repeats": args.repeats}
    if "ist" in args.parts:
        ist.reconstruct(echo, "echo", 5, workers=workers)  # FFT plans
        result["ist_200"] = timed(lambda: ist.reconstruct(echo, "echo", 200, workers=workers), args.repeats)
    paths = sorted(shipped.WEIGHTS.glob("stage*.keras"))
    if "cascade" in args.parts:
        networks = [numpy_net.load(p) for p in paths]
        result["cascade_numpy"] = timed(lambda: numpy_net.cascade(networks, echo, "echo", shipped.damping()),
                                        args.repeats)
        if args.keras:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            from reproflow.nmr import models

            stages = models.prepare([models.load(str(p)) for p in paths])
            models.cascade(stages, echo, "echo", shipped.damping())  # tracing
            result["cascade_keras"] = timed(lambda: models.cascade(stages, echo, "echo", shipped.damping()),
                                            args.repeats)
    if "sigma" in args.parts:
        network = numpy_net.load(shipped.WEIGHTS / "sigma_network_echo.keras")
        result["sigma_network_echo"] = timed(lambda: numpy_net.uncertainty(network, echo), args.repeats)
    if "command" in args.parts:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "echo.ft2"
            io.write_spectrum(source, io.Spectrum(echo, io.pipe_header(echo.shape), "echo"), echo)
            argv = [sys.executable, "-m", "reproflow.cli", "nmr", "reconstruct", "--input", str(source),
                    "--mode", "echo", "--method", "network", "--out", str(Path(folder) / "rec.ft2")]
            result["command_network"] = timed(lambda: subprocess.run(argv, check=True, capture_output=True),
                                              args.repeats, nmr_bench.children_cpu)
            result["command"] = " ".join(["reproflow", *argv[3:]])
    text = json.dumps(result, indent=2)
    if args.out:
        from reproflow.outputs import write_text

        write_text(args.out, text + "\n")
    print(text)


if __name__ == "__main__":
    main()
