"""The bad-input corpus (tests/bad_inputs/cases.yaml): each file through the real reader.

Each case stops with a ReproflowError naming the file (and line or key) and what
was expected, leaving no output that looks complete, or (Kyoto records) is
quarantined in the rejects file with its line and reason, and counted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from reproflow.config import validate
from reproflow.download import extract
from reproflow.errors import ReproflowError
from reproflow.ids.kyoto import read_rejects
from reproflow.ids.jobs import parse_day
from reproflow.nmr.cli import read_schedule
from reproflow.nmr.io import read_spectrum
from reproflow.relu.idx import read_idx, read_idx_pair
from workflow_utils import BIN, REPO, copy_workflow, env, snakemake

CORPUS = REPO / "tests" / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())["cases"]
BY_ID = {case["id"]: case for case in CASES}
KINDS = {"idx", "gz", "kyoto", "nmr", "archive", "config"}


def merged(base: dict, override: dict) -> dict:
    """Snakemake's --configfile semantics: nested mappings merge."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def kyoto_outputs(tmp_path: Path) -> dict[str, str]:
    return {"rejects": str(tmp_path / "rejects.tsv"), "columns": str(tmp_path / "columns.npz"),
            "stats": str(tmp_path / "stats.npz"), "info": str(tmp_path / "info.json")}


def read(case: dict, tmp_path: Path):
    """Run the case's file through its reader (the package entry point)."""
    path, reader = CORPUS / case["file"], case["reader"]
    if reader in ("idx_images", "idx_labels"):
        return read_idx(path, ndim=3 if reader == "idx_images" else 1)
    if reader == "idx_pair":
        return read_idx_pair(path, CORPUS / case["labels"], count=case.get("count"))
    if reader == "archive":
        return extract(path, tmp_path / "target")
    if reader == "kyoto_day":
        return parse_day(source=str(path), day="20130101", out=kyoto_outputs(tmp_path), max_reject_share=0.2,
                         split_seed=0, test_share=0.3)
    if reader == "nmr_spectrum":
        return read_spectrum(path)
    if reader == "nmr_schedule":
        return read_schedule(str(path), 8)
    if reader == "config":
        config = merged(yaml.safe_load((REPO / "config/config.yaml").read_text()), yaml.safe_load(path.read_text()))
        return validate(config, REPO / "workflow/schemas/config.schema.yaml", f"config ({path})")
    raise AssertionError(f"unknown reader {reader}")


def assert_no_complete_output(case: dict, tmp_path: Path) -> None:
    if case["reader"] == "archive":   # no target folder, no temporary folder left beside it
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    if case["reader"] == "kyoto_day":  # only the rejects log: no columns, statistics or info
        assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.tsv"]


def test_corpus_is_complete_and_small():
    files = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
             if p.is_file() and p.suffix != ".py" and p.name != "cases.yaml" and "__pycache__" not in p.parts}
    named = {case["file"] for case in CASES} | {case["labels"] for case in CASES if "labels" in case}
    bruker = {f for f in files if f.startswith("nmr/bruker-")}
    assert files - bruker == named - {c["file"] for c in CASES if c["file"].startswith("nmr/bruker-")}
    assert {f.split("/")[1] for f in bruker} == {c["file"].split("/")[1] for c in CASES if "bruker-" in c["file"]}
    assert all((CORPUS / f).stat().st_size < 10_000 for f in files)
    assert {case["kind"] for case in CASES} == KINDS
    assert len(BY_ID) == len(CASES) >= 35


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("snakemake_only")], ids=lambda c: c["id"])
def test_bad_input(case, tmp_path):
    if "expect" not in case:   # Kyoto records quarantined: the day goes on without them
        info = read(case, tmp_path)
        rows = read_rejects(tmp_path / "rejects.tsv")
        assert [int(r["line"]) for r in rows] == case["rejects"]["lines"]
        assert all(r["file"] == str(CORPUS / case["file"]) for r in rows)
        for row, reason in zip(rows, case["rejects"]["reasons"], strict=True):
            assert row["reason"].startswith(reason), (row["reason"], reason)
        assert info["rejected"] == len(case["rejects"]["lines"]) and info["records"] == case["records"]
        assert sum(info["reject_reasons"].values()) == info["rejected"]
        return
    with pytest.raises(ReproflowError) as error:
        read(case, tmp_path)
    message = str(error.value)
    for fragment in case["expect"]:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert_no_complete_output(case, tmp_path)
    if "lines" in case.get("rejects", {}):   # the day stopped; the rejects log still lists each bad line
        assert [int(r["line"]) for r in read_rejects(tmp_path / "rejects.tsv")] == case["rejects"]["lines"]


@pytest.mark.parametrize("case", [c for c in CASES if c.get("cli")], ids=lambda c: c["id"])
def test_bad_input_through_the_cli(case, tmp_path):
    out = tmp_path / "out.ft2"
    result = subprocess.run(
        [str(BIN / "reproflow"), "nmr", "reconstruct", "--input", str(CORPUS / case["file"]), "--mode", "echo",
         "--method", "ist", "--out", str(out)], capture_output=True, text=True, env=env(), timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "reproflow: error: " in result.stderr
    for fragment in case["expect"]:
        assert fragment in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("bad_config") / "wf")


@pytest.mark.parametrize("case", [c for c in CASES if c.get("snakemake") or c.get("snakemake_only")],
                         ids=lambda c: c["id"])
def test_bad_config_through_snakemake(case, workdir):
    result = snakemake(workdir, "-n", "--configfile", str(CORPUS / case["file"]), check=False, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    for fragment in case["expect"]:
        assert fragment in output, output[-2000:]
