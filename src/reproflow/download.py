"""Fetch registry files (mirrors, resume, retries, checksums) and unpack archives safely."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import requests
import urllib3

from reproflow import __version__
from reproflow.errors import ReproflowError
from reproflow.outputs import is_inside, remove_path, write_text

log = logging.getLogger("reproflow.download")

CHUNK = 1 << 20
SCHEMES = ("http", "https", "file")
USER_AGENT = f"reproflow/{__version__}"


class DownloadError(ReproflowError):
    """A file could not be fetched, verified or extracted."""


class _UrlError(Exception):
    """One attempt on one URL failed; `retry`: worth retrying, `discard`: the .part is bad."""

    def __init__(self, message: str, *, retry: bool = False, discard: bool = False) -> None:
        super().__init__(message)
        self.retry, self.discard = retry, discard


@dataclass(frozen=True)
class FileSpec:
    """One remote file of the registry."""

    dataset: str
    name: str
    urls: tuple[str, ...]
    sha256: str | None = None
    size: int | None = None
    extract: bool = False
    mirror_dir: str | None = None


def file_specs(registry: Mapping) -> dict[tuple[str, str], FileSpec]:
    """FileSpecs of every file in the registry (the mapping under `datasets:`, validated:
    every file has its urls, a lower-case sha256 or null, and a size or null)."""
    return {
        (dataset, name): FileSpec(dataset, name, urls=tuple(file["urls"]), sha256=file["sha256"], size=file["size"],
                                  extract=file.get("extract", False), mirror_dir=entry.get("mirror_dir"))
        for dataset, entry in registry.items() for name, file in entry["files"].items()
    }


def resolve_urls(spec: FileSpec, mirror: str | None) -> list[str]:
    """The URLs to try: the public ones, or the single mirror URL that replaces them."""
    if mirror is None:
        urls = list(spec.urls)
    else:
        base = mirror if urlsplit(mirror).scheme else Path(mirror).expanduser().resolve().as_uri()
        urls = [f"{base.rstrip('/')}/{quote(f'{spec.mirror_dir or spec.dataset}/{spec.name}')}"]
    bad = [u for u in urls if urlsplit(u).scheme not in SCHEMES]
    if bad or not urls:
        raise DownloadError(
            f"{spec.dataset}/{spec.name}: no usable URL (unsupported scheme in {bad or urls}; "
            f"only {', '.join(SCHEMES)} are accepted)"
        )
    return urls


def fetch(
    spec: FileSpec,
    dest: Path,
    *,
    mirror: str | None = None,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    lockfile: str | Path | None = None,
) -> str:
    """Download spec to dest atomically, verified; return its sha256."""
    dest = Path(dest)
    key = f"{spec.dataset}/{spec.name}"
    urls = resolve_urls(spec, mirror)
    sha, size, source = spec.sha256, spec.size, "registry"
    if sha is None and lockfile is not None and (entry := read_lock(lockfile).get(key)):
        sha, source = entry["sha256"], f"lockfile {lockfile}"
        size = entry.get("size") if size is None else size
    part = dest.parent / (dest.name + ".part")
    if dest.is_dir() and not dest.is_symlink():
        raise DownloadError(f"{dest}: is a folder; expected the place of the file {key} (remove the folder)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    failures = []
    for url in urls:
        for attempt in range(retries + 1):
            try:
                log.info("%s: fetching %s (attempt %d)", key, url, attempt + 1)
                digest = _transfer(url, part, size, timeout_s)
                got = part.stat().st_size
                if sha is None and lockfile is not None:
                    sha, source = _record(lockfile, key, digest, got), f"lockfile {lockfile}"
                if sha is not None and digest != sha:
                    raise _UrlError(
                        f"sha256 mismatch: expected {sha} ({source}), got {digest}", discard=True
                    )
            except _UrlError as e:
                if e.discard:
                    part.unlink(missing_ok=True)
                if e.retry and attempt < retries:
                    delay = backoff_s * 2**attempt
                    log.warning("%s: %s: %s; retrying in %.3g s", key, url, e, delay)
                    time.sleep(delay)
                    continue
                log.warning("%s: %s: %s; giving up on this URL", key, url, e)
                failures.append(f"{url}: {e}" + (f" (after {attempt + 1} attempts)" if e.retry else ""))
                break
            os.replace(part, dest)
            log.info("%s: verified %d bytes, sha256 %s -> %s", key, got, digest, dest)
            return digest
    raise DownloadError(
        f"could not download {key} (expected sha256 {sha or 'unknown'}, size "
        f"{size if size is not None else 'unknown'}); tried:\n  " + "\n  ".join(failures)
    )


def fetch_registry_file(
    registry: str | Path, schema: str | Path, dataset: str, name: str, dest: str | Path, **options,
) -> str:
    """Fetch one file of the data registry (rule download): `options` are fetch's."""
    from reproflow.config import load_registry

    specs = file_specs(load_registry(registry, schema))
    if (dataset, name) not in specs:
        raise DownloadError(f"data registry {registry}: no file {dataset}/{name}")
    return fetch(specs[(dataset, name)], Path(dest), **options)


