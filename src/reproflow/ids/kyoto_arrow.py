"""The Kyoto parser's fast path (used through kyoto's parse functions).

A block of lines is read by pyarrow's CSV reader: every line of printable
ASCII with exactly 23 tabs, the numbers and start_time as strings, the other
fields dictionary-encoded (distinct values and a code per row), then checked
column by column against the rules in `kyoto` (numbers: each NumberRule's
pattern and largest value, by pyarrow.compute; start_time: its bytes; the other
fields through their distinct values and kyoto's STRING_RULES);
service, flag and protocol stay codes (`Columns.codes`), which the statistics
and the transform count instead of sorting strings. A line
any check does not accept is not rejected here: it goes through
`kyoto._parse_line`, which rejects it with its reason (or accepts it, e.g. a
valid non-ASCII detection name), so records and rejects are exactly those of
parsing line by line. Numbers are exact: Arrow's string-to-double cast is
correctly rounded, as float(text) is; a number of more than _MAX_DIGITS
characters takes the slow path (so the cast never overflows).
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from reproflow.ids.kyoto import (
    _NUMERIC_RULES, CATEGORICAL, DETECTION, FIELDS, LABELS, NUMERIC, STRING_RULES, Columns, NumberRule,
    RejectLog, _parse_line, _reject_overlong, valid_ip,
)

_MAX_DIGITS = 20
# one thread: a day's job is one of `--cores` jobs, and a thread pool's stacks would count
# against an address-space cap (the predict command shares its process with TensorFlow);
# blocks of up to 16 MB read as one chunk (a block is CHUNK_BYTES and a line), so no
# column is copied to join chunks
_READ = pa_csv.ReadOptions(column_names=list(FIELDS), use_threads=False, block_size=16 << 20)
# pyarrow's default allocator (mimalloc) reserves about 1 GiB of address space at its
# first use, which an address-space cap (ulimit -v, RLIMIT_AS: the hostile-input
# checks run under 1.5 GiB) counts in full; the C library's allocator reserves none
if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    pa.set_memory_pool(pa.system_memory_pool())
_PARSE = pa_csv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False, double_quote=False,
                             newlines_in_values=False, ignore_empty_lines=False)
# The fields checked through their distinct values are read dictionary-encoded: the
# reader builds each one's distinct values and codes, the rows' strings are never made.
_BY_VALUE = frozenset({*CATEGORICAL, *DETECTION, "label", "src_ip", "dst_ip"})
_CONVERT = pa_csv.ConvertOptions(
    column_types={name: pa.dictionary(pa.int32(), pa.string()) if name in _BY_VALUE else pa.string()
                  for name in FIELDS},
    check_utf8=False, strings_can_be_null=False, quoted_strings_can_be_null=False)


def _numpy(array: pa.Array) -> np.ndarray:
    """A null-free numeric or boolean pyarrow array as numpy, read from its buffers
    (Array.to_numpy imports pandas, a third of a second in each parse job)."""
    data = array.buffers()[1]
    if pa.types.is_boolean(array.type):
        bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
        return bits[array.offset:array.offset + len(array)].astype(bool)
    dtype = _numpy_dtype(array.type)
    return np.frombuffer(data, dtype, len(array), array.offset * dtype.itemsize)


def _numpy_dtype(type_: pa.DataType) -> np.dtype:
    kind = "f" if pa.types.is_floating(type_) else "i" if pa.types.is_signed_integer(type_) else "u"
    return np.dtype(f"{kind}{type_.bit_width // 8}")


def _cast_valid(column: pa.Array, ok: np.ndarray, to: pa.DataType) -> np.ndarray:
    """The accepted values cast (the others would make the cast fail), zero elsewhere.
    (No Python scalar is handed to pyarrow: converting one imports pandas too.)"""
    if ok.all():
        return _numpy(pc.cast(column, to))
    values = np.zeros(len(column), _numpy_dtype(to))
    values[ok] = _numpy(pc.cast(pc.filter(column, _mask(ok)), to))
    return values


def _mask(ok: np.ndarray) -> pa.Array:
    """A numpy boolean array as a pyarrow one (built from its bits: pa.array imports pandas)."""
    return pa.Array.from_buffers(pa.bool_(), len(ok), [None, pa.py_buffer(np.packbits(ok, bitorder="little"))])


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
# the forms Kyoto's (anonymised) addresses take, every string of which ipaddress accepts:
# eight groups of 1-4 hex digits (IPv6 written in full), dotted IPv4 without leading zeros
_USUAL_IP = rf"^(?:[0-9A-Fa-f]{{1,4}}(?::[0-9A-Fa-f]{{1,4}}){{7}}|(?:{_OCTET}\.){{3}}{_OCTET})$"


def _fast_number(column: pa.Array, rule: NumberRule) -> tuple[np.ndarray, np.ndarray]:
    """A column of integers (digits) or decimals (digits[.digits]): values, accepted."""
    if rule.decimal:
        ok = pc.match_substring_regex(column, f"^(?:{rule.pattern})$")
    else:   # the same as _INT on printable ASCII, and faster than a regex
        ok = pc.ascii_is_decimal(column)
    ok = _numpy(ok) & (_numpy(pc.binary_length(column)) <= _MAX_DIGITS)
    values = _cast_valid(column, ok, pa.float64())
    return values, ok & (values <= rule.high)


# each byte of hh:mm:ss less 48 ("0"; ":" is 10): its least and largest
_TIME_LOW, _TIME_HIGH = np.array([0, 0, 10, 0, 0, 10, 0, 0]), np.array([2, 9, 10, 5, 9, 10, 5, 9])


def _fast_hours(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """start_time (hh:mm:ss, as `_TIME`) in hours, accepted: each text's 8 bytes, read by
    numpy from the column's buffers (a pattern and 3 casts took twice as long)."""
    offsets = np.frombuffer(column.buffers()[1], np.int32, len(column) + 1, column.offset * 4)
    ok = np.diff(offsets) == 8
    if not ok.any():
        return np.zeros(len(ok)), ok
    body = np.frombuffer(column.buffers()[2], np.uint8)
    digits = body[np.minimum(offsets[:-1, None] + np.arange(8), len(body) - 1)].astype(np.int64) - 48
    ok &= ((digits >= _TIME_LOW) & (digits <= _TIME_HIGH)).all(1)
    hours, minutes, seconds = (np.where(ok, 10 * digits[:, k] + digits[:, k + 1], 0) for k in (0, 3, 6))
    ok &= hours <= 23
    return hours + minutes / 60 + seconds / 3600, ok


