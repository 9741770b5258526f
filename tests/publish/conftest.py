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
    yield server
    server.stop()


# Browser tests: Playwright's sync API driving the system's Chromium (never a downloaded one). One browser
# per test module, stopped with the module: a running Playwright keeps an event loop running in the
# main thread, which would break later tests that call asyncio.run (pytest-playwright's own `browser`
# lives for the whole session, so these fixtures replace it).


@pytest.fixture(scope="module")
def browser():
    from aqtra_nb.errors import AqtraError
    from aqtra_nb.publish.browser import launch_args, sync_playwright

    try:
        options = launch_args()
    except AqtraError as exc:  # CI installs Debian's chromium (.ci/run); elsewhere say what is missing
        pytest.skip(str(exc))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**options)
        yield launched
        launched.close()


@pytest.fixture
def context(browser):
    created = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield created
    created.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def request_log(context) -> RequestLog:
    return RequestLog(context)
