"""Hostile configs: overlays through `snakemake -n` (the Snakefile's checks)
and through `reproflow.config.load_config` / `load_registry` (the same
checks, without Snakemake's start-up): YAML bombs, non-string keys, NaN and
infinities, encodings, and what a dry run can know (impossible dates, too
few days, NMR sizes the network cannot tile or memory cannot hold)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bad_inputs.hostile import Case

REPO = Path(__file__).resolve().parents[2]
SCHEMA = str(REPO / "workflow/schemas/config.schema.yaml")
REGISTRY_SCHEMA = str(REPO / "workflow/schemas/datasets.schema.yaml")
OVERLAY = "{tmp}/overlay.yaml"


def overlay(text: str | bytes, name: str = "overlay.yaml") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        data = text.encode() if isinstance(text, str) else text
        (folder / name).write_bytes(data)
    return make


def billion_laughs(under: str) -> str:
    """Nine levels of ten aliases each: 10^9 values in 10 lines, `under` a list key."""
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    section, key = under.split(".")
    lines.append(f"{section}:\n  {key}: [" + ", ".join(["*a8"] * 10) + "]")
    return "\n".join(lines) + "\n"


def registry_copy(encode: Callable[[str], bytes]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / "registry.yaml").write_bytes(encode((REPO / "config/datasets.yaml").read_text()))
    return make


def with_registry_overlay(make_registry: Callable[[Path], None], name: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        make_registry(folder)
        (folder / "overlay.yaml").write_text(f"registry: {folder / name}\n")
    return make


def registry_folder(folder: Path) -> None:
    (folder / "registry").mkdir()


def dangling_mirror(folder: Path) -> None:
    os.symlink(folder / "gone", folder / "mirror")
    (folder / "overlay.yaml").write_text(f"download: {{mirror: {folder / 'mirror'}}}\n")


def lockfile_folder(folder: Path) -> None:
    (folder / "lock").mkdir()
    (folder / "overlay.yaml").write_text(f"download: {{lockfile: {folder / 'lock'}}}\n")


def snakemake_case(id: str, klass: str, make: Callable[[Path], None], expect: list[str], **extra) -> Case:
    return Case(id, klass, make, expect, runner="snakemake", argv=["--configfile", OVERLAY],
                memory_mb=2500, timeout=90, **extra)


def config_case(id: str, klass: str, text: str | bytes, expect: list[str], **extra) -> Case:
    return Case(id, klass, overlay(text), expect, runner="entry", entry="reproflow.config:load_config",
                kwargs={"paths": [str(REPO / "config/config.yaml"), OVERLAY], "schema_path": SCHEMA}, **extra)


def registry_case(id: str, klass: str, make: Callable[[Path], None], path: str, expect: list[str], **extra) -> Case:
    return Case(id, klass, make, expect, runner="entry", entry="reproflow.config:load_registry",
                kwargs={"path": path, "schema": REGISTRY_SCHEMA}, **extra)


UTF16 = "relu:\n  epochs: 3\n".encode("utf-16")          # with its byte-order mark

CASES = [
    # -- through snakemake -n (the Snakefile's own checks, key named) --------------------------
    snakemake_case("config-sm-nan-learning-rate", "non-finite or out-of-range number",
                   overlay("relu:\n  learning_rate: .nan\n"), ["overlay.yaml", "relu.learning_rate", "not a finite number"]),
    snakemake_case("config-sm-inf-timeout", "non-finite or out-of-range number",
                   overlay("download:\n  timeout_s: .inf\n"), ["download.timeout_s", "inf is not a finite number"]),
    snakemake_case("config-sm-integer-key", "non-string key",
                   overlay("1: x\n"), ["overlay.yaml", "key 1 at the top level is not a string (YAML read it as int)"]),
    snakemake_case("config-sm-billion-laughs", "bounded resources",
                   overlay(billion_laughs("relu.ffnn_hidden")),
                   ["overlay.yaml, line 1", "anchor &a0", "anchors and aliases are not accepted"]),
    snakemake_case("config-sm-impossible-days", "dry-run knowable",
                   overlay('ids:\n  source: kyoto2013\n  days: ["20130101", "20130230", "20130431"]\n'),
                   ["ids.days.1 = '20130230'", "ids.days.2 = '20130431'", "no such date"]),
    snakemake_case("config-sm-test-days-leave-no-training", "dry-run knowable",
                   overlay("ids:\n  clean: {test_days: 6, val_days: 2, seeds: [0], learning_rates: [0.001], "
                           "keep_prob: 0.85, baselines: []}\n"),
                   ["ids.clean.test_days", "leave no training day among the 8 days of 'ids.synth.days'",
                    "expected at least 9 days"]),
    snakemake_case("config-sm-nmr-untileable", "dry-run knowable",
                   overlay("nmr:\n  simulation: {n1: 24, n2: 256, peaks: 8}\n"),
                   ["nmr.simulation.n1", "48 points", "32 x 64 tiles", "multiple of 16"]),
    snakemake_case("config-sm-nmr-set-past-memory", "dry-run knowable",
                   overlay("nmr:\n  simulation: {n1: 128, n2: 2048, peaks: 8}\n  sets: {train: 20000, val: 4, test: 8}\n"),
                   ["nmr.sets.train", "20000 spectra of 256 x 4096", "simulate job can hold"]),
    snakemake_case("config-sm-registry-utf16", "encoding",
                   with_registry_overlay(registry_copy(lambda text: text.encode("utf-16")), "registry.yaml"),
                   ["registry.yaml", "UTF-16 (little-endian byte-order mark FF FE)", "expected UTF-8"]),
    snakemake_case("config-sm-mirror-dangling-link", "data path",
                   dangling_mirror, ["download.mirror", "dangling symbolic link", "expected a folder"]),

    # -- through reproflow.config.load_config (the same checks as a function) ---------------
    config_case("config-utf16-overlay", "encoding", UTF16, ["overlay.yaml", "UTF-16", "expected UTF-8"]),
    config_case("config-utf16-without-bom", "encoding", "relu:\n  epochs: 3\n".encode("utf-16-le"),
                ["overlay.yaml, line 1", "NUL byte", "looks like UTF-16 without a byte-order mark"]),
    config_case("config-utf32", "encoding", "relu:\n  epochs: 3\n".encode("utf-32"),
                ["overlay.yaml", "UTF-32", "expected UTF-8"]),
    config_case("config-nul-byte", "encoding", b"relu:\n  epochs: 3\x00\n", ["overlay.yaml, line 2", "NUL byte"]),
    config_case("config-latin1", "encoding", "run_name: caf\xe9\n".encode("latin-1"),
                ["overlay.yaml, line 1", "byte 0xe9 is not UTF-8", "expected UTF-8"]),
    config_case("config-utf8-bom-accepted", "encoding", b"\xef\xbb\xbfrelu:\n  epochs: 3\n", [], status=0),
    config_case("config-boolean-key", "non-string key", "true: y\n",
                ["overlay.yaml", "key True at the top level is not a string (YAML read it as bool)", "quote the key"]),
    config_case("config-null-key-nested", "non-string key", "relu:\n  null: 3\n",
                ["overlay.yaml", "key None under 'relu' is not a string"]),
    config_case("config-float-key-nested", "non-string key", "nmr:\n  sets:\n    1.5: 3\n",
                ["key 1.5 under 'nmr.sets' is not a string (YAML read it as float)"]),
    config_case("config-nan-in-list", "non-finite or out-of-range number", "nmr:\n  vary: {snr: [.nan, 10.0]}\n",
                ["key 'nmr.vary.snr.0': nan is not a finite number"]),
    config_case("config-minus-inf", "non-finite or out-of-range number", "ids:\n  svm_c: -.inf\n",
                ["key 'ids.svm_c': -inf is not a finite number"]),
    config_case("config-nan-share", "non-finite or out-of-range number", "ids:\n  max_reject_share: .NaN\n",
                ["key 'ids.max_reject_share'", "not a finite number"]),
    config_case("config-anchor-alias", "bounded resources", "relu: &r\n  epochs: 3\nnmr: *r\n",
                ["overlay.yaml, line 1", "anchor &r", "write the values out"]),
    config_case("config-alias-bomb-in-nmr", "bounded resources", billion_laughs("nmr.vary"),
                ["overlay.yaml", "anchors and aliases are not accepted"], timeout=30),
    config_case("config-top-level-list", "corrupt, partial or foreign file", "- relu\n- nmr\n",
                ["overlay.yaml", "a list at the top level", "expected a mapping"]),
    config_case("config-yaml-syntax", "corrupt, partial or foreign file", "relu:\n  epochs: [3\nnmr: {}\n",
                ["overlay.yaml, line 3", "not valid YAML"]),
    config_case("config-range-upside-down", "dry-run knowable", "nmr:\n  simulation: {n1: 32, n2: 256, peaks: 8, "
                "decay1: [0.5, 0.1]}\n", ["key 'nmr.simulation.decay1': [0.5, 0.1] is not a range"]),
    config_case("config-network-vary-upside-down", "dry-run knowable",
                "nmr:\n  network:\n    vary: {snr: [3000.0, 2.0]}\n",
                ["key 'nmr.network.vary.snr': [3000.0, 2.0] is not a range"]),
    config_case("config-first-day-impossible", "dry-run knowable",
                'ids:\n  synth: {days: 8, rows_per_day: 100, seed: 1, first_day: "20130229", label_noise: 0.0}\n',
                ["ids.synth.first_day", "'20130229' is not a date"]),
    config_case("config-kyoto-no-days", "dry-run knowable", "ids:\n  source: kyoto2013\n  days: []\n",
                ["key 'ids.days': no days"]),
    config_case("config-kyoto-days-fewer-than-test", "dry-run knowable",
                'ids:\n  source: kyoto2013\n  days: ["20130101", "20130102", "20130103"]\n',
                ["ids.clean.test_days", "among the 3 days of 'ids.days'", "expected at least 4 days"]),
    config_case("config-nmr-n2-untileable", "dry-run knowable", "nmr:\n  simulation: {n1: 32, n2: 48, peaks: 8}\n",
                ["nmr.simulation.n2", "96 points", "multiple of 32"]),
    config_case("config-synth-rows-past-memory", "non-finite or out-of-range number", "ids:\n  synth: {days: 8, rows_per_day: 1000000000, "
                "seed: 1, first_day: '20130101', label_noise: 0.0}\n",
                ["ids.synth.rows_per_day", "greater than the maximum of 5000000"]),
    config_case("config-seed-past-numpy", "non-finite or out-of-range number", "relu:\n  seeds: {paper: [0], clean: [4294967296]}\n",
                ["relu.seeds.clean.0", "greater than the maximum of 4294967295"]),
    config_case("config-nmr-tiles-past-memory", "non-finite or out-of-range number", "nmr:\n  network: {architectures: [wnn_bf], stages: 1, "
                "width: 4, damping: 0.05, tiles: 100000000, val_tiles: 16, epochs: 1, batch_size: 16, "
                "learning_rate: 0.001, patience: 1, lr_patience: 1}\n",
                ["nmr.network.tiles", "greater than the maximum of 1000000"]),
    config_case("config-learning-rate-zero", "non-finite or out-of-range number", "relu:\n  learning_rate: 0\n",
                ["relu.learning_rate", "less than or equal to the minimum of 0"]),
    Case("config-lockfile-folder", "data path", lockfile_folder,
         ["download.lockfile", "lock is a folder", "expected a JSON file"], runner="entry",
         entry="reproflow.config:load_config",
         kwargs={"paths": [str(REPO / "config/config.yaml"), OVERLAY], "schema_path": SCHEMA}),

    # -- the data registry ------------------------------------------------------------------
    registry_case("registry-folder", "data path", registry_folder, "{tmp}/registry",
                  ["data registry {tmp}/registry: is a folder", "expected a YAML file"]),
    registry_case("registry-dangling-link", "data path", lambda f: os.symlink(f / "nowhere.yaml", f / "registry.yaml"),
                  "{tmp}/registry.yaml", ["registry.yaml: a dangling symbolic link", "nowhere.yaml"]),
    registry_case("registry-nul-bytes", "encoding",
                  registry_copy(lambda text: text.replace("datasets:", "datasets:\x00", 1).encode()),
                  "{tmp}/registry.yaml", ["registry.yaml, line 6", "NUL byte"]),
    registry_case("registry-utf8-bom-accepted", "encoding", registry_copy(lambda text: b"\xef\xbb\xbf" + text.encode()),
                  "{tmp}/registry.yaml", [], status=0),
    registry_case("registry-integer-dataset-key", "non-string key",
                  overlay("datasets:\n  7:\n    description: x\n    licence: x\n    citation: x\n    files: {}\n",
                          "registry.yaml"),
                  "{tmp}/registry.yaml", ["registry.yaml", "key 7 under 'datasets' is not a string"]),
]
