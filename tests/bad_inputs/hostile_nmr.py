"""Hostile NMR inputs (study 3) through `reproflow nmr reconstruct` and the
NMR rules' entry functions: outputs that are inputs, unwritable outputs,
non-finite or empty spectra, headers whose values or sizes lie, extracted
regions, data that contradict --mode, bad options, damaged model folders and
schedules. Almost every case fails before TensorFlow is imported (about 1 s
each); the one that must load a Keras file runs under a larger cap."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bad_inputs.hostile import Case

SHAPE = (64, 128)  # tileable by the network's 32 x 64 output tiles
# RLIMIT_AS caps in MiB, measured (peak resident set in brackets): the CLI with NumPy, SciPy and
# nmrglue ran under 400 (108); an entry function, which imports MLflow, under 1000 (227); the CLI
# loading a Keras file under 2500 (709): TensorFlow maps much address space at start-up
CAP = 500
ENTRY_CAP = 1200
TF_CAP = 4000
RECONSTRUCT = ["nmr", "reconstruct"]


def spectrum(kind: str = "echo", shape: tuple[int, int] = SHAPE) -> np.ndarray:
    """Noise made echo-only, anti-echo-only or left full (both halves)."""
    from reproflow.nmr import ve

    full = np.random.default_rng(0).normal(size=shape)
    return {"echo": ve.echo, "antiecho": ve.antiecho, "full": lambda x: x}[kind](full).astype(np.float32)


def write_pipe(path: Path, data: np.ndarray, **header: float) -> None:
    import nmrglue as ng

    from reproflow.nmr.io import pipe_header

    dic = pipe_header(data.shape)
    dic.update(header)
    ng.pipe.write(str(path), dic, data.astype(np.float32), overwrite=True)


def patch_header(path: Path, **values: float) -> None:
    """Overwrite header floats in place (what a corrupt or hand-edited file holds)."""
    import nmrglue as ng

    raw = bytearray(path.read_bytes())
    header = np.frombuffer(raw, np.float32, 512).copy()
    for key, value in values.items():
        header[int(ng.fileio.pipe.fdata_dic[key])] = value
    raw[:2048] = header.tobytes()
    path.write_bytes(bytes(raw))


def write_bruker(folder: Path, data: np.ndarray, **changes: dict[str, float]) -> None:
    """A Bruker experiment folder/pdata/1 (2rr, procs, proc2s); `changes` edit
    procs or proc2s after the data are written, as a damaged file would hold."""
    import nmrglue as ng

    def procs(size: int) -> dict:
        return {"_coreheader": ["##TITLE= Parameter file", "##JCAMPDX= 5.0"], "_comments": [], "SI": size,
                "XDIM": size // 4, "NC_proc": -28, "BYTORDP": 0, "DTYPP": 0, "PHC0": 0.0, "PHC1": 0.0,
                "SF": 600.13, "SW_p": 8000.0, "OFFSET": 12.5, "AXNUC": "1H"}

    dic = {"procs": procs(data.shape[1]), "proc2s": procs(data.shape[0])}
    ng.bruker.write_pdata(str(folder), dic, data.astype(np.float64), scale_data=True, write_procs=True,
                          pdata_folder=1)
    for name, values in changes.items():
        dic[name].update(values)
        ng.bruker.write_jcamp(dic[name], str(folder / "pdata/1" / name), overwrite=True)


def keras_zip(path: Path, config: str = "{}") -> None:
    """A zip archive shaped like a .keras file (config.json), not a loadable model."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", "{}")


def echo_file(folder: Path) -> None:
    write_pipe(folder / "in.ft2", spectrum("echo"))


def with_echo(extra: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        echo_file(folder)
        extra(folder)
    return make


def reconstruct(*options: str, mode: str = "echo", method: str = "ist", source: str = "{tmp}/in.ft2",
                out: str = "{tmp}/out.ft2") -> list[str]:
    return [*RECONSTRUCT, "--input", source, "--mode", mode, "--method", method, "--out", out, *options]


def schedule_file(content: bytes) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        write_pipe(folder / "in.ft2", spectrum("full"))
        (folder / "nuslist").write_bytes(content)
    return make


def nus(*options: str) -> list[str]:
    return reconstruct("--schedule", "{tmp}/nuslist", *options, mode="nus")


def read_only_folder(folder: Path) -> None:
    echo_file(folder)
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0o555)