_PRINTABLE = bytes(range(32, 127)) + b"\t\n"


def _line_bounds(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line's first byte and its newline (or the end of the block)."""
    ends = np.flatnonzero(data == 10)
    if len(data) and data[-1] != 10:
        ends = np.append(ends, len(data))
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    return starts, ends


def _candidates(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which lines hold 24 fields of printable ASCII (the others take the slow path)."""
    tabs = np.flatnonzero(data == 9)
    candidate = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts) == len(FIELDS) - 1
    odd = np.flatnonzero(((data < 32) & (data != 9) & (data != 10)) | (data > 126))
    candidate[np.searchsorted(ends, odd)] = False      # control or non-ASCII bytes: slow path
    return candidate


class BlockParser:
    """Parses blocks of whole lines; collects records (line order) and rejects."""

    def __init__(self, source: str, rejects: RejectLog) -> None:
        self.source, self.rejects = source, rejects
        self.n_lines = 0
        self.parts: list[dict[str, np.ndarray]] = []
        self.known: dict[str, dict[str, bool]] = {kind: {} for kind in STRING_RULES}
        # the CATEGORICAL columns' values met so far, each with its code (order of meeting)
        self.vocabulary: dict[str, dict[str, int]] = {name: {} for name in CATEGORICAL}

    def _strings(self, encoded: pa.DictionaryArray, kind: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Distinct values, each row's index into them, accepted."""
        unique = encoded.dictionary.to_pylist()
        inverse = _numpy(encoded.indices)
        known, check = self.known[kind], STRING_RULES[kind][0]
        good = np.array([known[v] if v in known else known.setdefault(v, check(v)) for v in unique], bool)
        return unique, inverse, good[inverse]

    def _codes(self, name: str, values: list[str]) -> np.ndarray:
        """The codes of a categorical column's values (new values get new codes)."""
        vocabulary = self.vocabulary[name]
        return np.array([vocabulary.setdefault(v, len(vocabulary)) for v in values], np.intp)

    def _ips(self, encoded: pa.DictionaryArray) -> np.ndarray:
        """Which rows hold an IP address: the distinct values by _USUAL_IP, and those it
        does not match by ipaddress (6 us an address: a 27 MB day of 100,000 distinct
        addresses parsed in 1.19 CPU s, 0.40 s by the pattern)."""
        good = _numpy(pc.match_substring_regex(encoded.dictionary, _USUAL_IP))
        if not good.all():
            known = self.known["ip"]
            others = encoded.dictionary.filter(_mask(~good)).to_pylist()
            good[~good] = [known[v] if v in known else known.setdefault(v, valid_ip(v)) for v in others]
        return good[_numpy(encoded.indices)]

    def _fast(self, block: bytes) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
        """The records of a block of candidate lines, and which of them are accepted;
        None when pyarrow does not read one row per line."""
        try:
            table = pa_csv.read_csv(pa.py_buffer(block), _READ, _PARSE, _CONVERT)
        except pa.ArrowException:   # e.g. a row pyarrow splits otherwise: every line takes the slow path
            return None
        # one chunk unless a block passes the read's block size; chunks' dictionaries
        # differ, so they are unified before the chunks are joined
        table = table.unify_dictionaries() if table.column(0).num_chunks > 1 else table
        columns = {name: table.column(name).combine_chunks() for name in FIELDS}
        m = table.num_rows
        numeric = np.empty((m, len(NUMERIC)), np.float64)
        numeric[:, -1], ok = _fast_hours(columns["start_time"])
        for j, (_i, name, rule) in enumerate(_NUMERIC_RULES):
            numeric[:, j], good = _fast_number(columns[name], rule)
            ok &= good
        record: dict[str, np.ndarray] = {"numeric": numeric}
        for name in CATEGORICAL:
            unique, inverse, good = self._strings(columns[name], name)
            record[name] = self._codes(name, unique)[inverse]
            ok &= good
        detection = np.empty((m, 3), np.uint8)
        for k, name in enumerate(DETECTION):
            unique, inverse, good = self._strings(columns[name], "detection")
            detection[:, k] = np.array([v != "0" for v in unique], bool)[inverse]
            ok &= good
        record["detection"] = detection
        unique, inverse, good = self._strings(columns["label"], "label")
        record["label"] = np.array([LABELS.get(v, 0) for v in unique], np.int8)[inverse]
        ok &= good
        for name in ("src_ip", "dst_ip"):
            ok &= self._ips(columns[name])
        return record, ok

    def feed(self, buffer: bytes) -> None:
        """Parse whole lines: every line ends with b"\n", except perhaps the last."""
        if not buffer:
            return
        data = np.frombuffer(buffer, np.uint8)
        first = self.n_lines + 1
        lines: tuple[np.ndarray, np.ndarray] | None = None
        # the common block: printable ASCII only, read whole (pyarrow refuses a block
        # holding a line of another field count; an empty line is a row of empty fields).
        # Without CR, every LF ends one row and a last line without LF is one: the rows
        # are the lines, and need no count
        fast = self._fast(buffer) if not buffer.translate(None, _PRINTABLE) else None
        n = len(fast[1]) if fast is not None else buffer.count(b"\n") + (buffer[-1:] != b"\n")
        self.n_lines += n
        if fast is not None:
            rows = np.arange(n)
        else:   # only the lines of printable ASCII and 24 fields, each with its newline
            starts, ends = lines = _line_bounds(data)
            candidate = _candidates(data, starts, ends)
            rows = np.flatnonzero(candidate)
            fast = (self._fast(data[np.repeat(candidate, np.minimum(ends + 1, len(data)) - starts)].tobytes())
                    if len(rows) else None)
        accepted = np.zeros(n, bool)
        parts: list[dict[str, np.ndarray]] = []
        if fast is not None and len(fast[1]) == len(rows):
            record, ok = fast
            if not ok.all():
                record = {key: value[ok] for key, value in record.items()}
            parts.append({**record, "line": first + rows[ok]})
            accepted[rows[ok]] = True
        if accepted.all():
            self.parts += parts
            return
        starts, ends = lines if lines is not None else _line_bounds(data)
        slow = [(first + int(i), values) for i in np.flatnonzero(~accepted)
                if (values := _parse_line(self.source, first + int(i), buffer[starts[i]:ends[i] + 1], self.rejects))
                is not None]
        if slow:
            line, values = zip(*slow)
            numeric, *strings, detection, label = zip(*values)
            parts.append({"numeric": np.asarray(numeric, np.float64),
                          **{name: self._codes(name, column) for name, column in zip(CATEGORICAL, strings)},
                          "detection": np.asarray(detection, np.uint8), "label": np.asarray(label, np.int8),
                          "line": np.asarray(line, np.int64)})
        if len(parts) == 2:     # the records in line order
            record = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
            order = np.argsort(record["line"], kind="stable")
            parts = [{key: value[order] for key, value in record.items()}]
        self.parts += [part for part in parts if len(part["line"])]

    def overlong(self, head: bytes, length: int) -> None:
        """A line longer than MAX_LINE_BYTES, skipped unread past its first bytes."""
        self.n_lines += 1
        _reject_overlong(self.source, self.n_lines, head, length, self.rejects)

    def take(self) -> Columns:
        """The records parsed since the last call."""
        def joined(key: str, empty: np.ndarray) -> np.ndarray:
            return np.concatenate([part[key] for part in self.parts]) if self.parts else empty

        strings, codes = {}, {}
        for name in CATEGORICAL:    # the values in use, sorted, and the rows' codes into them
            row_codes = joined(name, np.zeros(0, np.intp))
            vocabulary = np.array(list(self.vocabulary[name]), dtype=str)
            used = np.flatnonzero(np.bincount(row_codes, minlength=len(vocabulary)))
            used = used[np.argsort(vocabulary[used])]
            width = int(np.char.str_len(vocabulary[used]).max()) if len(used) else 1
            unique = vocabulary[used].astype(f"<U{max(width, 1)}")
            rank = np.zeros(len(vocabulary), np.intp)
            rank[used] = np.arange(len(used))
            codes[name] = unique, rank[row_codes]
            strings[name] = unique[codes[name][1]]
        columns = Columns(
            numeric=joined("numeric", np.zeros((0, len(NUMERIC)), np.float64)), **strings,
            detection=joined("detection", np.zeros((0, 3), np.uint8)),
            label=joined("label", np.zeros(0, np.int8)).astype(np.int8),
            line=joined("line", np.zeros(0, np.int64)).astype(np.int64), codes=codes,
        )
        self.parts = []
        return columns
