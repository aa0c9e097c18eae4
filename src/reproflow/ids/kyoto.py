"""The Kyoto 2006+ (2013 release) record format and a streaming, validating parser.

One record per line, 24 tab-separated fields, no header, daily files
`YYYYMMDD.txt` (Song, Takakura, Okabe: official description). The detection
fields may hold commas (`4060-1-8(1),1448-1-19(1)`), so only tabs separate
fields. A malformed record is never dropped silently: it goes to a rejects
file (file, line, reason), is counted, and `check_reject_share` stops the run
when the share of rejects passes the configured threshold.

What a field may hold is written once, in `NUMBER_RULES` (the numeric
fields: format, largest value) and `parse_fields` (the others); the
vectorised fast path and the per-line parser both read them. A line is never
held whole beyond `MAX_LINE_BYTES`, and characters a record cannot hold (a
byte-order mark, CR inside a line, NUL, invisible format characters, UTF-16
text) are rejected with a reason that names them.
"""

from __future__ import annotations

import csv
import ipaddress
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.outputs import atomic_output, check_finite, check_input_file

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
EXACT_INTEGER = 2**53 - 1    # the largest count stored exactly as a float64 (and within int64)


@dataclass(frozen=True)
class NumberRule:
    """One numeric field: digits (`decimal`: digits[.digits]) at most `high`; what the
    reject reason says was expected of its format and of its range."""

    decimal: bool
    high: float
    format: str
    range: str


def _number_rule(name: str) -> NumberRule:
    if name in RATES:
        return NumberRule(True, 1.0, "a non-negative decimal number", "a rate in [0, 1]")
    if name.endswith("_port"):
        return NumberRule(False, 65535, "a non-negative integer", "a port in 0..65535")
    if name in ("dst_host_count", "dst_host_srv_count"):   # counted among the past 100 connections
        return NumberRule(False, 100, "a non-negative integer", "a count in 0..100 (of the past 100 connections)")
    if name in COUNTS:
        return NumberRule(False, EXACT_INTEGER, "a non-negative integer", f"an integer in 0..{EXACT_INTEGER}")
    # a session longer than 1e9 s (31 years) is a corrupt value, and its square would
    # overflow the fitted scaler's variance
    return NumberRule(True, 1e9, "a non-negative decimal number", "a duration in 0..1e9 seconds")


# The numeric fields' rules, in one table (start_time has its own, hh:mm:ss).
NUMBER_RULES = {name: _number_rule(name) for name in NUMERIC if name != "start_time"}
MAX_LINE_BYTES = 1 << 20    # a Kyoto record is about 250 bytes; a longer line is refused unread
DAY_FILE = re.compile(r"^(\d{8})\.txt$")

_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[0-9]+(\.[0-9]+)?")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])")
_SERVICE = re.compile(r"[A-Za-z0-9_.:,+-]+")
# `0`, or comma-separated alert names/codes, each with an optional (count)
_DETECTION = re.compile(r"0|[^\s(),]+(\([0-9]+\))?(,[^\s(),]+(\([0-9]+\))?)*")
_INDEX = {name: i for i, name in enumerate(FIELDS)}
REJECT_COLUMNS = ("file", "line", "reason", "text")


def save_npz(path: str | Path, compress: bool = True, *, inputs: Iterable[str | Path] = (),
             **arrays: np.ndarray) -> None:
    """np.savez_compressed with fast compression (zlib level 1): a file np.load reads
    as any .npz, about 25% larger than level 6 and 3-4 times faster to write;
    `compress=False`: stored as np.savez does. Every array is checked finite, and the
    file written beside `path` and renamed when complete (never over one of `inputs`)."""
    for key, value in arrays.items():
        check_finite(value, f"{path}: {key}")
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_output(path, inputs) as tmp, \
            zipfile.ZipFile(tmp, "w", method, compresslevel=1 if compress else None) as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(value), allow_pickle=False)


