"""A real Jupyter server with the aqtra-nb extension, its store on SQLite (or PostgreSQL), sample data."""

from __future__ import annotations

import shutil

import pytest
import requests
from server_process import JupyterServer
from server_root import make_root, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One server per test module, store on SQLite."""
    root = make_root(tmp_path_factory.mktemp("jupyter_root"))
    process = start_server(root, None)
    yield process
    process.stop()
    shutil.rmtree(root / "home", ignore_errors=True)


@pytest.fixture
def http(server: JupyterServer) -> requests.Session:
    session = requests.Session()
    session.headers.update(server.headers)
    return session