def models_folder(files: dict[str, bytes | None]) -> Callable[[Path], None]:
    """An echo input and a models/ folder; None stands for a zip shaped like a .keras file."""
    def make(folder: Path) -> None:
        echo_file(folder)
        (folder / "models").mkdir()
        for name, content in files.items():
            if content is None:
                keras_zip(folder / "models" / name)
            else:
                (folder / "models" / name).write_bytes(content)
    return make


def npz_with_nan(folder: Path) -> None:
    arrays = {name: spectrum("full")[None] for name in ("reference", "echo", "antiecho", "nus")}
    arrays["echo"][0, 3, 5] = np.nan
    np.savez(folder / "set.npz", schedules=np.ones((1, SHAPE[0] // 2), bool), **arrays)


NMR_JOB = "reproflow.nmr.jobs"
CASES = [
    # -- no input is ever written over (same path, symlink, hard link, inside the input folder)
    Case("nmr-out-symlink-to-input", "output is an input",
         with_echo(lambda f: os.symlink(f / "in.ft2", f / "link.ft2")),
         expect=["{tmp}/link.ft2", "is the input {tmp}/in.ft2", "choose another output path"],
         argv=reconstruct(out="{tmp}/link.ft2"), memory_mb=CAP),
    Case("nmr-out-hard-link-to-input", "output is an input", with_echo(lambda f: os.link(f / "in.ft2", f / "same.ft2")),
         expect=["{tmp}/same.ft2", "is the input {tmp}/in.ft2"], argv=reconstruct(out="{tmp}/same.ft2"),
         memory_mb=CAP),
    Case("nmr-out-inside-bruker-input", "output is an input", lambda f: write_bruker(f / "exp", spectrum("echo")),
         expect=["{tmp}/exp/pdata/1/rec.ft2", "inside the input folder {tmp}/exp"],
         argv=reconstruct(source="{tmp}/exp", out="{tmp}/exp/pdata/1/rec.ft2"), memory_mb=CAP),
    Case("nmr-sigma-is-the-schedule", "output is an input", schedule_file(b"0 1 2 3 5 8 13\n"),
         expect=["{tmp}/nuslist", "--sigma path is the input {tmp}/nuslist"],
         argv=nus("--sigma", "{tmp}/nuslist"), memory_mb=CAP),
    Case("nmr-out-equals-sigma", "output is an input", echo_file,
         expect=["{tmp}/out.ft2", "--sigma is the same file as --out", "two different output paths"],
         argv=reconstruct("--sigma", "{tmp}/out.ft2"), memory_mb=CAP),
    Case("nmr-out-into-models-folder", "output is an input", models_folder({"stage0.keras": None}),
         expect=["{tmp}/models/rec.ft2", "inside the input folder {tmp}/models"],
         argv=reconstruct("--models", "{tmp}/models", method="network", out="{tmp}/models/rec.ft2"), memory_mb=CAP),
    # -- outputs that cannot be written
    Case("nmr-out-is-a-folder", "unusable output path", with_echo(lambda f: (f / "outdir").mkdir()),
         expect=["{tmp}/outdir", "is a folder", "expected the path of the --out file"],
         argv=reconstruct(out="{tmp}/outdir"), memory_mb=CAP),
    Case("nmr-out-parent-is-a-file", "unusable output path", with_echo(lambda f: (f / "plain").write_text("x")),
         expect=["{tmp}/plain/out.ft2", "is not a folder"], argv=reconstruct(out="{tmp}/plain/out.ft2"),
         memory_mb=CAP),
    # -- spectra that are not finite or hold nothing
    Case("nmr-spectrum-nan", "non-finite or out-of-range number", lambda f: write_pipe(f / "in.ft2", np.where(
        np.arange(SHAPE[1]) == 7, np.nan, spectrum("echo"))), expect=["{tmp}/in.ft2", "NaN or infinite",
                                                                       "expected finite intensities"],
         argv=reconstruct(), memory_mb=CAP),
    Case("nmr-spectrum-inf", "non-finite or out-of-range number", lambda f: write_pipe(f / "in.ft2", np.where(
        np.arange(SHAPE[1]) == 7, np.inf, spectrum("echo"))), expect=["{tmp}/in.ft2", "NaN or infinite"],
         argv=reconstruct(), memory_mb=CAP),
    Case("nmr-spectrum-all-zero", "non-finite or out-of-range number", lambda f: write_pipe(f / "in.ft2", np.zeros(SHAPE)),
         expect=["{tmp}/in.ft2", "every point is zero", "expected a spectrum with signal"], argv=reconstruct(),
         memory_mb=CAP),
    # -- headers whose values or sizes lie
    Case("nmr-header-sw-nan", "non-finite or out-of-range number", lambda f: write_pipe(f / "in.ft2", spectrum("echo"), FDF2SW=np.nan),
         expect=["{tmp}/in.ft2", "FDF2SW = nan", "expected finite header values"], argv=reconstruct(),
         memory_mb=CAP),
    Case("nmr-header-claims-more-rows", "bounded resources", with_echo(lambda f: patch_header(f / "in.ft2", FDSPECNUM=128)),
         expect=["{tmp}/in.ft2", "truncated or corrupt", "(128, 128)", "expected a complete 2D NMRPipe file"],
         argv=reconstruct(), memory_mb=CAP),
    Case("nmr-header-claims-huge-size", "bounded resources",
         with_echo(lambda f: patch_header(f / "in.ft2", FDSIZE=2.0**26, FDSPECNUM=2.0**26)),
         expect=["{tmp}/in.ft2", "truncated or corrupt", "(67108864, 67108864)"], argv=reconstruct(),
         memory_mb=CAP),
    Case("nmr-header-size-not-a-count", "bounded resources", with_echo(lambda f: patch_header(f / "in.ft2", FDSIZE=1e30)),
         expect=["{tmp}/in.ft2", "FDSIZE = 1e+30", "expected a whole number"], argv=reconstruct(), memory_mb=CAP),
    Case("nmr-bruker-si-huge", "bounded resources", lambda f: write_bruker(f / "exp", spectrum("echo"), procs={"SI": 2**24},
                                                               proc2s={"SI": 2**24}),
         expect=["{tmp}/exp/pdata/1", "2rr holds 8192 values, not the 16777216 x 16777216 points",
                 "truncated or corrupt"], argv=reconstruct(source="{tmp}/exp"), memory_mb=CAP),
    Case("nmr-bruker-xdim-zero", "bounded resources", lambda f: write_bruker(f / "exp", spectrum("echo"), procs={"XDIM": 0}),
         expect=["{tmp}/exp/pdata/1/procs", "XDIM = 0", "expected a whole number"],
         argv=reconstruct(source="{tmp}/exp"), memory_mb=CAP),
    Case("nmr-bruker-sf-inf", "non-finite or out-of-range number", lambda f: write_bruker(f / "exp", spectrum("echo"), proc2s={"SF": "inf"}),
         expect=["{tmp}/exp/pdata/1/proc2s", "SF = inf", "expected a finite number"],
         argv=reconstruct(source="{tmp}/exp"), memory_mb=CAP),
    # -- the virtual echo needs the whole spectral width
    Case("nmr-extracted-region", "NMR data contradicting the request", lambda f: write_pipe(f / "in.ft2", spectrum("echo"), FDF2X1=33,
                                                                 FDF2XN=160, FDF2FTSIZE=256),
         expect=["{tmp}/in.ft2", "extracted region", "FDF2X1/FDF2XN = 33, 160", "full spectral width"],
         argv=reconstruct(), memory_mb=CAP),
    Case("nmr-bruker-extracted-region", "NMR data contradicting the request",
         lambda f: write_bruker(f / "exp", spectrum("echo"), procs={"STSR": 40, "STSI": 64}),
         expect=["{tmp}/exp/pdata/1/procs", "extracted region", "STSR = 40", "full spectral width"],
         argv=reconstruct(source="{tmp}/exp"), memory_mb=CAP),
    # -- data that contradict the request
    Case("nmr-full-spectrum-as-echo", "NMR data contradicting the request", lambda f: write_pipe(f / "in.ft2", spectrum("full")),
         expect=["{tmp}/in.ft2", "--mode echo", "holding both halves", "expected echo (P-type"],
         argv=reconstruct(), memory_mb=CAP),
    Case("nmr-antiecho-data-as-echo", "NMR data contradicting the request", lambda f: write_pipe(f / "in.ft2", spectrum("antiecho")),
         expect=["{tmp}/in.ft2", "--mode echo", "look like antiecho", "use --mode antiecho"],
         argv=reconstruct(), memory_mb=CAP),
    Case("nmr-echo-data-as-antiecho", "NMR data contradicting the request", echo_file,
         expect=["{tmp}/in.ft2", "--mode antiecho", "look like echo", "use --mode echo"],
         argv=reconstruct(mode="antiecho"), memory_mb=CAP),
    Case("nmr-auto-on-a-full-spectrum", "NMR data contradicting the request", lambda f: write_pipe(f / "in.ft2", spectrum("full")),
         expect=["{tmp}/in.ft2", "--mode auto", "both halves", "expected echo-only or anti-echo-only data"],
         argv=reconstruct(mode="auto"), memory_mb=CAP),
    Case("nmr-echo-data-as-nus", "NMR data contradicting the request", with_echo(lambda f: (f / "nuslist").write_text("0 1 2 5\n")),
         expect=["{tmp}/in.ft2", "--mode nus", "look like echo", "use --mode echo"], argv=nus(), memory_mb=CAP),
    # -- options out of range (argparse: exit status 2, the option named)
    Case("nmr-iterations-zero", "non-finite or out-of-range number", echo_file, expect=["--iterations", "between 1 and 100000"],
         argv=reconstruct("--iterations", "0"), status=2, memory_mb=CAP),
    Case("nmr-iterations-huge", "non-finite or out-of-range number", echo_file, expect=["--iterations", "between 1 and 100000"],
         argv=reconstruct("--iterations", "1000000000"), status=2, memory_mb=CAP),
    Case("nmr-damping-nan", "non-finite or out-of-range number", echo_file, expect=["--damping", "'nan'", "finite damping base in [0, 1)"],
         argv=reconstruct("--damping", "nan", method="network"), status=2, memory_mb=CAP),
    Case("nmr-damping-one", "non-finite or out-of-range number", echo_file, expect=["--damping", "'1'", "[0, 1)"],
         argv=reconstruct("--damping", "1", method="network"), status=2, memory_mb=CAP),
    # -- model folders and files that are not what they claim
    Case("nmr-models-partial", "corrupt, partial or foreign file", models_folder({"stage0.keras": None, "stage2.keras": None}),
         expect=["{tmp}/models", "partial cascade", "stage1.keras is missing"],
         argv=reconstruct("--models", "{tmp}/models", method="network"), memory_mb=CAP),
    Case("nmr-models-stray-file", "corrupt, partial or foreign file", models_folder({"stage0.keras": None, "stage1.keras.bak": b"old"}),
         expect=["{tmp}/models", "stray files", "stage1.keras.bak"],
         argv=reconstruct("--models", "{tmp}/models", method="network"), memory_mb=CAP),
    Case("nmr-models-stage-not-keras", "corrupt, partial or foreign file", models_folder({"stage0.keras": b"not a zip archive\n"}),
         expect=["{tmp}/models/stage0.keras", "not a Keras model file", "expected a .keras file"],
         argv=reconstruct("--models", "{tmp}/models", method="network"), memory_mb=CAP),
    Case("nmr-models-weights-json-corrupt", "corrupt, partial or foreign file",
         models_folder({"stage0.keras": None, "weights.json": b'{"damping": 0.05,'}),
         expect=["{tmp}/models/weights.json", "corrupt weights manifest", "or pass --damping"],
         argv=reconstruct("--models", "{tmp}/models", method="network"), memory_mb=CAP),
    Case("nmr-sigma-model-corrupt", "corrupt, partial or foreign file", with_echo(lambda f: (f / "sigma.keras").write_bytes(b"\0" * 64)),
         expect=["{tmp}/sigma.keras", "uncertainty network is not a Keras model file"],
         argv=reconstruct("--sigma", "{tmp}/sigma.ft2", "--sigma-model", "{tmp}/sigma.keras"), memory_mb=CAP),
    Case("nmr-models-stage-corrupt-keras", "corrupt, partial or foreign file", models_folder({"stage0.keras": None}),
         expect=["{tmp}/models/stage0.keras", "not a readable .keras file"],
         argv=reconstruct("--models", "{tmp}/models", method="network"), memory_mb=TF_CAP, timeout=240),
    # -- schedules with values or encodings that are not plain integers
    Case("nmr-schedule-nan", "non-finite or out-of-range number", schedule_file(b"0 1\n2 nan\n"),
         expect=["{tmp}/nuslist", "line 2", "'nan' is not finite", "expected integer t1 increments"],
         argv=nus(), memory_mb=CAP),
    Case("nmr-schedule-huge-value", "non-finite or out-of-range number", schedule_file(b"0 1 1e300\n"),
         expect=["{tmp}/nuslist", "line 1", "'1e300'", "between 0 and 31"], argv=nus(), memory_mb=CAP),
    Case("nmr-schedule-utf8-bom", "encoding", schedule_file(b"\xef\xbb\xbf0\n1\n2\n"),
         expect=["{tmp}/nuslist", "UTF-8 byte-order mark (BOM)", "plain UTF-8 text"], argv=nus(), memory_mb=CAP),
    Case("nmr-schedule-cr-only", "encoding", schedule_file(b"0\r1\r2\r"),
         expect=["{tmp}/nuslist", "CR-only", "LF or CRLF line endings"], argv=nus(), memory_mb=CAP),
    Case("nmr-schedule-nul", "encoding", schedule_file("0\n1\n2\n".encode("utf-16-le")),
         expect=["{tmp}/nuslist", "NUL bytes", "UTF-16"], argv=nus(), memory_mb=CAP),
    # -- input paths that hold no data
    Case("nmr-input-dangling-link", "data path", lambda f: os.symlink(f / "gone.ft2", f / "in.ft2"),
         expect=["{tmp}/in.ft2", "dangling symbolic link", "{tmp}/gone.ft2"], argv=reconstruct(), memory_mb=CAP),
    Case("nmr-input-folder-without-data", "data path", lambda f: (f / "exp").mkdir(),
         expect=["{tmp}/exp", "no Bruker 2rr file", "expected processed 2D Bruker data"],
         argv=reconstruct(source="{tmp}/exp"), memory_mb=CAP),
    Case("nmr-input-is-a-pipe", "data path", lambda f: os.mkfifo(f / "in.ft2"),
         expect=["{tmp}/in.ft2", "not a regular file"], argv=reconstruct(), memory_mb=CAP),
    # -- the rules' entry functions
    Case("nmr-entry-malt1-out-is-spectrum", "output is an input", echo_file, runner="entry", entry=f"{NMR_JOB}:malt1_job",
         kwargs={"spectrum": "{tmp}/in.ft2", "out": "{tmp}/in.ft2", "nus_fraction": 0.5, "seed": 0},
         expect=["{tmp}/in.ft2", "is the input"], memory_mb=ENTRY_CAP),
    Case("nmr-entry-ist-out-is-data", "output is an input", npz_with_nan, runner="entry", entry=f"{NMR_JOB}:ist_job",
         kwargs={"data": "{tmp}/set.npz", "out": "{tmp}/set.npz", "run_out": "{tmp}/ist_run.json",
                 "iterations": 5, "name": "set"},
         expect=["{tmp}/set.npz", "is the input"], memory_mb=ENTRY_CAP),
    Case("nmr-entry-ist-data-nan", "non-finite or out-of-range number", npz_with_nan, runner="entry", entry=f"{NMR_JOB}:ist_job",
         kwargs={"data": "{tmp}/set.npz", "out": "{tmp}/ist.npz", "run_out": "{tmp}/ist_run.json",
                 "iterations": 5, "name": "set"},
         expect=["{tmp}/set.npz", "array 'echo'", "NaN or infinite", "expected finite numbers"], memory_mb=ENTRY_CAP),
]
if os.geteuid() != 0:  # root writes into a mode-555 folder anyway: the case only means something for users
    CASES.append(Case("nmr-out-in-read-only-folder", "unusable output path", read_only_folder,
                      expect=["{tmp}/locked/out.ft2", "is not writable"], argv=reconstruct(out="{tmp}/locked/out.ft2"),
                      memory_mb=CAP))
