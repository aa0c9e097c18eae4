"""The Kyoto 2006+ (2013 release) record format and a streaming, validating parser.

One record per line, 24 tab-separated fields, no header, daily files
`YYYYMMDD.txt` (Song, Takakura, Okabe: official description). The detection
fields may hold commas (`4060-1-8(1),1448-1-19(1)`), so only tabs separate
fields. A malformed record is never dropped silently: it goes to a rejects
file (file, line, reason), is counted, and `check_reject_share` stops the run
when the share of rejects passes the configured threshold.
"""

from __future__ import annotations

import csv
import ipaddress
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from reproflow.errors import ReproflowError

FIELDS = (
    "duration", "service", "src_bytes", "dst_bytes", "count", "same_srv_rate",
    "serror_rate", "srv_serror_rate", "dst_host_count", "dst_host_srv_count",
    "dst_host_same_src_port_rate", "dst_host_serror_rate", "dst_host_srv_serror_rate",
    "flag", "ids_detection", "malware_detection", "ashula_detection", "label",
    "src_ip", "src_port", "dst_ip", "dst_port", "start_time", "protocol",
)
FLAGS = ("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH")
PROTOCOLS = ("tcp", "udp", "icmp")
LABELS = {"1": 1, "-1": -1, "-2": -2}
# The 15 columns the authors standardise and bin, in the order stored here.
NUMERIC = (
    "duration", "src_bytes", "dst_bytes", "count", "same_srv_rate", "serror_rate",
    "srv_serror_rate", "dst_host_count", "dst_host_srv_count", "dst_host_same_src_port_rate",
    "dst_host_serror_rate", "dst_host_srv_serror_rate", "src_port", "dst_port", "start_time",
)
CATEGORICAL = ("service", "flag", "protocol")
DETECTION = ("ids_detection", "malware_detection", "ashula_detection")
RATES = frozenset({
    "same_srv_rate", "serror_rate", "srv_serror_rate", "dst_host_same_src_port_rate",
    "dst_host_serror_rate", "dst_host_srv_serror_rate",
})
COUNTS = frozenset({"src_bytes", "dst_bytes", "count", "dst_host_count", "dst_host_srv_count"})
DAY_FILE = re.compile(r"^(\d{8})\.txt$")

_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[0-9]+(\.[0-9]+)?")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])")
_SERVICE = re.compile(r"[A-Za-z0-9_.:,+-]+")
# `0`, or comma-separated alert names/codes, each with an optional (count)
_DETECTION = re.compile(r"0|[^\s(),]+(\([0-9]+\))?(,[^\s(),]+(\([0-9]+\))?)*")
_INDEX = {name: i for i, name in enumerate(FIELDS)}
REJECT_COLUMNS = ("file", "line", "reason", "text")


class FieldError(ValueError):
    """One field of one record is malformed (the message is the reject reason)."""


@dataclass
class Columns:
    """Parsed records of one source, column by column (numpy arrays)."""

    numeric: np.ndarray      # float64 [n, 15], NUMERIC order; start_time in hours
    service: np.ndarray      # str [n]
    flag: np.ndarray         # str [n]
    protocol: np.ndarray     # str [n]
    detection: np.ndarray    # uint8 [n, 3]: 1 if the detector fired
    label: np.ndarray        # int8 [n]: 1 normal, -1 known attack, -2 unknown attack
    line: np.ndarray         # int64 [n]: 1-based line numbers in the source

    def __len__(self) -> int:
        return len(self.label)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, **{key: getattr(self, key) for key in self.keys()})

    @classmethod
    def load(cls, path: str | Path) -> Columns:
        with np.load(path, allow_pickle=False) as data:
            return cls(**{key: data[key] for key in cls.keys()})

    @staticmethod
    def keys() -> tuple[str, ...]:
        return ("numeric", "service", "flag", "protocol", "detection", "label", "line")


@dataclass
class RejectLog:
    """Collects rejects: written to `path` as they come (TSV), counted by reason."""

    path: str | Path | None = None
    n_rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: list[tuple[str, int, str]] = field(default_factory=list)
    _handle: IO[str] | None = None
    _writer: object = None

    def __enter__(self) -> RejectLog:
        if self.path is not None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle, delimiter="\t", lineterminator="\n")
            self._writer.writerow(REJECT_COLUMNS)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()

    def add(self, source: str, line: int, reason: str, text: str) -> None:
        self.n_rejected += 1
        self.reasons[reason.split(":")[0]] += 1
        if len(self.examples) < 20:
            self.examples.append((source, line, reason))
        if self._writer is not None:
            self._writer.writerow((source, line, reason, text[:200].replace("\t", "\\t")))


def _count(text: str, name: str) -> float:
    if not _INT.fullmatch(text):
        raise FieldError(f"{name}: expected a non-negative integer, got {text!r}")
    return float(text)


