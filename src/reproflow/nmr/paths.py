"""Where Study 3's jobs write, for workflow/rules/nmr.smk, DVC's stage
(dvc.yaml), the tests and `shipped` (a finished run's models).

One set's files serve rules whose wildcard differs (nmr_simulate's {split},
the others' {nmr_set}) and callers that name the set ("malt1"), so the
templates are functions of their parts, which default to the wildcards:
`data()` is the rules' template, `data("malt1")` one file."""

from __future__ import annotations

from reproflow import paths

LAYOUT = paths.Study("nmr")  # its folders, summary files, logs and benchmarks
WORK = LAYOUT.work
# what DVC's stage `nmr` keeps (tests/test_dvc.py compares dvc.yaml with it)
TRACKED = {"outs": (WORK, LAYOUT.figures, LAYOUT.tables), "metrics": (LAYOUT.metrics,), "plots": (LAYOUT.plots,)}
MALT1_SPECTRUM = paths.resource("malt1", "Malt.ft2")

# every wildcard of the study's rules, and the values it takes
# (tests/test_paths.py: those the config schema allows)
WILDCARDS = {
    "nmr_set": "train|val|test|sigma_train|sigma_val|malt1",
    "split": "train|val|test|sigma_train|sigma_val",
    "arch": "wnn_bf|wnn",
    "stage": r"\d+",
    "method": "network_echo|ist_echo|ist_nus",
}
SET, ARCH, STAGE, METHOD = "{nmr_set}", "{arch}", "{stage}", "{method}"


def data(nmr_set: str = SET) -> str:
    """A set of spectra: simulated (`split`) or MALT1's."""
    return f"{WORK}/data/{nmr_set}.npz"


def ist(nmr_set: str = SET, suffix: str = ".npz") -> str:
    """CS-IST's reconstructions of a set (suffix "_run.json": the job's run manifest)."""
    return f"{WORK}/ist/{nmr_set}{suffix}"


def models(arch: str = ARCH) -> str:
    """The folder of an architecture's cascade stages (what `reproflow nmr --models` reads)."""
    return f"{WORK}/models/{arch}"


def model(arch: str = ARCH, stage: int | str = STAGE, suffix: str = ".keras") -> str:
    """One stage of the cascade (suffix "_run.json": its training job's run manifest)."""
    return f"{models(arch)}/stage{stage}{suffix}"


def model_curves(arch: str = ARCH, stage: int | str = STAGE) -> str:
    """A cascade stage's training curves (read by the summary)."""
    return f"{LAYOUT.plots}/train_{arch}_stage{stage}.csv"


def network(arch: str = ARCH, nmr_set: str = SET, suffix: str = ".npz") -> str:
    """The cascade's reconstructions of a set (suffix "_run.json": the job's run manifest)."""
    return f"{WORK}/network/{arch}/{nmr_set}{suffix}"


def sigma(method: str = METHOD, suffix: str = ".keras") -> str:
    """The uncertainty network of a method (suffix "_run.json": its training job's run manifest)."""
    return f"{WORK}/sigma/{method}{suffix}"


def sigma_curves(method: str = METHOD) -> str:
    """An uncertainty network's training curves (read by the summary)."""
    return f"{LAYOUT.plots}/train_sigma_{method}.csv"


def evaluation(nmr_set: str = SET, suffix: str = ".json") -> str:
    """A set's scores (suffix "_sigma_boxes.npz", "_spectra" (a folder), "_run.json": its other files)."""
    return f"{WORK}/eval/{nmr_set}{suffix}"

