"""Shared pytest fixtures."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from http_server import FileServer, serve


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[FileServer]:
    """A local HTTP server over a fresh folder (`.root`), at `.url`."""
    root = tmp_path / "www"
    root.mkdir()
    with serve(root) as server:
        yield server
