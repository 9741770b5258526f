"""`aqtra-nb publish` keeps a pre-heated kernel (`--pool`, 1 by default) in which the app has already
been built and run, so a visitor does not wait for a kernel, imports and a first run. The visitor's URL
parameters still reach the flow (a new run), wrong ones still replace the app with a message, and a
notebook that reads its query string itself is served without a pool, so it still gets it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
import requests
from publish_helpers import WAIT, chart_bars, copy_dashboard, metric, wait_for_first_run, write_notebook

from aqtra_nb.publish.apps import AppSource
from aqtra_nb.publish.process import PublishedServer
from aqtra_nb.publish.server import ServeOptions, _preheat, reads_request, safe_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dashboard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_dashboard(tmp_path_factory.mktemp("preheat"))


@pytest.fixture(scope="module")
def server(dashboard_dir: Path):
    with PublishedServer(
        ["publish", "sales_dashboard.app.yaml", "--port", "0"], cwd=dashboard_dir
    ) as running:
        yield running


def visit(page, server: PublishedServer, query: str = "") -> None:
    page.goto(server.url + query, timeout=WAIT)


def pooled_visits(server: PublishedServer) -> int:
    return server.output.count("Using pre-heated kernel")


def test_a_visitor_gets_the_pre_run_app_and_its_url_parameters_start_a_new_run(
    server: PublishedServer, page, request_log, dashboard_dir: Path, tmp_path: Path
):
    orders = pd.read_parquet(dashboard_dir / "data" / "orders.parquet")
    visit(page, server)
    wait_for_first_run(page)
    assert pooled_visits(server) == 1
    assert int(page.locator(".aqtra-grid").first.get_attribute("data-total")) == orders["region"].nunique()
    page.screenshot(path=tmp_path / "pre-heated.png", full_page=True)

    visit(page, server, "&region=South")
    try:
        page.wait_for_function(
            "() => { const s = document.querySelector('.aqtra-field-region select');"
            " return s && s.value === 'South' }",
            timeout=WAIT,
        )
    except Exception:
        page.screenshot(path=tmp_path / "no-south.png", full_page=True)
        raise AssertionError(f"URL parameter not applied; server said:\n{server.output[-6000:]}") from None
    page.wait_for_function(
        "() => { const gd = document.querySelector('.aqtra-chart .js-plotly-plot');"
        " return gd && gd.data && gd.data.length && gd.data[0].x.length === 1 }",
        timeout=WAIT,
    )
    assert set(chart_bars(page, {"South"})) == {"South"}
    page.locator(".aqtra-status-succeeded").wait_for(timeout=WAIT)
    south = orders[orders["region"] == "South"]
    page.wait_for_function(
        "n => [...document.querySelectorAll('.aqtra-metric-value')].some(e => e.dataset.value === String(n))",
        arg=len(south),
        timeout=WAIT,
    )
    assert int(metric(page, "Orders")) == len(south)
    assert pooled_visits(server) == 2
    # An app spec's page skips the front-end extensions it does not use (plotly's 4.8 MB renderer).
    assert not [url for url in request_log.urls if "jupyterlab-plotly" in url or "jupyterlab_pygments" in url]
    assert any("/labextensions/" in url for url in request_log.urls)


def test_bad_url_parameters_replace_the_pre_run_app_with_a_message(server: PublishedServer, page, tmp_path):
    visit(page, server, "&min_amount=abc")
    error = page.locator(".aqtra-page-error")
    try:
        error.wait_for(timeout=WAIT)
    except Exception:
        page.screenshot(path=tmp_path / "no-error.png", full_page=True)
        raise AssertionError(f"no error message; server said:\n{server.output[-4000:]}") from None
    page.screenshot(path=tmp_path / "bad-url-parameter.png", full_page=True)
    assert "URL parameter 'min_amount' expects a number, got 'abc'" in error.inner_text()
    page.wait_for_function("() => !document.querySelector('.aqtra-app')", timeout=WAIT)
    assert "Traceback" not in page.content()


def test_a_notebook_reading_its_query_string_is_not_pre_heated_and_gets_it(tmp_path: Path):
    write_notebook(
        tmp_path / "reader.ipynb",
        "from aqtra_nb.publish.query import current_query\nprint('QUERY-HAS-X', 'x=41' in current_query())",
    )
    with PublishedServer(["publish", "reader.ipynb", "--port", "0"], cwd=tmp_path) as server:
        text = requests.get(server.url + "&x=41", timeout=120).text
        assert "QUERY-HAS-X True" in text
        assert "Using pre-heated kernel" not in server.output


def test_which_notebooks_read_the_request(tmp_path: Path):
    plain = write_notebook(tmp_path / "plain.ipynb", "import ipywidgets\nipywidgets.IntSlider()")
    reader = write_notebook(tmp_path / "reader.ipynb", "import os\nos.environ['QUERY_STRING']")
    helper = write_notebook(tmp_path / "helper.ipynb", "from aqtra_nb.publish import query_parameters")
    assert not reads_request(plain)
    assert reads_request(reader) and reads_request(helper)

    apps = [AppSource(path, path.relative_to(tmp_path)) for path in (plain, reader)]
    options = ServeOptions(pool=2)
    config = safe_config(options)
    _preheat(config, apps, options, single=False)
    assert config.VoilaConfiguration.default_pool_size == 2
    assert config.VoilaKernelManager.preheat_denylist == [r"reader\.ipynb$"]
    assert "/aqtra-query/" in config.VoilaKernelManager.default_env_variables["VOILA_WS_BASE_URL"]
    single = safe_config(options)
    _preheat(single, apps[1:], options, single=True)
    assert single.VoilaConfiguration.preheat_kernel is False


def test_pool_zero_serves_without_pre_heated_kernels(dashboard_dir: Path):
    with PublishedServer(
        ["publish", "sales_dashboard.app.yaml", "--port", "0", "--pool", "0"], cwd=dashboard_dir
    ) as server:
        started = time.monotonic()
        assert requests.get(server.url, timeout=120).status_code == 200
        assert time.monotonic() - started < 120
        assert "Using pre-heated kernel" not in server.output


def test_closing_the_tab_shuts_its_kernel_down(server: PublishedServer, browser):
    """Voilà's page sends a beacon on unload with the `_xsrf` cookie's value; the page sets that cookie,
    so the visitor's kernel goes when the tab closes instead of living until it is culled."""

    def status(kernel: str) -> int:
        headers = {"Authorization": f"token {server.token}"}
        return requests.get(f"{server.base}/api/kernels/{kernel}", headers=headers, timeout=30).status_code

    context = browser.new_context()
    page = context.new_page()
    visit(page, server)
    wait_for_first_run(page)
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content()).group(1)
    assert any(cookie["name"] == "_xsrf" for cookie in context.cookies())
    assert status(kernel) == 200
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and status(kernel) == 200:
        time.sleep(0.5)
    context.close()
    assert status(kernel) == 404, "the kernel of the closed tab is still running"
    assert "'_xsrf' argument missing" not in server.output