def open_npz(path: str | Path, keys: Iterable[str] = ()) -> np.lib.npyio.NpzFile:
    """An .npz file a previous step wrote (no pickles), holding `keys`; else a ReproflowError."""
    check_input_file(path, "an .npz file a previous step wrote")
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ReproflowError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ReproflowError(f"{path}: not a readable .npz file ({error})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ReproflowError(f"{path}: a single .npy array; expected an .npz archive")
    missing = [key for key in keys if key not in data.files]
    if missing:
        data.close()
        raise ReproflowError(f"{path}: lacks {', '.join(missing)}; expected the arrays {', '.join(keys)}")
    return data


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

    def save(self, path: str | Path, inputs: Iterable[str | Path] = ()) -> None:
        # stored, not deflated: a day's columns are read once, by the fit and the transform,
        # and compressing them was a quarter of the parse job
        save_npz(path, compress=False, inputs=inputs, **{key: getattr(self, key) for key in self.keys()})

    @classmethod
    def load(cls, path: str | Path) -> Columns:
        with open_npz(path, cls.keys()) as data:
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


def _got(text: str) -> str:
    """A field's value as a reason shows it: repr, long values cut."""
    return repr(text) if len(text) <= 80 else f"{text[:80]!r}... ({len(text)} characters)"


def _number(text: str, name: str, rule: NumberRule) -> float:
    if not (_FLOAT if rule.decimal else _INT).fullmatch(text):
        raise FieldError(f"{name}: expected {rule.format}, got {_got(text)}")
    value = float(text)     # a too long number is inf here, and above `high`
    if not value <= rule.high:
        raise FieldError(f"{name}: expected {rule.range}, got {_got(text)}")
    return value


def _hours(text: str) -> float:
    match = _TIME.fullmatch(text)
    if match is None:
        raise FieldError(f"start_time: expected hh:mm:ss (00:00:00-23:59:59), got {_got(text)}")
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours + minutes / 60 + seconds / 3600


def _detection(text: str, name: str) -> int:
    if not _DETECTION.fullmatch(text):
        raise FieldError(f"{name}: expected 0 or alert codes like 4060-1-8(1),1448-1-19(1), got {_got(text)}")
    return 0 if text == "0" else 1


def _ip(text: str, name: str) -> None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise FieldError(f"{name}: expected an (anonymised) IP address, got {_got(text)}") from None


_NUMERIC_RULES = tuple((_INDEX[name], name, rule) for name, rule in NUMBER_RULES.items())


def parse_fields(fields: list[str]) -> tuple[list[float], str, str, str, tuple[int, int, int], int]:
    """Validate one record's 24 fields; raise FieldError naming the bad field."""
    if len(fields) != len(FIELDS):
        raise FieldError(f"field count: expected {len(FIELDS)} tab-separated fields, got {len(fields)}")
    numeric = [_number(fields[i], name, rule) for i, name, rule in _NUMERIC_RULES]
    numeric.append(_hours(fields[22]))
    service, flag, protocol = fields[1], fields[13], fields[23]
    if not _SERVICE.fullmatch(service):
        raise FieldError(f"service: expected a service name, got {_got(service)}")
    if flag not in FLAGS:
        raise FieldError(f"flag: expected one of {' '.join(FLAGS)}, got {_got(flag)}")
    if protocol not in PROTOCOLS:
        raise FieldError(f"protocol: expected one of {'/'.join(PROTOCOLS)}, got {_got(protocol)}")
    detection = tuple(_detection(fields[14 + k], DETECTION[k]) for k in range(3))
    label = LABELS.get(fields[17])
    if label is None:
        raise FieldError(f"label: expected 1, -1 or -2, got {_got(fields[17])}")
    _ip(fields[18], "src_ip")
    _ip(fields[20], "dst_ip")
    return numeric, service, flag, protocol, detection, label


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
UTF16_BOMS = {b"\xff\xfe": "FF FE (little-endian)", b"\xfe\xff": "FE FF (big-endian)"}


def _field_at(text: str, position: int) -> str:
    index = text.count("\t", 0, position)
    return FIELDS[index] if index < len(FIELDS) else f"field {index + 1}"


def _line_problem(text: str, number: int) -> str | None:
    """The reason a decoded line is not one record's text: a byte-order mark, CR inside."""
    if text.startswith("\ufeff"):
        where = "the file" if number == 1 else "the line"
        return (f"encoding: UTF-8 byte-order mark (EF BB BF) at the start of {where}; "
                "expected UTF-8 text without a byte-order mark")
    if "\r" in text:
        return ("line endings: carriage return (CR) inside the line; expected one record per line, "
                "lines ending in LF or CRLF (CR-only line endings?)")
    return None


def _character_problem(text: str) -> str | None:
    """The reason a line of 24 fields holds characters no field can: NUL (UTF-16
    text), control or invisible format characters."""
    control = _CONTROL.search(text)
    if control is not None:
        if control.group() == "\x00":
            if text.count("\x00") * 3 >= len(text):
                return "encoding: NUL bytes between the characters: UTF-16 text? expected UTF-8"
            return f"encoding: NUL character (0x00) in {_field_at(text, control.start())}; expected text"
        return (f"encoding: control character U+{ord(control.group()):04X} in "
                f"{_field_at(text, control.start())}; expected printable text")
    if not text.isascii():
        for position, char in enumerate(text):
            if unicodedata.category(char) in ("Cf", "Co", "Cn", "Zl", "Zp"):
                name = unicodedata.name(char, "unnamed")
                return (f"encoding: invisible character U+{ord(char):04X} ({name}) in "
                        f"{_field_at(text, position)}; expected visible text")
    return None


def _not_utf8(raw: bytes, number: int) -> str:
    bom = UTF16_BOMS.get(raw[:2]) if number == 1 else None
    if bom:
        return f"encoding: not UTF-8 text (the UTF-16 byte-order mark {bom} starts the file: UTF-16 text)"
    return "encoding: not UTF-8 text"


def _reject_overlong(source: str, number: int, head: bytes, length: int, rejects: RejectLog) -> None:
    reason = f"line too long: {length} bytes; expected a record of at most {MAX_LINE_BYTES} bytes"
    if b"\r" in head:
        reason += " (it holds carriage returns: CR-only line endings? expected LF or CRLF)"
    rejects.add(source, number, reason, head[:200].decode("utf-8", "replace"))


def _parse_line(source: str, number: int, raw: bytes, rejects: RejectLog) -> tuple | None:
    """One line, validated field by field: the record's values, or None (rejected)."""
    body = raw[:-1] if raw.endswith(b"\n") else raw
    if len(body) > MAX_LINE_BYTES:
        _reject_overlong(source, number, body[:4096], len(body), rejects)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        rejects.add(source, number, _not_utf8(raw, number), raw[:4096].decode("utf-8", "replace"))
        return None
    text = text.rstrip("\r\n")
    problem = _line_problem(text, number)
    if problem is None and not text.strip():
        problem = "empty line: expected a record"
    fields = text.split("\t")
    if problem is None and len(fields) == len(FIELDS):
        problem = _character_problem(text)
    if problem is not None:
        rejects.add(source, number, problem, text)
        return None
    try:
        return parse_fields(fields)
    except FieldError as error:
        rejects.add(source, number, str(error), text)
        return None


# ---------------------------------------------------------------- fast path
# A block of lines is parsed with numpy: every line of printable ASCII with
# exactly 23 tabs is checked column by column (digits, one dot, ranges, time
# pattern; string fields through their distinct values and the same checks as
# parse_fields). A line any check does not accept is not rejected here: it
# goes through `_parse_line`, which rejects it with its reason (or accepts it,
# e.g. a valid non-ASCII detection name), so records and rejects are exactly
# those of parsing line by line. Numbers are exact: a decimal of at most 15
# digits is m / 10**k with m < 2**53 and k <= 15, one correctly rounded
# division, which is what float(text) returns; longer ones take the slow path.

CHUNK_BYTES = 8 << 20
_MAX_DIGITS = 15
_POW10 = 10.0 ** np.arange(_MAX_DIGITS + 2)
_STRING_CAP = 256


def _field_bytes(a: np.ndarray, start: np.ndarray, end: np.ndarray, cap: int, multiple: int = 1,
                 pad: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each field's bytes as rows of a uint8 matrix [m, width <= cap] (width rounded up
    to `multiple`), zero-padded unless `pad` is false (then the bytes after the field
    are left in place); its lengths, and whether it fits.
    `a` ends with at least `cap` + `multiple` zero bytes."""
    length = end - start
    fits = length <= cap
    width = int(min(max(int(length.max()), 1), cap))
    width += -width % multiple
    matrix = np.lib.stride_tricks.sliding_window_view(a, width)[start]    # copies m rows of `width` bytes
    if pad:
        matrix *= np.arange(width) < length[:, None]
    return matrix, length, fits


def _fast_number(a: np.ndarray, start: np.ndarray, end: np.ndarray, decimal: bool) -> tuple[np.ndarray, np.ndarray]:
    """A column of integers (digits) or decimals (digits[.digits]): values, accepted."""
    matrix, length, ok = _field_bytes(a, start, end, _MAX_DIGITS + 1 if decimal else _MAX_DIGITS, pad=False)
    ok &= length >= 1
    inside = np.arange(matrix.shape[1]) < length[:, None]
    digit = (matrix >= 48) & (matrix <= 57) & inside
    frac = np.zeros(len(length), np.int64)
    if decimal:
        dot = (matrix == 46) & inside
        n_dots = dot.sum(axis=1)
        last = matrix[np.arange(len(length)), np.clip(length - 1, 0, matrix.shape[1] - 1)]
        ok &= np.all(digit | dot | ~inside, axis=1) & (n_dots <= 1) & ~dot[:, 0] & (last != 46)
        ok &= digit.sum(axis=1) <= _MAX_DIGITS
        frac = np.where(n_dots == 1, length - 1 - np.argmax(dot, axis=1), 0)
    else:
        ok &= np.all(digit | ~inside, axis=1)
    mantissa = np.zeros(len(length), np.int64)
    for k in range(matrix.shape[1]):
        mantissa = np.where(digit[:, k], mantissa * 10 + (matrix[:, k].astype(np.int64) - 48), mantissa)
    return mantissa.astype(np.float64) / _POW10[np.clip(frac, 0, _MAX_DIGITS + 1)], ok


def _fast_hours(a: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    matrix, length, ok = _field_bytes(a, start, end, 8, pad=False)    # length must be 8
    if matrix.shape[1] < 8:
        return np.zeros(len(length)), np.zeros(len(length), bool)
    d = matrix.astype(np.int64) - 48
    ok &= (length == 8) & (matrix[:, 2] == 58) & (matrix[:, 5] == 58)
    ok &= np.all((d[:, [0, 1, 3, 4, 6, 7]] >= 0) & (d[:, [0, 1, 3, 4, 6, 7]] <= 9), axis=1)
    hours, minutes, seconds = d[:, 0] * 10 + d[:, 1], d[:, 3] * 10 + d[:, 4], d[:, 6] * 10 + d[:, 7]
    ok &= (hours <= 23) & (d[:, 3] <= 5) & (d[:, 6] <= 5)
    return hours.astype(np.float64) + minutes / 60 + seconds / 3600, ok


def _valid_service(text: str) -> bool:
    return _SERVICE.fullmatch(text) is not None


def _valid_detection(text: str) -> bool:
    return _DETECTION.fullmatch(text) is not None


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_STRING_CHECKS = {
    "service": _valid_service, "flag": FLAGS.__contains__, "protocol": PROTOCOLS.__contains__,
    "detection": _valid_detection, "label": LABELS.__contains__, "ip": _valid_ip,
}


class _BlockParser:
    """Parses blocks of whole lines; collects records (line order) and rejects."""

    def __init__(self, source: str, rejects: RejectLog) -> None:
        self.source, self.rejects = source, rejects
        self.n_lines = 0
        self.parts: list[dict[str, np.ndarray]] = []
        self.known: dict[str, dict[bytes, bool]] = {kind: {} for kind in _STRING_CHECKS}

    def _strings(self, a: np.ndarray, start: np.ndarray, end: np.ndarray, kind: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct values (bytes), each row's index into them, accepted.

        Rows are grouped by a 64-bit hash of their bytes, then every row is
        compared with its group's first row: a row that differs (a hash
        collision) is not accepted here and takes the slow path."""
        matrix, _, fits = _field_bytes(a, start, end, _STRING_CAP, 8)
        words = matrix.view(np.uint64)
        key = words[:, 0].copy()
        for j in range(1, words.shape[1]):
            key = (key * np.uint64(0x9E3779B97F4A7C15)) ^ (key >> np.uint64(29)) ^ words[:, j]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        same = np.all(words == words[first][inverse], axis=1)
        unique = matrix[first].view(f"S{matrix.shape[1]}").ravel()
        known, check = self.known[kind], _STRING_CHECKS[kind]
        good = np.array([known[v] if v in known else known.setdefault(v, check(v.decode("ascii")))
                         for v in unique.tolist()], bool)
        return unique, inverse, fits & same & good[inverse]

    def _fast(self, a: np.ndarray, starts: np.ndarray, ends: np.ndarray, tabs: np.ndarray,
              first_tab: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        m = len(starts)
        bounds = tabs[first_tab[:, None] + np.arange(len(FIELDS) - 1)]
        field_start = np.empty((m, len(FIELDS)), np.int64)
        field_end = np.empty((m, len(FIELDS)), np.int64)
        field_start[:, 0], field_start[:, 1:] = starts, bounds + 1
        field_end[:, :-1], field_end[:, -1] = bounds, ends
        ok = np.ones(m, bool)
        numeric = np.empty((m, len(NUMERIC)), np.float64)
        for j, (i, _name, rule) in enumerate(_NUMERIC_RULES):
            values, good = _fast_number(a, field_start[:, i], field_end[:, i], rule.decimal)
            numeric[:, j] = values
            ok &= good & (values <= rule.high)
        numeric[:, -1], good = _fast_hours(a, field_start[:, 22], field_end[:, 22])
        ok &= good
        record: dict[str, np.ndarray] = {"numeric": numeric}
        for name in CATEGORICAL:
            i = _INDEX[name]
            unique, inverse, good = self._strings(a, field_start[:, i], field_end[:, i], name)
            record[name] = unique.astype(str)[inverse]
            ok &= good
        detection = np.empty((m, 3), np.uint8)
        for k, name in enumerate(DETECTION):
            i = _INDEX[name]
            unique, inverse, good = self._strings(a, field_start[:, i], field_end[:, i], "detection")
            detection[:, k] = (unique != b"0")[inverse]
            ok &= good
        record["detection"] = detection
        unique, inverse, good = self._strings(a, field_start[:, 17], field_end[:, 17], "label")
        record["label"] = np.array([LABELS.get(v.decode("ascii"), 0) for v in unique.tolist()], np.int8)[inverse]
        ok &= good
        for i in (_INDEX["src_ip"], _INDEX["dst_ip"]):
            ok &= self._strings(a, field_start[:, i], field_end[:, i], "ip")[2]
        return record, ok

    def feed(self, buffer: bytes) -> None:
        """Parse whole lines: every line ends with b"\n", except perhaps the last."""
        if not buffer:
            return
        data = np.frombuffer(buffer, np.uint8)
        a = np.zeros(len(data) + _STRING_CAP + 8, np.uint8)    # zero tail: fields read past their end
        a[:len(data)] = data
        ends = np.flatnonzero(data == 10)
        if buffer[-1:] != b"\n":
            ends = np.append(ends, len(data))
        starts = np.empty_like(ends)
        starts[0], starts[1:] = 0, ends[:-1] + 1
        first = self.n_lines + 1
        self.n_lines += len(ends)
        tabs = np.flatnonzero(data == 9)
        first_tab = np.searchsorted(tabs, starts)
        candidate = np.searchsorted(tabs, ends) - first_tab == len(FIELDS) - 1
        odd = np.flatnonzero(((data < 32) & (data != 9) & (data != 10)) | (data > 126))
        candidate[np.searchsorted(ends, odd)] = False      # control or non-ASCII bytes: slow path
        rows = np.flatnonzero(candidate)
        accepted = np.zeros(len(ends), bool)
        record: dict[str, np.ndarray] | None = None
        if len(rows):
            record, ok = self._fast(a, starts[rows], ends[rows], tabs, first_tab[rows])
            record = {key: value[ok] for key, value in record.items()}
            record["line"] = first + rows[ok]
            accepted[rows[ok]] = True
        slow = [(int(i), _parse_line(self.source, first + int(i),
                                     buffer[starts[i]:ends[i] + 1], self.rejects))
                for i in np.flatnonzero(~accepted)]
        slow = [(i, values) for i, values in slow if values is not None]
        if slow:
            extra = {
                "numeric": np.asarray([v[0] for _, v in slow], np.float64).reshape(-1, len(NUMERIC)),
                "service": np.asarray([v[1] for _, v in slow], dtype=str),
                "flag": np.asarray([v[2] for _, v in slow], dtype=str),
                "protocol": np.asarray([v[3] for _, v in slow], dtype=str),
                "detection": np.asarray([v[4] for _, v in slow], np.uint8).reshape(-1, 3),
                "label": np.asarray([v[5] for _, v in slow], np.int8),
                "line": first + np.asarray([i for i, _ in slow], np.int64),
            }
            if record is not None:
                record = {key: np.concatenate([record[key], extra[key]]) for key in extra}
                order = np.argsort(record["line"], kind="stable")
                record = {key: value[order] for key, value in record.items()}
            else:
                record = extra
        if record is not None and len(record["line"]):
            self.parts.append(record)

    def overlong(self, head: bytes, length: int) -> None:
        """A line longer than MAX_LINE_BYTES, skipped unread past its first bytes."""
        self.n_lines += 1
        _reject_overlong(self.source, self.n_lines, head, length, self.rejects)

    def result(self) -> tuple[Columns, int]:
        return self.take(), self.n_lines

    def take(self) -> Columns:
        """The records parsed since the last call."""
        def joined(key: str, empty: np.ndarray) -> np.ndarray:
            return np.concatenate([part[key] for part in self.parts]) if self.parts else empty

        strings = {}
        for name in CATEGORICAL:
            values = joined(name, np.asarray([], dtype=str))
            width = int(np.char.str_len(values).max()) if len(values) else 1
            strings[name] = values.astype(f"<U{max(width, 1)}")
        columns = Columns(
            numeric=joined("numeric", np.zeros((0, len(NUMERIC)), np.float64)),
            service=strings["service"], flag=strings["flag"], protocol=strings["protocol"],
            detection=joined("detection", np.zeros((0, 3), np.uint8)),
            label=joined("label", np.zeros(0, np.int8)).astype(np.int8),
            line=joined("line", np.zeros(0, np.int64)).astype(np.int64),
        )
        self.parts = []
        return columns


def parse_lines(source: str, lines: Iterable[bytes], rejects: RejectLog) -> tuple[Columns, int]:
    """Parse one source's lines (bytes, as read); returns the columns and the line count."""
    parser = _BlockParser(source, rejects)
    batch: list[bytes] = []
    size = 0
    for raw in lines:
        batch.append(raw)
        size += len(raw)
        if size >= CHUNK_BYTES or not raw.endswith(b"\n"):   # a line without newline ends a block
            parser.feed(b"".join(batch))
            batch, size = [], 0
    parser.feed(b"".join(batch))
    return parser.result()


def _feed_stream(parser: _BlockParser, handle: IO[bytes], on_bytes: Callable[[bytes], object] | None
                 ) -> Iterator[None]:
    """Feed a binary stream to `parser` block by block (yields after each block). A
    line longer than MAX_LINE_BYTES is rejected and skipped, never held whole."""
    rest = b""
    skipped, head = -1, b""    # skipped >= 0: inside an overlong line, that many bytes read
    while chunk := handle.read(CHUNK_BYTES):
        if on_bytes is not None:
            on_bytes(chunk)
        if skipped >= 0:
            end = chunk.find(b"\n")
            if end < 0:
                skipped += len(chunk)
                continue
            parser.overlong(head, skipped + end)
            skipped, chunk = -1, chunk[end + 1:]
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n") + 1
        parser.feed(data[:cut])
        rest = data[cut:]
        if len(rest) > MAX_LINE_BYTES:
            skipped, head, rest = len(rest), rest[:4096], b""
        yield
    if skipped >= 0:
        parser.overlong(head, skipped)
    parser.feed(rest)
    yield


def parse_stream(source: str, handle: IO[bytes], rejects: RejectLog,
                 on_bytes: Callable[[bytes], object] | None = None) -> tuple[Columns, int]:
    """Parse a binary file object read in blocks (`on_bytes` sees every byte read, e.g.
    a hash's update); the same result as `parse_lines` on its lines."""
    parser = _BlockParser(source, rejects)
    for _ in _feed_stream(parser, handle, on_bytes):
        pass
    return parser.result()


def parse_blocks(source: str, handle: IO[bytes], rejects: RejectLog) -> Iterator[Columns]:
    """`parse_stream` a block at a time: the records of each block as it is parsed
    (memory bounded by the block size, whatever the file's)."""
    parser = _BlockParser(source, rejects)
    for _ in _feed_stream(parser, handle, None):
        yield parser.take()


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


MAX_MEMBER_BYTES = 1 << 30    # default cap on one zip member's uncompressed size


def _refuse_link(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise ReproflowError(f"{path}: a dangling symbolic link (to {path.readlink()}); "
                             "expected a Kyoto day file, a .zip archive or a folder of them")


def open_day_file(path: str | Path) -> IO[bytes]:
    """A Kyoto text file opened for reading (binary), or a ReproflowError saying why not."""
    path = Path(path)
    _refuse_link(path)
    if path.is_dir():
        raise ReproflowError(f"{path}: is a folder; expected a Kyoto day file (YYYYMMDD.txt)")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ReproflowError(f"{path}: no such file; expected a Kyoto day file (YYYYMMDD.txt)") from None
    except OSError as error:
        raise ReproflowError(f"{path}: cannot be read ({error.strerror}); expected a readable Kyoto day file"
                             ) from None


def source_files(path: str | Path) -> list[Path]:
    """The .txt and .zip files a path names: itself, or every one under a folder."""
    path = Path(path)
    _refuse_link(path)
    if not path.is_dir():
        if not path.exists():
            raise ReproflowError(f"{path}: no such file or folder")
        return [path]
    found = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".zip"))
    for file in found:
        _refuse_link(file)
    files = [p for p in found if p.is_file()]
    if not files:
        raise ReproflowError(f"{path}: no .txt or .zip files inside; expected Kyoto day files (YYYYMMDD.txt)")
    return files


class _Member:
    """A zip member read as a stream: at most its declared size, a damaged member a
    ReproflowError naming it."""

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self.handle, self.name = handle, name

    def read(self, size: int = -1) -> bytes:
        try:
            return self.handle.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ReproflowError(f"{self.name}: damaged zip member ({error}); expected the member "
                                 "to decompress to its declared size and checksum") from None

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.handle)


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ReproflowError(f"{path}: not a readable zip archive ({error})") from None


