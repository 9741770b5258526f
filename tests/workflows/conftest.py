"""Workflow tests: the example workflow's folder, a store per test (SQLite file or PostgreSQL), an SMTP
server, and running the CLI in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from smtp_server import SmtpServer

EXAMPLES = Path(__file__).resolve().parents[2] / "notebooks" / "workflows"


@pytest.fixture
def store_url(database_url, monkeypatch):
    """Everything (workflows, entities, flow runs, secrets) in the test's own database."""
    monkeypatch.setenv("AQTRA_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'aqtra.db'}"
    monkeypatch.setenv("AQTRA_DATABASE_URL", url)
    return url


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setenv("AQTRA_SMTP_URL", f"smtp://127.0.0.1:{server.port}?from=workflows@example.com")
        yield server


@pytest.fixture
def purchase_request():
    """The example's entity class (a module beside the workflow file)."""
    from aqtra_nb.workflows.context import entity_class

    return entity_class("purchase_models:Requisition", EXAMPLES)


def cli(*args: str, check: int | None = 0, **popen: object) -> subprocess.CompletedProcess:
    """`aqtra-nb ARGS` in a fresh process with this test's environment."""
    done = subprocess.run(
        [sys.executable, "-m", "aqtra_nb.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        **popen,
    )
    if check is not None:
        assert done.returncode == check, done.stdout + done.stderr
    return done
