"""reproflow.download against a real local HTTP server and real archives."""

from __future__ import annotations

import hashlib
import io
import json
import random
import socket
import stat
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from reproflow.download import DownloadError, FileSpec, _record, extract, fetch, file_specs, resolve_urls

REPO = Path(__file__).resolve().parents[1]
DATA = random.Random(2013).randbytes(300_000)  # fixed: failures reproduce
SHA = hashlib.sha256(DATA).hexdigest()
FAST = {"backoff_s": 0.001, "timeout_s": 10}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dead_url(name: str = "x.bin") -> str:
    """A URL on a port nothing listens on: using it would fail."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


def publish(server, name: str = "data.bin", data: bytes = DATA) -> str:
    (server.root / name).parent.mkdir(parents=True, exist_ok=True)
    (server.root / name).write_bytes(data)
    return f"{server.url}/{name}"


def spec(*urls: str, sha256: str | None = SHA, size: int | None = len(DATA), **kw) -> FileSpec:
    return FileSpec("demo", "data.bin", tuple(urls), sha256, size, **kw)


def assert_clean(dest: Path) -> None:
    assert not dest.exists()
    assert not dest.with_name(dest.name + ".part").exists()


# --- registry and URLs -------------------------------------------------------


def test_file_specs_from_project_registry():
    registry = yaml.safe_load((REPO / "config" / "datasets.yaml").read_text())["datasets"]
    specs = file_specs(registry)
    malt = specs[("malt1", "Malt.ft2")]
    assert malt.mirror_dir == "nmr/malt1-trosy" and malt.size == 2099200 and not malt.extract
    assert len(specs[("mnist", "train-images-idx3-ubyte.gz")].urls) == 2
    kyoto = specs[("kyoto2013", "201301.zip")]
    assert kyoto.extract and kyoto.sha256 is None and kyoto.size is None
    assert resolve_urls(malt, "http://host/data/") == ["http://host/data/nmr/malt1-trosy/Malt.ft2"]
    assert resolve_urls(malt, None) == list(malt.urls)


def test_unsupported_scheme_refused(tmp_path):
    with pytest.raises(DownloadError, match="ftp://example.org/data.bin"):
        fetch(spec("ftp://example.org/data.bin"), tmp_path / "data.bin")
    with pytest.raises(DownloadError, match="unsupported scheme"):
        resolve_urls(spec("https://example.org/data.bin"), "ftp://mirror.example.org")
    assert_clean(tmp_path / "data.bin")


# --- fetch ------------------------------------------------------------------


def test_success(http_server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    assert fetch(spec(publish(http_server)), dest, **FAST) == SHA
    assert dest.read_bytes() == DATA
    assert not (tmp_path / "out" / "data.bin.part").exists()
    assert http_server.requests == [("/data.bin", None, 200)]


def test_bad_checksum(http_server, tmp_path):
    url, wrong = publish(http_server), "0" * 64
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as err:
        fetch(spec(url, sha256=wrong), dest, **FAST)
    message = str(err.value)
    assert all(s in message for s in ("demo/data.bin", url, wrong, SHA, "mismatch"))
    assert_clean(dest)


def test_body_larger_than_expected_size(http_server, tmp_path):
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError, match="size mismatch: expected 1000 bytes"):
        fetch(spec(publish(http_server), size=1000), dest, **FAST)
    assert_clean(dest)


def test_truncated_body_is_resumed(http_server, tmp_path):
    url = publish(http_server)
    http_server.truncate_once("/data.bin", 100_000)
    dest = tmp_path / "data.bin"
    assert fetch(spec(url), dest, **FAST) == SHA
    assert dest.read_bytes() == DATA
    assert http_server.requests == [("/data.bin", None, 200), ("/data.bin", "bytes=100000-", 206)]
    assert not (tmp_path / "data.bin.part").exists()


def test_part_from_interrupted_attempt_is_resumed(http_server, tmp_path):
    url = publish(http_server)
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(DATA[:12_345])
    assert fetch(spec(url), dest, **FAST) == SHA
    assert dest.read_bytes() == DATA
    assert http_server.requests == [("/data.bin", "bytes=12345-", 206)]


def test_server_without_range_support_restarts(http_server, tmp_path):
    url = publish(http_server)
    http_server.support_ranges = False
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(b"stale bytes that must be discarded")
    assert fetch(spec(url), dest, **FAST) == SHA
    assert dest.read_bytes() == DATA
    assert http_server.requests == [("/data.bin", "bytes=34-", 200)]


def test_404_falls_through_to_next_url(http_server, tmp_path):
    url = publish(http_server)
    dest = tmp_path / "data.bin"
    assert fetch(spec(f"{http_server.url}/gone.bin", url), dest, **FAST) == SHA
    assert [r[0] for r in http_server.requests] == ["/gone.bin", "/data.bin"]  # no retry on 404


def test_404_everywhere_names_each_url(http_server, tmp_path):
    urls = [f"{http_server.url}/a/data.bin", f"{http_server.url}/b/data.bin"]
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as err:
        fetch(spec(*urls), dest, **FAST)
    message = str(err.value)
    assert all(f"{u}: HTTP 404" in message for u in urls) and "demo/data.bin" in message
    assert SHA in message and str(len(DATA)) in message
    assert len(http_server.requests) == 2
    assert_clean(dest)


def test_server_error_is_retried(http_server, tmp_path):
    url = publish(http_server)
    http_server.fail("/data.bin", 500, times=2)
    assert fetch(spec(url), tmp_path / "data.bin", **FAST) == SHA
    assert [r[2] for r in http_server.requests] == [500, 500, 200]


def test_retries_exhausted_then_next_url(http_server, tmp_path):
    url = publish(http_server)
    dead = dead_url()
    assert fetch(spec(dead, url), tmp_path / "data.bin", retries=1, **FAST) == SHA
    http_server.fail("/data.bin", 503, times=10)
    with pytest.raises(DownloadError, match=r"HTTP 503 \(after 3 attempts\)"):
        fetch(spec(url), tmp_path / "again.bin", retries=2, **FAST)
    assert_clean(tmp_path / "again.bin")


@pytest.mark.parametrize("as_uri", [False, True])
def test_mirror_folder_replaces_public_urls(tmp_path, as_uri):
    mirror = tmp_path / "mirror"
    (mirror / "demo-files").mkdir(parents=True)
    (mirror / "demo-files" / "data.bin").write_bytes(DATA)
    dest = tmp_path / "data.bin"
    s = spec(dead_url(), mirror_dir="demo-files")
    assert fetch(s, dest, mirror=mirror.as_uri() if as_uri else str(mirror), **FAST) == SHA
    assert dest.read_bytes() == DATA


def test_mirror_folder_missing_file_names_path(tmp_path):
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError, match=str(tmp_path / "mirror" / "demo" / "data.bin")):
        fetch(spec(dead_url()), dest, mirror=str(tmp_path / "mirror"), **FAST)
    assert_clean(dest)


def test_mirror_base_url(http_server, tmp_path):
    publish(http_server, "mirror/demo/data.bin")
    dest = tmp_path / "data.bin"
    assert fetch(spec(dead_url()), dest, mirror=f"{http_server.url}/mirror", **FAST) == SHA
    assert http_server.requests == [("/mirror/demo/data.bin", None, 200)]


def test_unknown_checksum_recorded_then_enforced(http_server, tmp_path):
    url, lock = publish(http_server), tmp_path / "config" / "checksums.lock.json"
    s = spec(url, sha256=None, size=None)
    assert fetch(s, tmp_path / "first.bin", lockfile=lock, **FAST) == SHA
    assert json.loads(lock.read_text()) == {"demo/data.bin": {"sha256": SHA, "size": len(DATA)}}
    assert fetch(s, tmp_path / "second.bin", lockfile=lock, **FAST) == SHA
    changed = DATA[:-1] + bytes([DATA[-1] ^ 0xFF])
    publish(http_server, data=changed)
    with pytest.raises(DownloadError) as err:
        fetch(s, tmp_path / "third.bin", lockfile=lock, **FAST)
    assert SHA in str(err.value) and sha(changed) in str(err.value) and str(lock) in str(err.value)
    assert_clean(tmp_path / "third.bin")


def test_lockfile_parallel_records(tmp_path):
    lock = tmp_path / "checksums.lock.json"
    threads = [threading.Thread(target=_record, args=(lock, f"d/f{i}", f"{i:064x}", i)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(json.loads(lock.read_text())) == 16


# --- extract ----------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes], infos: tuple[zipfile.ZipInfo, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for info in infos:
            zf.writestr(info, b"x")
    return path


def make_tar(path: Path, members: dict[str, bytes], infos: tuple[tarfile.TarInfo, ...] = ()) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in infos:
            tf.addfile(info)
    return path


def assert_nothing_extracted(tmp_path: Path, target: Path) -> None:
    assert not target.exists()
    assert not (tmp_path / "evil").exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.")]


MEMBERS = {"20130101.txt": b"a\tb\n", "sub/20130102.txt": DATA}


def test_extract_zip(tmp_path):
    target = tmp_path / "out" / "201301"
    files = extract(make_zip(tmp_path / "a.zip", MEMBERS), target)
    assert sorted(files) == sorted(target / n for n in MEMBERS)
    assert (target / "sub" / "20130102.txt").read_bytes() == DATA


def test_extract_tar_gz_replaces_existing_target(tmp_path):
    target = tmp_path / "out"
    (target / "old").mkdir(parents=True)
    archive = make_tar(tmp_path / "a.dat", MEMBERS)  # detected by content, not by name
    files = extract(archive, target)
    assert sorted(files) == sorted(target / n for n in MEMBERS)
    assert (target / "20130101.txt").read_bytes() == b"a\tb\n" and not (target / "old").exists()


def symlink_zipinfo() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def tar_link(name: str, kind: bytes, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    "build, member",
    [
        (lambda p: make_zip(p / "e.zip", {"ok.txt": b"ok", "../evil": b"x"}), "../evil"),
        (lambda p: make_zip(p / "e.zip", {"ok.txt": b"ok"}, (zipfile.ZipInfo(str(p / "evil")),)), "/evil"),
        (lambda p: make_zip(p / "e.zip", {"ok.txt": b"ok"}, (symlink_zipinfo(),)), "link"),
        (lambda p: make_tar(p / "e.tgz", {"ok.txt": b"ok", "a/../../evil": b"x"}), "a/../../evil"),
        (lambda p: make_tar(p / "e.tgz", {"ok.txt": b"ok"}, (tar_link("evil", tarfile.SYMTYPE, "/etc"),)), "evil"),
        (lambda p: make_tar(p / "e.tgz", {"ok.txt": b"ok"}, (tar_link("h", tarfile.LNKTYPE, "/etc/passwd"),)), "h"),
        (lambda p: make_tar(p / "e.tgz", {"ok.txt": b"ok"}, (tar_link("dev", tarfile.CHRTYPE, ""),)), "dev"),
    ],
    ids=["zip-dotdot", "zip-absolute", "zip-symlink", "tar-dotdot", "tar-symlink", "tar-hardlink", "tar-device"],
)
def test_extract_refuses_unsafe_members(tmp_path, build, member):
    archive, target = build(tmp_path), tmp_path / "out" / "target"
    with pytest.raises(DownloadError, match="refusing member") as err:
        extract(archive, target)
    assert str(archive) in str(err.value) and member in str(err.value)
    assert_nothing_extracted(tmp_path, target)


def test_extract_not_an_archive(tmp_path):
    plain = tmp_path / "notes.zip"
    plain.write_bytes(b"just text\n" * 100)
    with pytest.raises(DownloadError, match="notes.zip is not a zip or tar archive"):
        extract(plain, tmp_path / "out")
    assert_nothing_extracted(tmp_path, tmp_path / "out")


def test_extract_truncated_zip(tmp_path):
    archive = make_zip(tmp_path / "t.zip", MEMBERS)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DownloadError, match=r"t\.zip is not a zip or tar archive \(a truncated zip\?\)"):
        extract(archive, tmp_path / "out")
    assert_nothing_extracted(tmp_path, tmp_path / "out")


def test_extract_corrupt_zip_and_truncated_tar(tmp_path):
    archive = make_zip(tmp_path / "c.zip", {"big.bin": DATA})
    raw = bytearray(archive.read_bytes())
    raw[1000] ^= 0xFF  # inside the compressed data: the CRC check fails
    archive.write_bytes(bytes(raw))
    with pytest.raises(DownloadError, match=r"c\.zip is corrupt or truncated"):
        extract(archive, tmp_path / "out")
    assert_nothing_extracted(tmp_path, tmp_path / "out")
    tar = make_tar(tmp_path / "t.tar.gz", MEMBERS)
    tar.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    with pytest.raises(DownloadError, match=r"t\.tar\.gz is corrupt or truncated"):
        extract(tar, tmp_path / "out")
    assert_nothing_extracted(tmp_path, tmp_path / "out")


def test_failed_call_keeps_part_for_next_call(http_server, tmp_path):
    url = publish(http_server)
    http_server.truncate_once("/data.bin", 50_000)
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError, match="transfer broken after 50000 of 300000 bytes"):
        fetch(spec(url), dest, retries=0, **FAST)
    assert not dest.exists() and (tmp_path / "data.bin.part").stat().st_size == 50_000
    assert fetch(spec(url), dest, retries=0, **FAST) == SHA
    assert http_server.requests[-1] == ("/data.bin", "bytes=50000-", 206)
