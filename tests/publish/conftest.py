"""Fixtures for publishing tests: app folders and real `aqtra-nb publish` servers on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_helpers import PNG, SIMPLE_APP, RequestLog, write_notebook

from aqtra_nb.publish.process import PublishedServer


@pytest.fixture(scope="session")
def simple_app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with an ipywidgets app (a slider and its square), an image and a data file."""
    folder = tmp_path_factory.mktemp("simple_app")
    write_notebook(folder / "app.ipynb", SIMPLE_APP)
    (folder / "logo.png").write_bytes(PNG)
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


@pytest.fixture(scope="module")
def simple_server(simple_app_dir: Path):
    """`aqtra-nb publish app.ipynb` on a free loopback port, with a token (the default)."""
    server = PublishedServer(["publish", "app.ipynb", "--port", "0"], cwd=simple_app_dir).start()
    server.wait_for_output("is filled")  # its pre-heated kernel has started: the first page uses it
    yield server
    server.stop()


@pytest.fixture
def request_log(context) -> RequestLog:
    return RequestLog(context)
