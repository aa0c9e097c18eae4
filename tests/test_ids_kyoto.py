"""Study 1: the Kyoto format parser, its rejects, and the synthetic generator."""


import numpy as np
import pytest

from reproflow.errors import ReproflowError
from reproflow.ids import kyoto
from reproflow.ids.kyoto import (
    CATEGORICAL, FIELDS, NUMERIC, Columns, RejectLog, _parse_line, check_reject_share, find_day_file, iter_sources,
    parse_stream, read_rejects,
)
from reproflow.ids.synth import day_records, write_days
from workflow_utils import SHARED_DATA

REAL = SHARED_DATA / "kyoto2013/20130101-first70.txt"
GOOD = ("0.000000\tother\t0\t0\t0\t0.00\t0.00\t0.00\t0\t0\t0.00\t0.00\t0.00\tS0\t0\t0\t0\t-1\t"
        "fd75:41fb:cf76:20be:183a:1595:1ea6:5922\t2461\tfd75:41fb:cf76:39ef:7d8b:279c:615c:0d4d\t445\t00:00:00\ttcp")


def _with(field: str, value: str) -> str:
    parts = GOOD.split("\t")
    parts[FIELDS.index(field)] = value
    return "\t".join(parts)


@pytest.mark.skipif(not REAL.exists(), reason=f"real Kyoto sample not present at {REAL} (shared data folder absent)")
def test_the_70_real_records_parse_cleanly():
    with RejectLog() as rejects:
        for name, lines in iter_sources(REAL):
            columns, n_lines = parse_stream(name, lines, rejects)
    assert (n_lines, len(columns), rejects.n_rejected) == (70, 70, 0)
    assert set(np.unique(columns.label)) <= {1, -1, -2}
    assert columns.detection[:, 2].sum() == 2          # two ashula alerts, "349(1)"
    assert columns.numeric[1, 0] == pytest.approx(6.127728)


BAD = {
    "field count": GOOD + "\textra",
    "duration": _with("duration", "-1.0"),
    "src_bytes": _with("src_bytes", "12x"),
    "same_srv_rate": _with("same_srv_rate", "1.50"),
    "flag": _with("flag", "XX"),
    "ids_detection": _with("ids_detection", "4060-1-8(1) ,x"),
    "label": _with("label", "2"),
    "src_ip": _with("src_ip", "not-an-ip"),
    "dst_port": _with("dst_port", "70000"),
    "start_time": _with("start_time", "24:00:00"),
    "protocol": _with("protocol", "sctp"),
    "empty line": "",
}


def test_each_kind_of_bad_record_is_rejected_with_file_line_and_reason(tmp_path):
    comma_detection = _with("ids_detection", "4060-1-8(1),1448-1-19(1)")   # commas inside a field are fine
    lines = [GOOD, comma_detection, *BAD.values()]
    source = tmp_path / "20130102.txt"
    source.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe bad bytes\n")
    with RejectLog(tmp_path / "rejects.tsv") as rejects:
        columns, n_lines = parse_stream(str(source), source.open("rb"), rejects)
    assert len(columns) == 2 and columns.detection[1, 0] == 1
    assert n_lines == len(lines) + 1
    rows = read_rejects(tmp_path / "rejects.tsv")
    assert [int(r["line"]) for r in rows] == list(range(3, n_lines + 1))
    assert all(r["file"] == str(source) for r in rows)
    for row, kind in zip(rows, [*BAD, "encoding"]):
        assert row["reason"].startswith(kind), (kind, row["reason"])
    assert rejects.n_rejected == len(BAD) + 1


def test_reject_share_threshold_stops_with_a_clear_error():
    check_reject_share(1, 100, 0.01, "day.txt")            # at the threshold: fine
    with pytest.raises(ReproflowError, match=r"day.txt: 2 of 100 lines \(2.00%\).*max_reject_share"):
        check_reject_share(2, 100, 0.01, "day.txt")


def test_synth_files_round_trip_through_the_parser(tmp_path):
    paths = write_days(tmp_path, days=3, rows_per_day=400, seed=3)
    assert [p.name for p in paths] == ["20130101.txt", "20130102.txt", "20130103.txt"]
    assert "SYNTHETIC" in (tmp_path / "SYNTHETIC.md").read_text()
    with RejectLog() as rejects:
        parsed = [parse_stream(str(p), p.open("rb"), rejects)[0] for p in paths]
    assert rejects.n_rejected == 0 and all(len(c) == 400 for c in parsed)
    attack = np.mean(np.concatenate([c.label for c in parsed]) < 0)
    assert 0.52 < attack < 0.68
    assert write_days(tmp_path / "again", 3, 400, 3)[0].read_bytes() == paths[0].read_bytes()


