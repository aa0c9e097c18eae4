"""A real local HTTP file server for tests: ranges, truncation, injected failures, request log."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class FileServer:
    """State of a running server; `requests` lists (path, Range header or None, status)."""

    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = Path(root), url
        self.requests: list[tuple[str, str | None, int]] = []
        self.support_ranges = True
        self._truncate: dict[str, int] = {}
        self._fail: dict[str, list[int]] = {}
        self._slow: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def truncate_once(self, path: str, nbytes: int) -> None:
        """Next GET of path announces the full length but sends nbytes, then closes."""
        self._truncate[_norm(path)] = nbytes

    def slow(self, path: str, chunk: int, delay_s: float) -> None:
        """GETs of path send the body `chunk` bytes at a time, `delay_s` apart (until `fast`)."""
        self._slow[_norm(path)] = (chunk, delay_s)

    def fast(self, path: str) -> None:
        self._slow.pop(_norm(path), None)

    def fail(self, path: str, status: int, times: int = 1) -> None:
        """The next `times` GETs of path answer `status`."""
        self._fail[_norm(path)] = [status, times]

    def _plan(self, path: str) -> tuple[int | None, int | None]:
        """(injected status or None, truncation or None) for this request, consuming them."""
        with self._lock:
            fail = self._fail.get(path)
            if fail and fail[1] > 0:
                fail[1] -= 1
                return fail[0], None
            return None, self._truncate.pop(path, None)

    def _log(self, path: str, range_header: str | None, status: int) -> None:
        with self._lock:
            self.requests.append((path, range_header, status))


def _norm(path: str) -> str:
    return "/" + path.lstrip("/")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: closing it ends a truncated body
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        state: FileServer = self.server.state  # type: ignore[attr-defined]
        path = unquote(urlsplit(self.path).path)
        range_header = self.headers.get("Range")
        status, truncate = state._plan(path)
        file = (state.root / path.lstrip("/")).resolve()
        if status is None and not (file.is_file() and file.is_relative_to(state.root.resolve())):
            status = 404
        if status is not None:
            state._log(path, range_header, status)
            self._send(status, b"error\n")
            return
        data = file.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        start, status = 0, 200
        if match and state.support_ranges:
            start, status = int(match[1]), 206
            if start >= len(data):
                state._log(path, range_header, 416)
                self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
        state._log(path, range_header, status)
        extra = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"} if status == 206 else {}
        self._send(status, data[start:], extra, truncate)

    def _send(self, status: int, body: bytes, headers: dict | None = None, truncate: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes" if self.server.state.support_ranges else "none")  # type: ignore[attr-defined]
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        body = body if truncate is None else body[:truncate]
        chunk, delay_s = self.server.state._slow.get(_norm(urlsplit(self.path).path), (len(body) or 1, 0.0))  # type: ignore[attr-defined]
        try:
            for start in range(0, len(body), chunk):
                self.wfile.write(body[start:start + chunk])
                self.wfile.flush()
                time.sleep(delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed download)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@contextmanager
def serve(root: Path) -> Iterator[FileServer]:
    """Serve root on 127.0.0.1 (a free port) in a daemon thread for the with-block."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = FileServer(root, f"http://127.0.0.1:{httpd.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.state  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
