"""Sample cases proving the harness (each area adds its own hostile_<area>.py)."""

from pathlib import Path

import numpy as np

from bad_inputs.hostile import Case


def echo_spectrum(folder: Path) -> None:
    import nmrglue as ng
    from reproflow.nmr.io import pipe_header

    data = np.random.default_rng(0).normal(size=(64, 128)).astype(np.float32)
    ng.pipe.write(str(folder / "in.ft2"), pipe_header(data.shape), data)


CASES = [
    Case("harness-nmr-out-is-input", "output is an input", echo_spectrum, expect=["{tmp}/in.ft2", "input"],
         argv=["nmr", "reconstruct", "--input", "{tmp}/in.ft2", "--mode", "echo", "--method", "ist",
               "--out", "{tmp}/in.ft2"]),
]