def test_daily_file_is_found_inside_a_nested_archive_folder(tmp_path):
    (tmp_path / "2013" / "01").mkdir(parents=True)
    (tmp_path / "2013" / "01" / "20130105.txt").write_text(GOOD + "\n")
    assert find_day_file(tmp_path, "20130105").name == "20130105.txt"
    with pytest.raises(ReproflowError, match="no daily file 20130106.txt"):
        find_day_file(tmp_path, "20130106")


def _line_by_line(source: str, raw: bytes, rejects: RejectLog) -> tuple[dict[str, np.ndarray], int]:
    """The reference: every line through the per-line parser (`_parse_line`), no fast path."""
    lines = raw.splitlines(keepends=True)
    kept = [(n, v) for n, line in enumerate(lines, 1)
            if (v := _parse_line(source, n, line, rejects)) is not None]
    return {
        "numeric": np.asarray([v[0] for _, v in kept], np.float64).reshape(-1, len(NUMERIC)),
        "service": np.asarray([v[1] for _, v in kept], dtype=str),
        "flag": np.asarray([v[2] for _, v in kept], dtype=str),
        "protocol": np.asarray([v[3] for _, v in kept], dtype=str),
        "detection": np.asarray([v[4] for _, v in kept], np.uint8).reshape(-1, 3),
        "label": np.asarray([v[5] for _, v in kept], np.int8),
        "line": np.asarray([n for n, _ in kept], np.int64),
    }, len(lines)


def _both_parsers(tmp_path, raw: bytes) -> tuple:
    """`raw` as a day file through parse_stream and through `_line_by_line`: columns, line
    count and rejects of each (rejects files block.tsv and lines.tsv in `tmp_path`)."""
    path = tmp_path / "20130101.txt"
    path.write_bytes(raw)
    with RejectLog(tmp_path / "block.tsv") as block_rejects, path.open("rb") as handle:
        columns, n_lines = parse_stream(str(path), handle, block_rejects)
    with RejectLog(tmp_path / "lines.tsv") as line_rejects:
        expected, n_expected = _line_by_line(str(path), raw, line_rejects)
    return columns, n_lines, block_rejects, expected, n_expected, line_rejects


MUTATIONS = ("-1", "1.5", "1.0", "1.01", "12x", "", "70000", "65535", "65536", "0.000001", "24:00:00", "00:60:00", "XX", "sctp", "2", "0.1.2",
             "1e5", "not-an-ip", "4060-1-8(1) ,x", "a(1", "01234567890123456789", "\u00e9t\u00e9", "  ")


def _mutated_day(rng: np.random.Generator, records: list[str], values_only: bool = False) -> bytes:
    """Synthetic records with random damage: fields replaced by bad values, dropped or
    doubled; CRLF, blank lines, non-UTF-8 bytes, no newline at the end. `values_only`:
    bad values and blank lines only (blocks pyarrow reads whole, bad rows inside)."""
    out = []
    for record in records:
        fields = record.split("\t")
        kind = rng.choice([0, 5, 6, 7, 8, 9, 10, 11]) if values_only else rng.integers(12)
        if kind == 0:
            fields[rng.integers(len(fields))] = MUTATIONS[rng.integers(len(MUTATIONS))]
        elif kind == 1:
            del fields[rng.integers(len(fields))]
        elif kind == 2:
            i = rng.integers(len(fields))
            fields.insert(i, fields[i])
        line = "\t".join(fields).encode("utf-8")
        if kind == 3:
            line += b"\r"
        elif kind == 4:
            line = line[: rng.integers(len(line))] + b"\xff" + line[rng.integers(len(line)):]
        elif kind == 5:
            out.append(b"")
        out.append(line)
    return b"\n".join(out) + (b"\n" if rng.random() < 0.5 else b"")


