"""Write the bad-input corpus (tests/bad_inputs/): small, deterministic files.

Run `python tests/bad_inputs/make_corpus.py` to regenerate every file (the
bytes do not change between runs). `cases.yaml` lists, for each file, the
reader it goes through and the error a user gets (or the records that are
quarantined); `tests/test_bad_inputs.py` checks them.
"""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import tarfile
import zipfile
from pathlib import Path

import nmrglue as ng
import numpy as np

ROOT = Path(__file__).resolve().parent
KINDS = ("idx", "gz", "kyoto", "nmr", "archive", "config")
RNG = np.random.default_rng(20130101)

# ---------------------------------------------------------------- IDX / gz


def idx(magic: int, shape: tuple[int, ...], data: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(shape)}I", *shape) + data


def images(n: int) -> bytes:
    return idx(0x803, (n, 28, 28), bytes(RNG.integers(0, 256, n * 784, dtype=np.uint8)))


def labels(values: list[int]) -> bytes:
    return idx(0x801, (len(values),), bytes(values))


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def make_idx(out: Path) -> None:
    files = {
        "empty-idx1-ubyte": b"",
        "wrong-magic-idx3-ubyte": idx(0x903, (2, 28, 28), bytes(2 * 784)),     # signed-byte type
        "no-dims-idx-ubyte": idx(0x800, (), b""),
        "text-idx1-ubyte": b"0,1,2,3\n4,5,6,7\n",
        "images-as-labels-idx3-ubyte": images(1),
        "header-truncated-idx3-ubyte": struct.pack(">II", 0x803, 3),
        "count-too-large-idx3-ubyte": idx(0x803, (5, 28, 28), bytes(3 * 784)),  # says 5, holds 3
        "trailing-data-idx1-ubyte": labels([1, 2, 3]) + b"\x00\x00",
        "pair3-images-idx3-ubyte": images(3),
        "pair3-labels-idx1-ubyte": labels([0, 1, 2]),
        "pair2-labels-idx1-ubyte": labels([0, 1]),
        "pair3-label12-idx1-ubyte": labels([0, 12, 2]),
        "pair3-images-14x14-idx3-ubyte": idx(0x803, (3, 14, 14), bytes(3 * 196)),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)