def _transfer(url: str, part: Path, size: int | None, timeout_s: float) -> str:
    """Stream url into part, resuming an existing part over HTTP; return the part's sha256."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _UrlError(f"file URL on a remote host {parts.netloc!r} is not supported")
        src = Path(url2pathname(parts.path))
        if src.is_symlink() and not src.exists():
            raise _UrlError(f"{src} is a dangling symbolic link (to {os.readlink(src)}); expected the file")
        if src.is_dir():
            raise _UrlError(f"{src} is a folder; expected the file")
        try:
            fh = src.open("rb")
        except OSError as e:
            raise _UrlError(f"cannot read local file {src}: {e.strerror}") from None
        with fh:
            return _write(part, iter(lambda: fh.read(CHUNK), b""), 0, size, None)
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        offset = 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        log.info("resuming %s at byte %d", part, offset)
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout_s) as r:
            code = r.status_code
            if code in (403, 404, 410):
                raise _UrlError(f"HTTP {code}")
            if code >= 500 or code in (408, 429):
                raise _UrlError(f"HTTP {code}", retry=True)
            if code == 416 or (
                code == 206 and not r.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
            ):
                raise _UrlError(f"HTTP {code}: range {offset}- refused; restarting", retry=True, discard=True)
            if code not in (200, 206):
                raise _UrlError(f"unexpected HTTP {code}")
            start = offset if code == 206 else 0
            length = r.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else None
            if size is not None and total is not None and total != size:
                raise _UrlError(
                    f"size mismatch: expected {size} bytes, server announces {total}", discard=True
                )
            return _write(part, r.raw.stream(CHUNK, decode_content=False), start, size, total)
    except (OSError, urllib3.exceptions.HTTPError) as e:  # requests' errors are OSErrors
        raise _UrlError(f"{type(e).__name__}: {e}", retry=True) from None


def _write(part: Path, chunks: Iterable[bytes], start: int, size: int | None, total: int | None) -> str:
    """Write chunks to part after its first `start` bytes, checking the size; return the sha256."""
    h = hashlib.sha256()
    if start:
        with part.open("rb") as f:
            for block in iter(lambda: f.read(CHUNK), b""):
                h.update(block)
    n, last_log = start, time.monotonic()
    with part.open("r+b" if start else "wb") as out:
        out.truncate(start)
        out.seek(start)
        try:
            for chunk in chunks:
                if size is not None and n + len(chunk) > size:
                    raise _UrlError(f"size mismatch: expected {size} bytes, got more", discard=True)
                h.update(chunk)
                out.write(chunk)
                n += len(chunk)
                if time.monotonic() - last_log > 10:
                    log.info("%s: %d bytes so far", part.name, n)
                    last_log = time.monotonic()
        except (OSError, urllib3.exceptions.HTTPError) as e:
            broken = f"{type(e).__name__}: {e}"
        else:
            broken = "" if total is None or n >= total else "connection closed"
    if broken:
        raise _UrlError(f"transfer broken after {n} of {total or '?'} bytes ({broken})", retry=True)
    if size is not None and n != size:
        raise _UrlError(f"size mismatch: expected {size} bytes, got {n}", discard=True)
    return h.hexdigest()


def read_lock(lockfile: str | Path) -> dict:
    """The checksum lockfile: {"dataset/file": {"sha256": ..., "size": ...}}, checked."""
    lockfile = Path(lockfile)
    if lockfile.is_symlink() and not lockfile.exists():
        raise DownloadError(f"checksum lockfile {lockfile} is a dangling symbolic link (to {os.readlink(lockfile)}); "
                            "expected a JSON file or no file")
    if lockfile.is_dir():
        raise DownloadError(f"checksum lockfile {lockfile} is a folder; expected a JSON file")
    try:
        data = json.loads(lockfile.read_bytes())
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise DownloadError(f"checksum lockfile {lockfile} cannot be read ({e.strerror})") from e
    except (ValueError, RecursionError) as e:
        raise DownloadError(f"checksum lockfile {lockfile} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise DownloadError(f"checksum lockfile {lockfile}: a JSON {type(data).__name__}; expected an object "
                            '{"dataset/file": {"sha256": ..., "size": ...}}')
    for key, entry in data.items():
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)) or not (
                size is None or (isinstance(size, int) and not isinstance(size, bool) and size >= 0)):
            raise DownloadError(f"checksum lockfile {lockfile}: entry {key!r} is {entry!r}; expected "
                                '{"sha256": <64 hex digits>, "size": <bytes>}')
    return data


def _record(lockfile: str | Path, key: str, sha256: str, size: int) -> str:
    """Record key's checksum in the lockfile unless present; return the recorded sha256."""
    lockfile = Path(lockfile)
    lockfile.parent.mkdir(parents=True, exist_ok=True)
    # A sidecar is locked because os.replace gives the lockfile a new inode.
    with open(lockfile.with_name(lockfile.name + ".lock"), "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        data = read_lock(lockfile)
        if key not in data:
            data[key] = {"sha256": sha256, "size": size}
            write_text(lockfile, json.dumps(data, indent=2, sort_keys=True) + "\n")
            log.info("%s: recorded sha256 %s, %d bytes in %s", key, sha256, size, lockfile)
        return data[key]["sha256"]


# Past these an archive is refused before anything is written: a Kyoto month
# unpacks to a few GB in about 31 files; a bomb declares far more.
MAX_EXTRACT_BYTES = 64 * 2**30
MAX_MEMBERS = 100_000
DISK_MARGIN = 2**30  # left free after extraction


def extract(archive: Path, target_dir: Path, max_bytes: int | None = None) -> list[Path]:
    """Unpack a zip or tar archive into target_dir (replaced atomically); return the files.

    Links, special files, members escaping target_dir, duplicate member names,
    and archives whose members declare more than `max_bytes` (default
    MAX_EXTRACT_BYTES) or more than the free disk space are refused before
    anything is written; no member is written past the size it declares.
    On failure no target_dir is left.
    """
    archive, target_dir = Path(archive), Path(target_dir)
    if archive.is_symlink() and not archive.exists():
        raise DownloadError(f"archive {archive} is a dangling symbolic link (to {os.readlink(archive)})")
    if archive.is_dir():
        raise DownloadError(f"archive {archive} is a folder; expected a zip or tar file")
    if not archive.is_file():
        raise DownloadError(f"archive {archive} does not exist")
    if is_inside(archive, target_dir):
        raise DownloadError(f"archive {archive}: the target folder {target_dir} is or holds the archive itself; "
                            "extracting would replace it")
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    limit = MAX_EXTRACT_BYTES if max_bytes is None else max_bytes
    free = shutil.disk_usage(target_dir.parent).free - DISK_MARGIN
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", suffix=".tmp", dir=target_dir.parent))
    try:
        files = _unpack(archive, tmp, Budget(archive, limit, free))
        old = tmp.with_name(tmp.name + ".old")
        if target_dir.exists() or target_dir.is_symlink():
            os.replace(target_dir, old)
        os.replace(tmp, target_dir)
        remove_path(old)
    except BaseException:
        remove_path(tmp)
        remove_path(target_dir)
        raise
    log.info("extracted %d files from %s to %s", len(files), archive, target_dir)
    return [target_dir / rel for rel in files]


@dataclass
class Budget:
    """What an archive may unpack to: checked on the sizes members declare, as they are listed."""

    archive: Path
    limit: int
    free: int
    declared: int = 0
    members: int = 0

    def admit(self, name: str, size: int, names: set[str]) -> None:
        if name in names:
            raise DownloadError(f"archive {self.archive}: member {name!r} appears twice; refusing an archive "
                                "whose members overwrite each other")
        names.add(name)
        self.members += 1
        self.declared += max(size, 0)
        if self.members > MAX_MEMBERS:
            raise DownloadError(f"archive {self.archive}: more than {MAX_MEMBERS} members; refusing it")
        if self.declared > self.limit:
            raise DownloadError(
                f"archive {self.archive}: its members declare more than {self.limit} bytes uncompressed "
                f"({self.declared} bytes so far, at {name!r}), past the extraction cap "
                "(download.max_extract_gb); a decompression bomb? refusing it")
        if self.declared > self.free:
            raise DownloadError(
                f"archive {self.archive}: its members declare {self.declared} bytes uncompressed (so far, at "
                f"{name!r}), more than the {max(self.free, 0)} bytes free on the disk (keeping {DISK_MARGIN} "
                "free); refusing it")


def _unpack(archive: Path, root: Path, budget: Budget) -> list[PurePosixPath]:
    entries: list[tuple[PurePosixPath, bool, int, Callable]] = []
    names: set[str] = set()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    kind = stat.S_IFMT(info.external_attr >> 16)
                    special = kind not in (0, stat.S_IFREG, stat.S_IFDIR)
                    rel = _member(archive, info.filename, root, special)
                    budget.admit(rel.as_posix(), info.file_size, names)
                    entries.append((rel, info.is_dir(), info.file_size, lambda i=info: zf.open(i)))
                return _write_members(archive, entries, root)
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for m in tf:  # lazily: a bomb is refused at the member that passes the cap, not after all
                    rel = _member(archive, m.name, root, not (m.isfile() or m.isdir()))
                    budget.admit(rel.as_posix(), m.size if m.isfile() else 0, names)
                    entries.append((rel, m.isdir(), m.size, lambda m=m: tf.extractfile(m)))
                return _write_members(archive, entries, root)
    except DownloadError:
        raise
    except Exception as e:  # zipfile, tarfile, gzip, zlib and lzma each raise their own
        raise DownloadError(f"archive {archive} is corrupt or truncated: {type(e).__name__}: {e}") from e
    with archive.open("rb") as f:
        hint = " (a truncated zip?)" if f.read(4) == b"PK\x03\x04" else ""
    raise DownloadError(f"{archive} is not a zip or tar archive{hint}")


def _member(archive: Path, name: str, root: Path, special: bool) -> PurePosixPath:
    """The member's safe relative path, or DownloadError naming archive and member."""
    rel = PurePosixPath(name.replace("\\", "/"))
    if special:
        raise DownloadError(f"archive {archive}: refusing member {name!r}: link or special file")
    if rel.is_absolute() or ".." in rel.parts or not (root / rel).resolve().is_relative_to(root.resolve()):
        raise DownloadError(f"archive {archive}: refusing member {name!r}: path escapes the target folder")
    return rel


def _write_members(
    archive: Path, entries: list[tuple[PurePosixPath, bool, int, Callable]], root: Path,
) -> list[PurePosixPath]:
    files = []
    for rel, is_dir, size, open_member in entries:
        path = root / rel
        if is_dir:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with open_member() as src, path.open("wb") as dst:
            while block := src.read(min(CHUNK, size - written + 1)):
                written += len(block)
                if written > size:  # zipfile and tarfile stop at the declared size; never trust that alone
                    raise DownloadError(f"archive {archive}: member {rel.as_posix()!r} holds more than the "
                                        f"{size} bytes it declares; refusing it")
                dst.write(block)
        files.append(rel)
    return files