@pytest.mark.parametrize("seed", range(8))
def test_block_parser_gives_exactly_the_records_and_rejects_of_the_per_line_parser(tmp_path, monkeypatch, seed):
    # The vectorised fast path only accepts lines it has fully checked and sends every
    # other line to the per-line parser; together they must equal the per-line parser alone,
    # bit for bit, rejects and reasons included, whatever the block size.
    rng = np.random.default_rng(seed)
    records = day_records(seed % 3, 3, 300, seed)
    raw = _mutated_day(rng, records, values_only=seed % 2 == 1) + (REAL.read_bytes() if REAL.exists() else b"")   # real lines where present
    monkeypatch.setattr(kyoto, "CHUNK_BYTES", int(rng.choice([1, 97, 4096, 1 << 23])))
    columns, n_lines, block_rejects, expected, n_expected, line_rejects = _both_parsers(tmp_path, raw)
    assert n_lines == n_expected
    assert 0 < block_rejects.n_rejected < n_lines       # both paths really ran
    for key, value in expected.items():
        got = getattr(columns, key)
        assert got.dtype.kind == value.dtype.kind and got.shape == value.shape, key
        np.testing.assert_array_equal(got, value, err_msg=key)
    for name in CATEGORICAL:    # the parser's codes (what statistics and bins count) name the same values
        unique, inverse = columns.codes[name]
        np.testing.assert_array_equal(unique, np.unique(expected[name]), err_msg=name)
        np.testing.assert_array_equal(unique[inverse], expected[name], err_msg=name)
    assert (tmp_path / "block.tsv").read_bytes() == (tmp_path / "lines.tsv").read_bytes()
    assert block_rejects.reasons == line_rejects.reasons


ADDRESSES = ("fd75:41fb:cf76:20be:183a:1595:1ea6:5922", "FD75:41FB:0:1:2:3:4:5", "10.0.0.1", "255.255.255.255",
             "0.0.0.0", "::1", "fd75::1", "::ffff:10.0.0.1", "01.2.3.4", "1.2.3.256", "1.2.3", "1:2:3:4:5:6:7",
             "1:2:3:4:5:6:7:8:9", "12345::1", "fd75:41fb:cf76:20be:183a:1595:1ea6:592g", "1.2.3.4.5", "a.b.c.d")


def test_ip_addresses_in_every_form_are_accepted_or_rejected_as_the_per_line_parser_does(tmp_path):
    # the fast path matches the usual forms by a pattern and sends the distinct others to
    # ipaddress: together exactly the per-line parser's verdicts (IPv4 with a leading zero,
    # compressed IPv6, IPv4-mapped, too few or too many groups)
    records = [record.split("\t") for record in day_records(0, 1, 4 * len(ADDRESSES), 3)]
    for i, fields in enumerate(records):
        fields[18], fields[20] = ADDRESSES[i % len(ADDRESSES)], ADDRESSES[(i // len(ADDRESSES)) % len(ADDRESSES)]
    raw = "".join("\t".join(fields) + "\n" for fields in records).encode()
    columns, _, block_rejects, expected, _, _ = _both_parsers(tmp_path, raw)
    np.testing.assert_array_equal(columns.line, expected["line"])
    assert (tmp_path / "block.tsv").read_bytes() == (tmp_path / "lines.tsv").read_bytes()
    assert 0 < block_rejects.n_rejected < len(records)


def test_saved_columns_load_with_the_same_values_and_codes(tmp_path):
    # a day's columns are stored as each categorical value once and a code per row; loaded,
    # they are the parsed columns, and a file of codes outside the values is refused by name
    path = tmp_path / "20130101.txt"
    path.write_text("".join(record + "\n" for record in day_records(0, 1, 500, 5)))
    with RejectLog() as rejects, path.open("rb") as handle:
        columns, _ = parse_stream(str(path), handle, rejects)
    columns.save(tmp_path / "columns.npz")
    strings_per_row = tmp_path / "strings.npz"     # as the parse step wrote them before the codes
    np.savez(strings_per_row, **{key: getattr(columns, key) for key in ("numeric", *CATEGORICAL, "detection",
                                                                          "label", "line")})
    for loaded in (Columns.load(tmp_path / "columns.npz"), Columns.load(strings_per_row)):
        for key in ("numeric", *CATEGORICAL, "detection", "label", "line"):
            assert getattr(loaded, key).dtype == getattr(columns, key).dtype, key
            np.testing.assert_array_equal(getattr(loaded, key), getattr(columns, key), err_msg=key)
        for name in CATEGORICAL:
            for got, want in zip(loaded.categories(name), np.unique(getattr(columns, name), return_inverse=True)):
                np.testing.assert_array_equal(got, want, err_msg=name)
    with np.load(tmp_path / "columns.npz") as data:
        arrays = {key: data[key] for key in data.files}
    arrays["flag_codes"][0] = len(arrays["flag_values"])
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ReproflowError, match=r"bad.npz: flag_values / flag_codes are not sorted distinct"):
        Columns.load(tmp_path / "bad.npz")