def make_gz(out: Path) -> None:
    good = gz(labels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 20))
    corrupt = bytearray(good)
    corrupt[-8] ^= 0xFF                                   # CRC-32 of the trailer
    flipped = bytearray(good)
    flipped[20] ^= 0xFF                                   # a byte of the deflate stream
    files = {
        "truncated-labels-idx1-ubyte.gz": good[: len(good) // 2],
        "crc-labels-idx1-ubyte.gz": bytes(corrupt),
        "deflate-labels-idx1-ubyte.gz": bytes(flipped),
        "plain-labels-idx1-ubyte.gz": labels([1, 2, 3]),  # not gzipped at all
        "empty-labels-idx1-ubyte.gz": b"",
        "gz-of-junk-idx1-ubyte.gz": gz(b"this is not an IDX file\n"),
    }
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        add(archive, "data/a.txt", bytes(RNG.integers(0, 256, 3000, dtype=np.uint8)))
    files["truncated.tar.gz"] = gz(tar.getvalue())[:2000]
    for name, data in files.items():
        (out / name).write_bytes(data)


# ------------------------------------------------------------------- Kyoto

GOOD = ("0.000000\tother\t0\t0\t0\t0.00\t0.00\t0.00\t0\t0\t0.00\t0.00\t0.00\tS0\t0\t0\t0\t-1\t"
        "fd75:41fb:cf76:20be:183a:1595:1ea6:5922\t2461\tfd75:41fb:cf76:39ef:7d8b:279c:615c:0d4d\t445\t{t}\ttcp")
FIELDS_AT = {"duration": 0, "src_bytes": 2, "same_srv_rate": 5, "flag": 13, "label": 17,
             "src_ip": 18, "dst_port": 21, "start_time": 22, "protocol": 23}


def good(k: int) -> str:
    return GOOD.format(t=f"00:{k // 60:02d}:{k % 60:02d}")


def bad(k: int, field: str, value: str) -> str:
    parts = good(k).split("\t")
    parts[FIELDS_AT[field]] = value
    return "\t".join(parts)


def day(bad_lines: dict[int, bytes], n: int = 10) -> bytes:
    """n lines, good ones except those given (1-based line: raw bytes)."""
    return b"".join(bad_lines.get(k, good(k).encode()) + b"\n" for k in range(1, n + 1))


def make_kyoto(out: Path) -> None:
    files = {
        "fields-23.txt": day({4: good(4).rsplit("\t", 1)[0].encode()}),
        "fields-25.txt": day({7: (good(7) + "\textra").encode()}),
        "comma-separated.txt": day({2: good(2).replace("\t", ",").encode()}),
        "non-numeric-bytes.txt": day({5: bad(5, "src_bytes", "12x").encode()}),
        "negative-duration.txt": day({3: bad(3, "duration", "-1.5").encode()}),
        "unknown-flag.txt": day({6: bad(6, "flag", "XX").encode()}),
        "rate-out-of-range.txt": day({8: bad(8, "same_srv_rate", "1.50").encode()}),
        "bad-time-hour.txt": day({9: bad(9, "start_time", "24:00:00").encode()}),
        "bad-time-format.txt": day({10: bad(10, "start_time", "12:5").encode()}),
        "unknown-label.txt": day({1: bad(1, "label", "2").encode()}),
        "unknown-protocol.txt": day({2: bad(2, "protocol", "sctp").encode()}),
        "bad-ip.txt": day({3: bad(3, "src_ip", "not-an-ip").encode()}),
        "port-out-of-range.txt": day({4: bad(4, "dst_port", "70000").encode()}),
        "not-utf8.txt": day({5: b"\xff\xfe\x00junk\x80\x81"}),
        "blank-line.txt": day({6: b""}),
        "several-kinds.txt": day({2: bad(2, "flag", "ZZ").encode(), 5: b"\x00\x01\x02",
                                  9: bad(9, "start_time", "7pm").encode()}, n=20),
        "too-many-rejects.txt": day({k: bad(k, "flag", "XX").encode() for k in (2, 4, 6)}),
        "binary-junk.txt": bytes(RNG.integers(0, 256, 3000, dtype=np.uint8)),
        "empty.txt": b"",
        "only-blank-lines.txt": b"\n\n\n",
        "utf16.txt": ("\n".join(good(k) for k in range(3)) + "\n").encode("utf-16"),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)


# --------------------------------------------------------------------- NMR


def pipe(shape: tuple[int, ...], data: np.ndarray | None = None, **header: float) -> bytes:
    """An NMRPipe file (bytes) of a real frequency-domain spectrum."""
    udic = ng.fileio.fileiobase.create_blank_udic(len(shape))
    for dim, size in enumerate(shape):
        udic[dim].update(size=size, complex=False, time=False, freq=True, encoding="states")
    dic = ng.pipe.create_dic(udic)
    dic.update(FDYEAR=2013, FDMONTH=1, FDDAY=1, FDHOURS=0, FDMINS=0, FDSECS=0)  # not today's date
    dic.update(header)
    data = np.ones(shape, np.float32) if data is None else data.astype(np.float32)
    tmp = ROOT / ".tmp.ft"
    ng.pipe.write(str(tmp), dic, data, overwrite=True)
    raw = tmp.read_bytes()
    tmp.unlink()
    return raw


def header_float(raw: bytes, index: int, value: float) -> bytes:
    out = bytearray(raw)
    out[4 * index: 4 * index + 4] = struct.pack("<f" if raw[8:12] == struct.pack("<f", 2.345) else ">f", value)
    return bytes(out)


def bruker(folder: Path, shape: tuple[int, int], *, phc1: float = 0.0, cut: int | None = None) -> None:
    """A Bruker processed-data folder (procs, proc2s, 2rr) of a 2D spectrum."""
    folder.mkdir(parents=True)
    for name, (si, xdim) in {"procs": (shape[1], shape[1]), "proc2s": (shape[0], shape[0])}.items():
        (folder / name).write_text(
            f"##TITLE= Parameter file\n##JCAMPDX= 5.0\n##$BYTORDP= 0\n##$DTYPP= 0\n##$NC_proc= 0\n"
            f"##$PHC0= 0\n##$PHC1= {phc1 if name == 'procs' else 0}\n##$SI= {si}\n##$XDIM= {xdim}\n"
            "##$SF= 600.13\n##$SW_p= 6000\n##$OFFSET= 10\n##END=\n")
    data = (np.arange(shape[0] * shape[1]) % 97).astype("<i4").tobytes()
    (folder / "2rr").write_bytes(data if cut is None else data[:cut])


def make_nmr(out: Path) -> None:
    good2d = pipe((16, 32))
    files = {
        "text.ft2": b"# not NMR data\n1 2 3\n4 5 6\n",
        "binary-junk.ft2": bytes(RNG.integers(0, 256, 3000, dtype=np.uint8)),
        "empty.ft2": b"",
        "header-only.ft2": good2d[:1000],
        "truncated.ft2": good2d[: 2048 + 16 * 32 * 2],
        "one-d.ft1": pipe((64,)),
        "three-d.ft3": pipe((4, 8, 16)),
        "dimcount-9.ft2": header_float(good2d, 9, 9.0),       # FDDIMCOUNT
        "byte-order-junk.ft2": header_float(good2d, 2, 7.5),  # FDFLTORDER, not 2.345
        "time-domain.ft2": pipe((16, 32), FDF1FTFLAG=0, FDF2FTFLAG=0),
        "phase-p1.ft2": pipe((16, 32), FDF2P1=45.0),
        "nan.ft2": pipe((16, 32), np.full((16, 32), np.nan)),
        "too-small.ft2": pipe((2, 32)),
        "schedule-text.txt": b"1 2 three\n",
        "schedule-out-of-range.txt": b"0 3 99\n",
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    only_1r = out / "bruker-1d" / "pdata" / "1"
    only_1r.mkdir(parents=True)
    (only_1r / "1r").write_bytes(bytes(256))
    bruker(out / "bruker-truncated-2rr", (16, 32), cut=700)
    bruker(out / "bruker-phase-1", (16, 32), phc1=30.0)
    no_procs = out / "bruker-no-procs"
    no_procs.mkdir()
    (no_procs / "2rr").write_bytes(bytes(16 * 32 * 4))


# ---------------------------------------------------------------- archives


def add(archive: tarfile.TarFile, name: str, data: bytes = b"x\n", **kind: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = 0 if kind else len(data)
    info.mtime = 1_356_998_400
    for key, value in kind.items():
        setattr(info, key, value)
    archive.addfile(info, None if kind else io.BytesIO(data))


def tar(members: list[tuple]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, *rest in members:
            add(archive, name, **(rest[0] if rest else {}))
        end = archive.offset + 2 * tarfile.BLOCKSIZE
    return buffer.getvalue()[:end]  # without the padding to a 10 KB record


def zip_(members: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, date_time=(2013, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def make_archive(out: Path) -> None:
    ok = ("data/ok.txt",)
    corrupt = bytearray(zip_([("data/a.txt", b"alpha " * 100, 0o100644)]))
    corrupt[40] ^= 0xFF                                   # a byte of the stored data: bad CRC
    files = {
        "absolute.tar": tar([ok, ("/tmp/reproflow-evil.txt",)]),
        "dotdot.tar": tar([ok, ("data/../../evil.txt",)]),
        "symlink.tar": tar([ok, ("data/link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"})]),
        "symlink-then-write.tar": tar([("data/up", {"type": tarfile.SYMTYPE, "linkname": ".."}),
                                       ("data/up/evil.txt",)]),
        "hardlink.tar": tar([ok, ("data/hard", {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"})]),
        "fifo.tar": tar([ok, ("data/pipe", {"type": tarfile.FIFOTYPE})]),
        "absolute.zip": zip_([("data/ok.txt", b"x", 0o100644), ("/tmp/reproflow-evil.txt", b"x", 0o100644)]),
        "dotdot.zip": zip_([("data/ok.txt", b"x", 0o100644), ("../evil.txt", b"x", 0o100644)]),
        "backslash-dotdot.zip": zip_([("data\\..\\..\\evil.txt", b"x", 0o100644)]),
        "symlink.zip": zip_([("data/ok.txt", b"x", 0o100644), ("data/link", b"/etc/passwd", 0o120777)]),
        "bad-crc.zip": bytes(corrupt),
        "truncated.zip": zip_([("data/a.txt", bytes(RNG.integers(0, 256, 2000, dtype=np.uint8)), 0o100644)])[:900],
        "not-an-archive.tar": b"just some text, not an archive\n" * 4,
        "empty.zip": b"",
    }
    for name, data in files.items():
        (out / name).write_bytes(data)


# ------------------------------------------------------------------ config

CONFIG = {
    "retries-string.yaml": "download:\n  retries: many\n",
    "retries-negative.yaml": "download:\n  retries: -1\n",
    "timeout-zero.yaml": "download:\n  timeout_s: 0\n",
    "epochs-float.yaml": "ids:\n  epochs: 2.5\n",
    "units-zero.yaml": "ids:\n  units: 0\n",
    "reject-share-above-one.yaml": "ids:\n  max_reject_share: 1.5\n",
    "test-share-one.yaml": "ids:\n  paper:\n    test_share: 1.0\n",
    "label-noise-string.yaml": "ids:\n  synth:\n    label_noise: 'seven percent'\n",
    "bad-day.yaml": "ids:\n  days: ['2013-01-01']\n",
    "unknown-study.yaml": "studies: [ids, vision]\n",
    "run-name-shell.yaml": "run_name: 'x; rm -rf ~'\n",
    "unknown-top-key.yaml": "epochs: 3\n",
    "unknown-nested-key.yaml": "tracking:\n  url: sqlite:///x.db\n",
    "section-null.yaml": "tracking: null\n",
    "section-number.yaml": "relu: 5\n",
    "relu-lr-list.yaml": "relu:\n  learning_rate: [0.1]\n",
    "not-yaml.yaml": "download:\n  retries: [1\n",
    "list-top.yaml": "- 1\n- 2\n",
}


def make_config(out: Path) -> None:
    for name, text in CONFIG.items():
        (out / name).write_text(text)


def main() -> None:
    for kind in KINDS:
        shutil.rmtree(ROOT / kind, ignore_errors=True)
        (ROOT / kind).mkdir()
    make_idx(ROOT / "idx")
    make_gz(ROOT / "gz")
    make_kyoto(ROOT / "kyoto")
    make_nmr(ROOT / "nmr")
    make_archive(ROOT / "archive")
    make_config(ROOT / "config")
    big = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix not in (".py", ".yaml") and p.stat().st_size > 10_000]
    assert not big, f"corpus files over 10 KB: {big}"


if __name__ == "__main__":
    main()
