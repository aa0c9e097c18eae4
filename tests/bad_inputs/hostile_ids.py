"""Hostile inputs for study 1 (ids, Kyoto 2013 traffic): `reproflow ids predict`,
`reproflow kyoto synth` and the ids rules' entry functions (reproflow.ids.jobs).

Predict cases need a trained model folder: one tiny untrained GRU-SVM saved by
the package's own `save_model_dir`, with the transform fitted on one synthetic
day, built once per source version (a child process; cached under the temp
folder, keyed by the SHA-256 of the ids sources) and copied into each case.
Cases refused before TensorFlow loads run under the default memory cap; those
that load it get `TF_MB`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from bad_inputs.hostile import Case

ROOT = Path(__file__).resolve().parents[2]
IDS = ROOT / "src" / "reproflow" / "ids"
TF_MB = 3500           # TensorFlow reserves about 2 GB of address space when it loads
DAY = "20130101"
GOOD = ("0.000000\tother\t0\t0\t0\t0.00\t0.00\t0.00\t0\t0\t0.00\t0.00\t0.00\tS0\t0\t0\t0\t-1\t"
        "fd75:41fb:cf76:20be:183a:1595:1ea6:5922\t2461\tfd75:41fb:cf76:39ef:7d8b:279c:615c:0d4d\t445\t00:00:00\ttcp")
FIELDS = ("duration", "service", "src_bytes", "dst_bytes", "count", "same_srv_rate", "serror_rate",
          "srv_serror_rate", "dst_host_count", "dst_host_srv_count", "dst_host_same_src_port_rate",
          "dst_host_serror_rate", "dst_host_srv_serror_rate", "flag", "ids_detection", "malware_detection",
          "ashula_detection", "label", "src_ip", "src_port", "dst_ip", "dst_port", "start_time", "protocol")

BUILD = """
import json, sys
from pathlib import Path
from reproflow.ids import jobs
from reproflow.ids.models import build_model, compile_model
from reproflow.ids.predict import save_model_dir
from reproflow.ids.preprocess import FEATURES, fit_split
from reproflow.ids.synth import write_days

root = Path(sys.argv[1])
raw = write_days(root / "raw", days=1, rows_per_day=200, seed=5)[0]
work = root / "work"
jobs.parse_day(source=str(raw), day=raw.stem, max_reject_share=0.0, split_seed=0, test_share=0.2,
               out={k: str(work / f"{k}.{e}") for k, e in
                     (("columns", "npz"), ("stats", "npz"), ("rejects", "tsv"), ("info", "json"))})
spec = fit_split([work / "stats.npz"], "all")
transform = work / "transform.json"
transform.write_text(json.dumps({"protocol": "clean", "features": list(FEATURES),
                                 "transforms": {"train": spec, "test": spec}}))
model = compile_model(build_model("gru_svm", n_steps=21, units=4, keep_prob=0.85), "gru_svm", 1e-3)
save_model_dir(model, root / "model", transform, {"arm": "gru_svm", "feature_set": "all",
                                                  "features": list(FEATURES)})
"""


def _cache() -> Path:
    """The cached model folder and its training day, built when the ids sources change."""
    digest = hashlib.sha256(BUILD.encode())
    for path in sorted(IDS.glob("*.py")):
        digest.update(path.read_bytes())
    cache = Path(tempfile.gettempdir()) / f"reproflow-hostile-ids-{digest.hexdigest()[:16]}"
    if not (cache / "model" / "model.json").exists():
        building = Path(tempfile.mkdtemp(prefix=cache.name + ".building-", dir=cache.parent))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT / "src")}
        subprocess.run([sys.executable, "-c", BUILD, str(building)], check=True, env=env, capture_output=True)
        try:
            building.rename(cache)
        except OSError:       # built meanwhile by another process
            shutil.rmtree(building, ignore_errors=True)
    return cache


def model(folder: Path, name: str = "model") -> Path:
    shutil.copytree(_cache() / "model", folder / name)
    return folder / name


def training_day(folder: Path, name: str = "day.txt") -> Path:
    """The day the cached model's transform was fitted on: no value outside its range."""
    shutil.copy(_cache() / "raw" / f"{DAY}.txt", folder / name)
    return folder / name


