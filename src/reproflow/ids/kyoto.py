"""The Kyoto 2006+ (2013 release) record format and a streaming, validating parser.

One record per line, 24 tab-separated fields, no header, daily files
`YYYYMMDD.txt` (Song, Takakura, Okabe: official description). The detection
fields may hold commas (`4060-1-8(1),1448-1-19(1)`), so only tabs separate
fields. A malformed record is never dropped silently: it goes to a rejects
file (file, line, reason), is counted, and `check_reject_share` stops the run
when the share of rejects passes the configured threshold.

What a field may hold is written once, in `NUMBER_RULES` (the numeric
fields: format, largest value), `STRING_RULES` (those checked by value) and
`parse_fields` (start_time); the
fast path (`kyoto_arrow`: pyarrow's CSV reader and compute functions) and
the per-line parser here both read them, and the per-line parser alone gives
a reject's reason. A line is never
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
from typing import IO, TYPE_CHECKING

import numpy as np

from reproflow.arrays import load_npz, open_npz, save_npz
from reproflow.errors import ReproflowError
from reproflow.outputs import check_input_file

if TYPE_CHECKING:
    from reproflow.ids.kyoto_arrow import BlockParser

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
CATEGORICAL = ("service", "flag", "protocol")
DETECTION = ("ids_detection", "malware_detection", "ashula_detection")
EXACT_INTEGER = 2**53 - 1    # the largest count stored exactly as a float64 (and within int64)


@dataclass(frozen=True)
class NumberRule:
    """One numeric field: digits (`decimal`: digits[.digits]) at most `high`; what the
    reject reason says was expected of its range."""

    decimal: bool
    high: float
    range: str

    @property
    def format(self) -> str:
        """What the reject reason says was expected of its format."""
        return "a non-negative decimal number" if self.decimal else "a non-negative integer"

    @property
    def pattern(self) -> str:
        """The format as a regular expression (read by `re` and by pyarrow's RE2 alike)."""
        return _FLOAT.pattern if self.decimal else _INT.pattern


_RATE = NumberRule(True, 1.0, "a rate in [0, 1]")
_PORT = NumberRule(False, 65535, "a port in 0..65535")
_COUNT = NumberRule(False, EXACT_INTEGER, f"an integer in 0..{EXACT_INTEGER}")
_OF_100 = NumberRule(False, 100, "a count in 0..100 (of the past 100 connections)")
# The numeric fields' rules, in one table, in the order stored here (start_time, last of
# NUMERIC, has its own: hh:mm:ss). A session longer than 1e9 s (31 years) is a corrupt
# value, and its square would overflow the fitted scaler's variance.
NUMBER_RULES = {
    "duration": NumberRule(True, 1e9, "a duration in 0..1e9 seconds"),
    "src_bytes": _COUNT, "dst_bytes": _COUNT, "count": _COUNT,
    "same_srv_rate": _RATE, "serror_rate": _RATE, "srv_serror_rate": _RATE,
    "dst_host_count": _OF_100, "dst_host_srv_count": _OF_100,   # counted among the past 100 connections
    "dst_host_same_src_port_rate": _RATE, "dst_host_serror_rate": _RATE, "dst_host_srv_serror_rate": _RATE,
    "src_port": _PORT, "dst_port": _PORT,
}
# The 15 columns the authors standardise and bin, in the order stored here.
NUMERIC = (*NUMBER_RULES, "start_time")
RATES = frozenset(name for name, rule in NUMBER_RULES.items() if rule == _RATE)
MAX_LINE_BYTES = 1 << 20    # a Kyoto record is about 250 bytes; a longer line is refused unread

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
    # each CATEGORICAL column as np.unique(column, return_inverse=True) gives it, when known
    # (from the parser or the saved file): statistics and encoding count codes, sort no strings
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.label)

    def categories(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A categorical column's distinct values (sorted) and each row's index into them."""
        if name not in self.codes:
            unique, inverse = np.unique(getattr(self, name), return_inverse=True)
            self.codes[name] = unique, inverse.reshape(-1)
        return self.codes[name]

    def save(self, path: str | Path, inputs: Iterable[str | Path] = ()) -> None:
        # stored, not deflated: a day's columns are read once, by the transform, and
        # compressing them was a quarter of the parse job; the categorical columns as
        # their distinct values and each row's code (the smallest unsigned type)
        arrays = {key: getattr(self, key) for key in ("numeric", "detection", "label", "line")}
        for name in CATEGORICAL:
            unique, inverse = self.categories(name)
            arrays[f"{name}_values"] = unique
            arrays[f"{name}_codes"] = inverse.astype(np.min_scalar_type(max(len(unique) - 1, 0)))
        save_npz(path, compress=False, inputs=inputs, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Columns:
        with open_npz(path, (), COLUMNS_INPUT) as data:  # strings per row: a file written before the codes
            keys = _ROW_STRING_KEYS if all(name in data.files for name in CATEGORICAL) else cls.keys()
        arrays = load_npz(path, keys, COLUMNS_INPUT)
        if keys == _ROW_STRING_KEYS:
            return cls(**arrays)
        codes = {}
        for name in CATEGORICAL:
            unique, inverse = arrays.pop(f"{name}_values"), arrays.pop(f"{name}_codes")
            if (unique.dtype.kind != "U" or unique.ndim != 1 or inverse.dtype.kind != "u" or inverse.ndim != 1
                    or inverse.max(initial=0) >= max(len(unique), 1) or np.any(unique[1:] <= unique[:-1])):
                raise ReproflowError(f"{path}: {name}_values / {name}_codes are not sorted distinct strings and "
                                     "codes into them; expected the columns a parse step wrote")
            codes[name] = unique, inverse.astype(np.intp)
            arrays[name] = unique[inverse] if len(unique) else np.zeros(len(inverse), unique.dtype)
        return cls(**arrays, codes=codes)

    @staticmethod
    def keys() -> tuple[str, ...]:
        """The arrays a saved file holds."""
        return ("numeric", *(f"{name}_{part}" for name in CATEGORICAL for part in ("values", "codes")),
                "detection", "label", "line")


_ROW_STRING_KEYS = ("numeric", *CATEGORICAL, "detection", "label", "line")
COLUMNS_INPUT = "a day's columns (rule ids_parse)"


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


def valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# The fields checked by value: (what a value may be, what a reject says was expected),
# by kind; both parsers check them (kyoto_arrow each distinct value once).
STRING_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "service": (lambda text: _SERVICE.fullmatch(text) is not None, "a service name"),
    "flag": (FLAGS.__contains__, f"one of {' '.join(FLAGS)}"),
    "protocol": (PROTOCOLS.__contains__, f"one of {'/'.join(PROTOCOLS)}"),
    "detection": (lambda text: _DETECTION.fullmatch(text) is not None,
                  "0 or alert codes like 4060-1-8(1),1448-1-19(1)"),
    "label": (LABELS.__contains__, "1, -1 or -2"),
    "ip": (valid_ip, "an (anonymised) IP address"),
}
# (field, kind) in the order parse_fields checks them (the first bad one is the reason)
_STRING_FIELDS = (("service", "service"), ("flag", "flag"), ("protocol", "protocol"),
                  *((name, "detection") for name in DETECTION), ("label", "label"),
                  ("src_ip", "ip"), ("dst_ip", "ip"))
_NUMERIC_RULES = tuple((_INDEX[name], name, rule) for name, rule in NUMBER_RULES.items())


def parse_fields(fields: list[str]) -> tuple[list[float], str, str, str, tuple[int, int, int], int]:
    """Validate one record's 24 fields; raise FieldError naming the bad field."""
    if len(fields) != len(FIELDS):
        raise FieldError(f"field count: expected {len(FIELDS)} tab-separated fields, got {len(fields)}")
    numeric = [_number(fields[i], name, rule) for i, name, rule in _NUMERIC_RULES]
    numeric.append(_hours(fields[22]))
    for name, kind in _STRING_FIELDS:
        check, expected = STRING_RULES[kind]
        if not check(fields[_INDEX[name]]):
            raise FieldError(f"{name}: expected {expected}, got {_got(fields[_INDEX[name]])}")
    detection = tuple(int(fields[14 + k] != "0") for k in range(3))
    return numeric, fields[1], fields[13], fields[23], detection, LABELS[fields[17]]


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
    fields = text.split("\t")
    try:
        problem = _line_problem(text, number) or (None if text.strip() else "empty line: expected a record")
        if problem is None and len(fields) == len(FIELDS):
            problem = _character_problem(text)
        if problem is not None:
            raise FieldError(problem)
        return parse_fields(fields)
    except FieldError as error:
        rejects.add(source, number, str(error), text)
        return None


CHUNK_BYTES = 8 << 20     # a block of lines read and checked at once (kyoto_arrow)


def _block_parser(source: str, rejects: RejectLog) -> BlockParser:
    """The fast path's parser. Imported here, not above: pyarrow and its compute
    functions are a tenth of a second to import, which the jobs that only read
    columns (transform, fit, training) need not pay."""
    from reproflow.ids.kyoto_arrow import BlockParser

    return BlockParser(source, rejects)


def _feed_stream(parser: BlockParser, handle: IO[bytes], on_bytes: Callable[[bytes], object] | None
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
    a hash's update)."""
    parser = _block_parser(source, rejects)
    for _ in _feed_stream(parser, handle, on_bytes):
        pass
    return parser.take(), parser.n_lines


def parse_blocks(source: str, handle: IO[bytes], rejects: RejectLog) -> Iterator[Columns]:
    """`parse_stream` a block at a time: the records of each block as it is parsed
    (memory bounded by the block size, whatever the file's)."""
    parser = _block_parser(source, rejects)
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
    path = check_input_file(path, "a Kyoto day file (YYYYMMDD.txt)")
    try:
        return open(path, "rb")
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