def _seconds(text: str, name: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise FieldError(f"{name}: expected a non-negative decimal number, got {text!r}")
    return float(text)


def _rate(text: str, name: str) -> float:
    value = _seconds(text, name)
    if value > 1.0:
        raise FieldError(f"{name}: expected a rate in [0, 1], got {text!r}")
    return value


def _port(text: str, name: str) -> float:
    value = _count(text, name)
    if value > 65535:
        raise FieldError(f"{name}: expected a port in 0..65535, got {text!r}")
    return value


def _hours(text: str) -> float:
    match = _TIME.fullmatch(text)
    if match is None:
        raise FieldError(f"start_time: expected hh:mm:ss (00:00:00-23:59:59), got {text!r}")
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours + minutes / 60 + seconds / 3600


def _detection(text: str, name: str) -> int:
    if not _DETECTION.fullmatch(text):
        raise FieldError(f"{name}: expected 0 or alert codes like 4060-1-8(1),1448-1-19(1), got {text!r}")
    return 0 if text == "0" else 1


def _ip(text: str, name: str) -> None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise FieldError(f"{name}: expected an (anonymised) IP address, got {text!r}") from None


_NUMERIC_PARSERS = tuple(
    (_INDEX[name], name, _rate if name in RATES else _count if name in COUNTS
     else _port if name.endswith("_port") else _seconds)
    for name in NUMERIC if name != "start_time"
)


def parse_fields(fields: list[str]) -> tuple[list[float], str, str, str, tuple[int, int, int], int]:
    """Validate one record's 24 fields; raise FieldError naming the bad field."""
    if len(fields) != len(FIELDS):
        raise FieldError(f"field count: expected {len(FIELDS)} tab-separated fields, got {len(fields)}")
    numeric = [parse(fields[i], name) for i, name, parse in _NUMERIC_PARSERS]
    numeric.append(_hours(fields[22]))
    service, flag, protocol = fields[1], fields[13], fields[23]
    if not _SERVICE.fullmatch(service):
        raise FieldError(f"service: expected a service name, got {service!r}")
    if flag not in FLAGS:
        raise FieldError(f"flag: expected one of {' '.join(FLAGS)}, got {flag!r}")
    if protocol not in PROTOCOLS:
        raise FieldError(f"protocol: expected one of {'/'.join(PROTOCOLS)}, got {protocol!r}")
    detection = tuple(_detection(fields[14 + k], DETECTION[k]) for k in range(3))
    label = LABELS.get(fields[17])
    if label is None:
        raise FieldError(f"label: expected 1, -1 or -2, got {fields[17]!r}")
    _ip(fields[18], "src_ip")
    _ip(fields[20], "dst_ip")
    return numeric, service, flag, protocol, detection, label


def parse_lines(source: str, lines: Iterable[bytes], rejects: RejectLog) -> tuple[Columns, int]:
    """Parse one source's lines (bytes, as read); returns the columns and the line count."""
    numeric, service, flag, protocol, detection, label, numbers = [], [], [], [], [], [], []
    n_lines = 0
    for number, raw in enumerate(lines, start=1):
        n_lines = number
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            rejects.add(source, number, "encoding: not UTF-8 text", raw.decode("utf-8", "replace"))
            continue
        text = text.rstrip("\r\n")
        if not text.strip():
            rejects.add(source, number, "empty line: expected a record", text)
            continue
        try:
            values = parse_fields(text.split("\t"))
        except FieldError as error:
            rejects.add(source, number, str(error), text)
            continue
        numeric.append(values[0])
        service.append(values[1])
        flag.append(values[2])
        protocol.append(values[3])
        detection.append(values[4])
        label.append(values[5])
        numbers.append(number)
    columns = Columns(
        numeric=np.asarray(numeric, dtype=np.float64).reshape(-1, len(NUMERIC)),
        service=np.asarray(service, dtype=str),
        flag=np.asarray(flag, dtype=str),
        protocol=np.asarray(protocol, dtype=str),
        detection=np.asarray(detection, dtype=np.uint8).reshape(-1, 3),
        label=np.asarray(label, dtype=np.int8),
        line=np.asarray(numbers, dtype=np.int64),
    )
    return columns, n_lines


def check_reject_share(n_rejected: int, n_lines: int, max_share: float, source: str,
                       rejects: RejectLog | None = None) -> None:
    """Stop with a clear error when the share of rejected lines passes `max_share`."""
    if n_lines == 0:
        raise ReproflowError(f"{source}: no records (empty file); expected Kyoto 2013 records, "
                             f"{len(FIELDS)} tab-separated fields per line")
    share = n_rejected / n_lines
    if share > max_share:
        shown = "; ".join(f"{f}:{n}: {r}" for f, n, r in (rejects.examples[:5] if rejects else []))
        raise ReproflowError(
            f"{source}: {n_rejected} of {n_lines} lines ({share:.2%}) are malformed, more than "
            f"ids.max_reject_share = {max_share:.2%}; first: {shown}"
        )


def find_day_file(folder: str | Path, day: str) -> Path:
    """The daily file `<day>.txt` anywhere under an extracted archive folder."""
    matches = sorted(Path(folder).rglob(f"{day}.txt"))
    if not matches:
        raise ReproflowError(f"{folder}: no daily file {day}.txt inside (was the archive extracted?)")
    if len(matches) > 1:
        raise ReproflowError(f"{folder}: {day}.txt found more than once: {[str(m) for m in matches]}")
    return matches[0]


def iter_sources(path: str | Path) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(name, lines) of every Kyoto file in a .txt file, a .zip archive or a folder.

    Folders are searched recursively for `*.txt` and `*.zip`; archive members
    are read without extracting them.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".zip") and p.is_file())
        if not files:
            raise ReproflowError(f"{path}: no .txt or .zip files inside")
        for file in files:
            yield from iter_sources(file)
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member.endswith(".txt"):
                    with archive.open(member) as handle:
                        yield f"{path}:{member}", iter(handle)
    elif path.is_file():
        with open(path, "rb") as handle:
            yield str(path), iter(handle)
    else:
        raise ReproflowError(f"{path}: no such file or folder")


def read_rejects(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