def record(**fields: str) -> str:
    parts = GOOD.split("\t")
    for name, value in fields.items():
        parts[FIELDS.index(name)] = value
    return "\t".join(parts)


def write(path: Path, lines: list[str] | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode())
    return path


def good_day(folder: Path, n: int = 10, name: str = f"{DAY}.txt") -> Path:
    return write(folder / name, [GOOD] * n)


def predict(*extra: str, model_dir: str = "{tmp}/model", source: str = "{tmp}/day.txt",
            out: str = "{tmp}/out.csv") -> list[str]:
    return ["ids", "predict", "--model", model_dir, "--input", source, "--out", out, *extra]


def synth(*extra: str, out: str = "{tmp}/synth") -> list[str]:
    return ["kyoto", "synth", "--out", out, *extra]


def parse_kwargs(source: str = "{tmp}/" + f"{DAY}.txt", share: float = 0.0, **out: str) -> dict:
    outputs = {"columns": "{tmp}/columns.npz", "stats": "{tmp}/stats.npz", "rejects": "{tmp}/rejects.tsv",
               "info": "{tmp}/info.json", **out}
    return {"source": source, "day": DAY, "out": outputs, "max_reject_share": share, "split_seed": 0,
            "test_share": 0.2}


def parse_case(id: str, klass: str, make, expect, **kwargs) -> Case:
    """A day through `jobs.parse_day`; a day stopped by its rejects keeps its rejects log."""
    return Case(id, klass, make, expect, runner="entry", entry="reproflow.ids.jobs:parse_day",
                kwargs=parse_kwargs(**kwargs), may_create=["rejects.tsv"])


# ------------------------------------------------------------ makers


def model_and_day(folder: Path) -> None:
    model(folder)
    good_day(folder, name="day.txt")


def with_symlinked_out(folder: Path) -> None:
    model_and_day(folder)
    (folder / "out.csv").symlink_to(folder / "day.txt")


def with_hardlinked_out(folder: Path) -> None:
    model_and_day(folder)
    os.link(folder / "day.txt", folder / "out.csv")


def with_input_folder(folder: Path) -> None:
    model(folder)
    good_day(folder / "raw")


def with_zip(folder: Path) -> None:
    model(folder)
    with zipfile.ZipFile(folder / "days.zip", "w") as archive:
        archive.writestr(f"{DAY}.txt", "\n".join([GOOD] * 5) + "\n")


def with_out_folder(folder: Path) -> None:
    model_and_day(folder)
    (folder / "out.csv").mkdir()


def utf16_and_an_earlier_result(folder: Path) -> None:
    model(folder)
    write(folder / "day.txt", ("\n".join([GOOD] * 5) + "\n").encode("utf-16"))
    (folder / "out.csv").write_text("file,line,score\nmy earlier predictions,1,0.5\n")


def model_without(name: str):
    def make(folder: Path) -> None:
        model_and_day(folder)
        (folder / "model" / name).unlink()
    return make


def model_with_stray_file(folder: Path) -> None:
    model_and_day(folder)
    (folder / "model" / "notes.txt").write_text("my notes\n")


def model_with(name: str, edit):
    def make(folder: Path) -> None:
        model_and_day(folder)
        path = folder / "model" / name
        path.write_bytes(edit(path.read_bytes()))
    return make


def _json_edit(change):
    def edit(data: bytes) -> bytes:
        content = json.loads(data)
        change(content)
        return json.dumps(content).encode()
    return edit


def _set(path: list, value):
    def change(content):
        for key in path[:-1]:
            content = content[key]
        content[path[-1]] = value
    return change


def infinite_mean(data: bytes) -> bytes:     # JSON reads 1e400 as inf
    content = json.loads(data)
    content["spec"]["numeric"]["src_bytes"]["mean"] = 12345.0
    return json.dumps(content).replace("12345.0", "1e400").encode()


def mismatched_feature_set(folder: Path) -> None:
    model_and_day(folder)
    (folder / "model" / "model.json").write_text(json.dumps({"arm": "gru_svm", "feature_set": "no_detection"}))


def day_with_dangling_link(folder: Path) -> None:
    model(folder)
    (folder / "day.txt").symlink_to(folder / "gone.txt")


def empty_input_folder(folder: Path) -> None:
    model(folder)
    (folder / "raw").mkdir()
    (folder / "raw" / "README.md").write_text("days go here\n")