def _day_members(archive: zipfile.ZipFile, path: Path, max_member_bytes: int) -> list[zipfile.ZipInfo]:
    """The archive's .txt members, refused when a name occurs twice or a member
    declares more than `max_member_bytes` uncompressed."""
    names = [info.filename for info in archive.infolist()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ReproflowError(f"{path}: the archive holds {', '.join(twice)} more than once; "
                             "expected each member name once")
    members = sorted((i for i in archive.infolist() if i.filename.endswith(".txt")), key=lambda i: i.filename)
    if not members:
        raise ReproflowError(f"{path}: no .txt members; expected Kyoto day files (YYYYMMDD.txt)")
    for info in members:
        if info.file_size > max_member_bytes:
            raise ReproflowError(
                f"{path}:{info.filename}: declares {info.file_size} bytes uncompressed, more than the cap of "
                f"{max_member_bytes} bytes per member; expected a Kyoto day file (tens of MB)")
    return members


def check_archive(path: str | Path, max_member_bytes: int = MAX_MEMBER_BYTES) -> None:
    """Refuse an unreadable archive, one naming a member twice or declaring a member too large."""
    with _open_archive(Path(path)) as archive:
        _day_members(archive, Path(path), max_member_bytes)


def _zip_members(path: Path, max_member_bytes: int) -> Iterator[tuple[str, IO[bytes]]]:
    with _open_archive(path) as archive:
        for info in _day_members(archive, path, max_member_bytes):
            name = f"{path}:{info.filename}"
            try:
                handle = archive.open(info)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, OSError) as error:
                raise ReproflowError(f"{name}: cannot be read ({error})") from None
            with handle:
                yield name, _Member(handle, name)


def iter_sources(path: str | Path, max_member_bytes: int = MAX_MEMBER_BYTES
                 ) -> Iterator[tuple[str, IO[bytes]]]:
    """(name, binary stream) of every Kyoto file in a .txt file, a .zip archive or a folder.

    Folders are searched recursively for `*.txt` and `*.zip`; archive members
    are read without extracting them, each at most `max_member_bytes`
    (uncompressed); an archive naming a member twice is refused.
    """
    for file in source_files(path):
        if file.suffix == ".zip":
            yield from _zip_members(file, max_member_bytes)
        else:
            with open_day_file(file) as handle:
                yield str(file), handle


def read_rejects(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
