"""Fixtures for publishing tests: app folders and real `aqtra-nb publish` servers on loopback."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest

from aqtra_nb.publish.process import PublishedServer

# A 1x1 PNG: an image next to the app, served by /voila/files/ to signed-in users only.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


SIMPLE_APP = """\
import os
import ipywidgets as widgets

print("APP-" + "RENDERED in", os.getcwd())
slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
square = widgets.HTML(value='<b class="square">9</b>')
slider.observe(lambda change: setattr(square, "value", f'<b class="square">{change.new ** 2}</b>'), "value")
widgets.VBox([slider, square])
"""


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


class RequestLog:
    """Every request (and websocket) a browser context makes, to check that none leaves loopback."""

    def __init__(self, context) -> None:
        self.urls: list[str] = []
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def watch(self, page) -> None:
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def outside_loopback(self) -> list[str]:
        from aqtra_nb.publish.browser import is_loopback

        return [url for url in self.urls if not is_loopback(url)]


@pytest.fixture
def request_log(context) -> RequestLog:
    return RequestLog(context)