def zip_with_duplicates(folder: Path) -> None:
    model(folder)
    with zipfile.ZipFile(folder / "days.zip", "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")      # zipfile warns of the duplicate name, and writes it
        archive.writestr(f"{DAY}.txt", GOOD + "\n")
        archive.writestr(f"{DAY}.txt", GOOD.replace("tcp", "udp") + "\n")


def zip_of_zeros(folder: Path) -> None:
    """150 MB of NUL bytes deflated to about 150 kB: a zip bomb of one line."""
    model(folder)
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(f"{DAY}.txt", "w", force_zip64=True) as member:
        block = bytes(1 << 20)
        for _ in range(150):
            member.write(block)


def zip_declaring_less_than_it_holds(folder: Path) -> None:
    """The central directory says 100 bytes; the member holds 2,000 (it reads as damaged)."""
    model(folder)
    data = ("\n".join([GOOD] * 8) + "\n").encode()
    with zipfile.ZipFile(folder / "days.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{DAY}.txt", data)
    raw = bytearray((folder / "days.zip").read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    size = len(data).to_bytes(4, "little")
    assert raw[central + 24:central + 28] == size
    raw[central + 24:central + 28] = (100).to_bytes(4, "little")
    (folder / "days.zip").write_bytes(bytes(raw))


def users_traffic(folder: Path) -> None:
    """197 records of the training day, 3 with src_bytes far above the training range,
    and 2 unparseable lines."""
    model(folder)
    lines = training_day(folder).read_text().splitlines()[:197]
    for k in (10, 20, 30):
        fields = lines[k].split("\t")
        fields[FIELDS.index("src_bytes")] = "900000000000"
        lines[k] = "\t".join(fields)
    lines[40:40] = ["not\ta\trecord", record(flag="XX")]
    write(folder / "day.txt", lines)


def existing_different_day(folder: Path) -> None:
    write(folder / "synth" / f"{DAY}.txt", [GOOD])


def a_file(folder: Path) -> None:
    (folder / "synth").write_text("not a folder\n")


def nothing(folder: Path) -> None:
    pass


def overflowing_numbers(folder: Path) -> None:
    write(folder / f"{DAY}.txt", [
        GOOD, record(duration="9" * 400), record(src_bytes="99999999999999999999999"),
        record(duration="1e400"), record(count="inf"), record(same_srv_rate="nan"),
        record(dst_host_count="101"), GOOD])


def day_link_to_nothing(folder: Path) -> None:
    (folder / f"{DAY}.txt").symlink_to(folder / "gone.txt")


def folder_without_day(folder: Path) -> None:
    good_day(folder / "archive", name="20130102.txt")


def utf16_day(folder: Path) -> None:
    write(folder / f"{DAY}.txt", ("\n".join([GOOD] * 6) + "\n").encode("utf-16"))


def bom_day(folder: Path) -> None:
    write(folder / f"{DAY}.txt", b"\xef\xbb\xbf" + ("\n".join([GOOD] * 6) + "\n").encode())


def cr_only_day(folder: Path) -> None:
    write(folder / f"{DAY}.txt", ("\r".join([GOOD] * 6) + "\r").encode())


def nul_in_field(folder: Path) -> None:
    write(folder / f"{DAY}.txt", [GOOD, record(src_bytes="12\x0034"), GOOD])


def zero_width_in_field(folder: Path) -> None:
    write(folder / f"{DAY}.txt", [GOOD, GOOD, record(service="ht\u200btp")])


def huge_line(folder: Path) -> None:
    """Ten records, then 200 MB without a line break."""
    with open(folder / f"{DAY}.txt", "wb") as handle:
        handle.write(("\n".join([GOOD] * 10) + "\n").encode())
        block = b"7" * (1 << 20)
        for _ in range(200):
            handle.write(block)


def stats_with_infinity(folder: Path) -> None:
    """Two days' statistics, as parse_day writes them, one holding an infinite duration."""
    from reproflow.ids import jobs

    for day in ("20130101", "20130102"):
        good_day(folder / "raw", name=f"{day}.txt")
        jobs.parse_day(source=str(folder / "raw" / f"{day}.txt"), day=day, max_reject_share=0.0, split_seed=0,
                       test_share=0.2, out={k: str(folder / day / f"{k}.{e}") for k, e in (
                            ("columns", "npz"), ("stats", "npz"), ("rejects", "tsv"), ("info", "json"))})
    with np.load(folder / "20130101" / "stats.npz") as data:
        arrays = {key: data[key] for key in data.files}
    arrays["all/duration/values"] = np.array([np.inf])
    arrays["all/duration/counts"] = np.array([10])
    np.savez(folder / "20130101" / "stats.npz", **arrays)


def truncated_columns(folder: Path) -> None:
    good_day(folder / "raw")
    from reproflow.ids import jobs

    jobs.parse_day(source=str(folder / "raw" / f"{DAY}.txt"), day=DAY, max_reject_share=0.0, split_seed=0,
                   test_share=0.2, out={k: str(folder / f"{k}.{e}") for k, e in (
                        ("columns", "npz"), ("stats", "npz"), ("rejects", "tsv"), ("info", "json"))})
    data = (folder / "columns.npz").read_bytes()
    (folder / "columns.npz").write_bytes(data[: len(data) // 2])
    (folder / "fitted.json").write_text(json.dumps({"protocol": "clean", "days": {"train": [], "test": [DAY]}}))


# ------------------------------------------------------------ the cases

CASES = [
    # 1. no input overwritten or lost
    Case("ids-predict-out-is-input", "output is an input", model_and_day, ["{tmp}/day.txt", "is the input"],
         argv=predict(out="{tmp}/day.txt")),
    Case("ids-predict-out-symlink-to-input", "output is an input", with_symlinked_out, ["{tmp}/out.csv", "is the input"],
         argv=predict()),
    Case("ids-predict-out-hardlink-to-input", "output is an input", with_hardlinked_out, ["{tmp}/out.csv", "is the input"],
         argv=predict()),
    Case("ids-predict-out-inside-input-folder", "output is an input", with_input_folder,
         ["{tmp}/raw/out.csv", "inside the input folder {tmp}/raw"],
         argv=predict(source="{tmp}/raw", out="{tmp}/raw/out.csv")),
    Case("ids-predict-out-is-input-zip", "output is an input", with_zip, ["{tmp}/days.zip", "is the input"],
         argv=predict(source="{tmp}/days.zip", out="{tmp}/days.zip")),
    Case("ids-predict-out-is-model-file", "output is an input", model_and_day, ["{tmp}/model/transform.json", "input"],
         argv=predict(out="{tmp}/model/transform.json")),
    Case("ids-predict-out-is-a-folder", "unusable output path", with_out_folder, ["{tmp}/out.csv", "is a folder"],
         argv=predict()),
    Case("ids-predict-out-under-a-file", "unusable output path", model_and_day, ["{tmp}/day.txt", "is not a folder"],
         argv=predict(out="{tmp}/day.txt/out.csv")),
    Case("ids-predict-failure-keeps-earlier-output", "encoding", utf16_and_an_earlier_result,
         ["{tmp}/day.txt", "UTF-16", "none of its"], argv=predict(), memory_mb=TF_MB),
    Case("ids-synth-refuses-a-different-existing-day", "output is an input", existing_different_day,
         ["{tmp}/synth/20130101.txt", "exists and differs", "never replaces"],
         argv=synth("--days", "2", "--rows-per-day", "5")),
    Case("ids-synth-out-is-a-file", "unusable output path", a_file, ["{tmp}/synth", "expected a folder"],
         argv=synth("--days", "1", "--rows-per-day", "5")),
    Case("ids-parse-out-is-input", "output is an input", good_day, ["{tmp}/20130101.txt", "is the input"],
         runner="entry", entry="reproflow.ids.jobs:parse_day", kwargs=parse_kwargs(columns="{tmp}/20130101.txt")),
    # 2. numbers finite and in range
    Case("ids-synth-days-zero", "non-finite or out-of-range number", nothing, ["days = 0", "1..3660"],
         argv=synth("--days", "0", "--rows-per-day", "5")),
    Case("ids-synth-rows-beyond-memory", "bounded resources", nothing, ["9000000 rows per day", "MiB available"],
         argv=synth("--days", "1", "--rows-per-day", "9000000"), memory_mb=1200),
    Case("ids-synth-rows-absurd", "non-finite or out-of-range number", nothing, ["rows per day = 1000000000000", "1..10000000"],
         argv=synth("--days", "1", "--rows-per-day", "1000000000000")),
    Case("ids-synth-label-noise-nan", "non-finite or out-of-range number", nothing, ["label noise = nan", "finite share in [0, 1)"],
         argv=synth("--days", "1", "--rows-per-day", "5", "--label-noise", "nan")),
    Case("ids-synth-first-day-not-a-date", "non-finite or out-of-range number", nothing, ["'20130230'", "YYYYMMDD date"],
         argv=synth("--days", "1", "--rows-per-day", "5", "--first-day", "20130230")),
    Case("ids-synth-days-past-9999", "non-finite or out-of-range number", nothing, ["past the year 9999"],
         argv=synth("--days", "3", "--rows-per-day", "5", "--first-day", "99991230")),
    Case("ids-synth-negative-seed", "non-finite or out-of-range number", nothing, ["seed = -1", "0..9223372036854775807"],
         argv=synth("--days", "1", "--rows-per-day", "5", "--seed", "-1")),
    Case("ids-predict-batch-size-zero", "non-finite or out-of-range number", model_and_day, ["batch size = 0", "1..65536"],
         argv=predict("--batch-size", "0")),
    parse_case("ids-parse-overflowing-numbers", "non-finite or out-of-range number", overflowing_numbers, [
        "{tmp}/20130101.txt", "6 of 8 lines",
        "20130101.txt:2: duration: expected a duration in 0..1e9 seconds, got '9999",
        "20130101.txt:3: src_bytes: expected an integer in 0..9007199254740991, got '99999999999999999999999'",
        "20130101.txt:4: duration: expected a non-negative decimal number, got '1e400'",
        "20130101.txt:5: count: expected a non-negative integer, got 'inf'",
        "20130101.txt:6: same_srv_rate: expected a non-negative decimal number, got 'nan'"]),
    Case("ids-fit-infinite-statistics", "non-finite or out-of-range number", stats_with_infinity,
         ["fit all: duration", "NaN or infinite", "expected finite numbers"], runner="entry",
         entry="reproflow.ids.jobs:fit_protocol",
         kwargs={"protocol": "clean", "stats": {"20130101": "{tmp}/20130101/stats.npz",
                                                "20130102": "{tmp}/20130102/stats.npz"},
                 "days": ["20130101", "20130102"], "test_days": 1, "out": "{tmp}/fitted.json"}),
    Case("ids-predict-transform-infinite-mean", "non-finite or out-of-range number", model_with("transform.json", infinite_mean),
         ["{tmp}/model/transform.json", "spec.numeric.src_bytes.mean = inf", "finite number"], argv=predict()),
    # 3. every failure a ReproflowError naming the file and what was expected
    Case("ids-predict-model-without-model-json", "corrupt, partial or foreign file", model_without("model.json"),
         ["{tmp}/model", "missing model.json", "model.keras, transform.json, model.json"], argv=predict()),
    Case("ids-predict-model-with-a-stray-file", "corrupt, partial or foreign file", model_with_stray_file,
         ["{tmp}/model", "notes.txt", "expected exactly model.keras, transform.json, model.json"], argv=predict()),
    Case("ids-predict-transform-not-json", "corrupt, partial or foreign file", model_with("transform.json", lambda data: data[:-40]),
         ["{tmp}/model/transform.json", "not JSON", "line"], argv=predict()),
    Case("ids-predict-model-json-wrong-type", "corrupt, partial or foreign file",
         model_with("model.json", _json_edit(_set(["feature_set"], 3))),
         ["{tmp}/model/model.json", "key feature_set is int", "expected str"], argv=predict()),
    Case("ids-predict-transform-missing-key", "corrupt, partial or foreign file",
         model_with("transform.json", _json_edit(lambda c: c["spec"]["numeric"].pop("dst_port"))),
         ["{tmp}/model/transform.json", "spec.numeric.dst_port", "missing"], argv=predict()),
    Case("ids-predict-truncated-keras", "corrupt, partial or foreign file", model_with("model.keras", lambda data: data[: len(data) // 2]),
         ["{tmp}/model/model.keras", "not a loadable .keras model"], argv=predict(), memory_mb=TF_MB),
    Case("ids-predict-feature-set-mismatch", "corrupt, partial or foreign file", mismatched_feature_set,
         ["{tmp}/model/model.keras", "(None, 21, 10)", "(None, 18, 10)", "no_detection"], argv=predict(),
         memory_mb=TF_MB),
    Case("ids-predict-input-dangling-link", "data path", day_with_dangling_link,
         ["{tmp}/day.txt", "dangling symbolic link"], argv=predict()),
    Case("ids-predict-input-folder-without-days", "data path", empty_input_folder,
         ["{tmp}/raw", "no .txt or .zip files inside"], argv=predict(source="{tmp}/raw")),
    parse_case("ids-parse-dangling-link", "data path", day_link_to_nothing, ["{tmp}/20130101.txt", "dangling"]),
    parse_case("ids-parse-folder-without-the-day", "data path", folder_without_day,
               ["{tmp}/archive", "no daily file 20130101.txt"], source="{tmp}/archive"),
    parse_case("ids-parse-utf16", "encoding", utf16_day,
               ["{tmp}/20130101.txt", "20130101.txt:1: encoding: not UTF-8 text", "UTF-16"]),
    parse_case("ids-parse-utf8-bom", "encoding", bom_day,
               ["20130101.txt:1: encoding: UTF-8 byte-order mark (EF BB BF) at the start of the file"]),
    parse_case("ids-parse-cr-only-line-endings", "encoding", cr_only_day,
               ["20130101.txt:1: line endings: carriage return (CR) inside the line", "CR-only"]),
    parse_case("ids-parse-nul-in-a-field", "encoding", nul_in_field,
               ["20130101.txt:2: encoding: NUL character (0x00) in src_bytes"]),
    parse_case("ids-parse-zero-width-space", "encoding", zero_width_in_field,
               ["20130101.txt:3: encoding: invisible character U+200B (ZERO WIDTH SPACE) in service"]),
    Case("ids-transform-truncated-columns", "data path", truncated_columns,
         ["{tmp}/columns.npz", "not a readable .npz file"], runner="entry", entry="reproflow.ids.jobs:transform_days",
         kwargs={"columns": {DAY: "{tmp}/columns.npz"}, "fitted": "{tmp}/fitted.json", "split_seed": 0,
                 "test_share": 0.2,
                 "out": {"binned": {DAY: "{tmp}/binned.npz"}, "info": {DAY: "{tmp}/transform.json"}}}),
    # 4. bounded resources
    parse_case("ids-parse-200-mb-line", "bounded resources", huge_line,
               ["20130101.txt:11: line too long: 209715200 bytes", "at most 1048576 bytes"], share=0.05),
    Case("ids-predict-zip-duplicate-members", "bounded resources", zip_with_duplicates,
         ["{tmp}/days.zip", "20130101.txt more than once"], argv=predict(source="{tmp}/days.zip")),
    Case("ids-predict-zip-bomb-over-the-cap", "bounded resources", zip_of_zeros,
         ["{tmp}/bomb.zip:20130101.txt", "declares 157286400 bytes", "cap of 104857600"],
         argv=predict("--max-member-mb", "100", source="{tmp}/bomb.zip")),
    Case("ids-predict-zip-bomb-streamed", "bounded resources", zip_of_zeros,
         ["{tmp}/bomb.zip:20130101.txt", "none of its 1 lines", "line too long: 157286400 bytes"],
         argv=predict(source="{tmp}/bomb.zip"), memory_mb=TF_MB),
    Case("ids-predict-zip-declares-less-than-it-holds", "bounded resources", zip_declaring_less_than_it_holds,
         ["{tmp}/days.zip:20130101.txt", "damaged zip member"], argv=predict(source="{tmp}/days.zip"),
         memory_mb=TF_MB),
    # 7. the user's own traffic: what was scored, and how unlike the training data it is
    Case("ids-predict-reports-scored-unparseable-and-clipped", "ids predict report", users_traffic, [
        "197 records scored", "2 unparseable lines", "3 feature values outside the range seen in training",
        "(src_bytes 3)", "0 categories unseen", "differ from the training data"],
         argv=predict(), status=0, memory_mb=TF_MB, may_create=["out.csv"]),
]
