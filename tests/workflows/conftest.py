"""Workflow tests: the example workflow's folder, a store per test (SQLite file or PostgreSQL), an SMTP
server, and running the CLI in a real subprocess."""

from __future__ import annotations

import pytest
from smtp_server import SmtpServer
from workflow_helpers import EXAMPLES


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
