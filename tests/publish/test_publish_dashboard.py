"""The published sales dashboard (notebooks/sales_dashboard.app.yaml) and other apps in real headless
Chromium, served by one `aqtra-nb apps` server: filters → Run → grid, chart and cards with the values
pandas computes; a 1M-row grid paged; a form error next to its field; a failing flow's message; URL
parameters. Every request the pages make stays on loopback; each state is saved as a screenshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from publish_helpers import (
    WAIT,
    RequestLog,
    chart_bars,
    copy_dashboard,
    metric,
    wait_for_first_run,
    write_notebook,
)

from aqtra_nb.publish.process import PublishedServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIG_GRID = """\
import numpy as np
import pandas as pd
from aqtra_nb.ui import DataGrid

frame = pd.DataFrame({"id": np.arange(1_000_000), "double": np.arange(1_000_000) * 2})
DataGrid(frame, page_size=25, title="A million rows")
"""

FAILING_FLOW = """\
flow: failing
parameters:
  table: {type: string, default: orders, choices: [orders, vanished]}
steps:
  - id: rows
    component: read_parquet
    with: {path: "../data/${table}.parquet"}
  - id: counted
    component: aggregate
    input: rows
    with: {aggregations: {n: "count()"}}
"""

FAILING_APP = """\
app: failing
title: Failing flow
flows:
  main: {path: flows/failing.flow.yaml}
components:
  form: {type: form, flow: main, fields: [table]}
  run: {type: button, label: Run, action: {do: run_flow, flow: main, form: form}}
  status: {type: status, flow: main}
  n: {type: metric, step: counted, label: Rows, value: n}
layout:
  type: page
  children: [form, run, status, n]
"""


@pytest.fixture(scope="module")
def apps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = copy_dashboard(tmp_path_factory.mktemp("apps"))
    (folder / "flows" / "failing.flow.yaml").write_text(FAILING_FLOW)
    (folder / "failing.app.yaml").write_text(FAILING_APP)
    write_notebook(folder / "big_grid.ipynb", BIG_GRID)
    shutil.copy(ROOT / "notebooks" / "02-sales-dashboard.ipynb", folder)
    (folder / "broken.app.yaml").write_text("app: broken\nflows:\n  main: {path: flows/nowhere.flow.yaml}\n")
    return folder


@pytest.fixture(scope="module")
def server(apps_dir: Path):
    with PublishedServer(["apps", ".", "--port", "0"], cwd=apps_dir) as running:
        yield running


@pytest.fixture(scope="module")
def orders(apps_dir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(apps_dir / "data" / "orders.parquet")
    frame["net_amount"] = (frame["amount"] * (1 - frame["discount"].fillna(0))).round(2)
    return frame


def open_app(page, server: PublishedServer, name: str, query: str = "") -> None:
    page.goto(f"{server.base}/voila/render/{name}?token={server.token}{query}", timeout=WAIT)


def test_dashboard_filters_and_run_update_grid_chart_and_cards(
    server: PublishedServer, page, request_log: RequestLog, orders: pd.DataFrame, tmp_path: Path
):
    open_app(page, server, "sales_dashboard.app.ipynb")
    wait_for_first_run(page)
    assert int(page.locator(".aqtra-grid").first.get_attribute("data-total")) == orders["region"].nunique()
    page.screenshot(path=tmp_path / "01-first-run.png", full_page=True)

    page.locator(".aqtra-field-region select").select_option("North")
    page.locator(".aqtra-field-min_amount input").fill("200")
    page.locator(".aqtra-field-min_amount input").press("Tab")
    page.locator("button.aqtra-run").click()
    expected = orders[(orders["region"] == "North") & (orders["amount"] >= 200)]
    page.wait_for_function(
        "n => document.querySelector('.aqtra-metric-value') && "
        "[...document.querySelectorAll('.aqtra-metric-value')].some(e => e.dataset.value === String(n))",
        arg=len(expected),
        timeout=WAIT,
    )
    page.screenshot(path=tmp_path / "02-north-200.png", full_page=True)

    assert int(metric(page, "Orders")) == len(expected)
    assert float(metric(page, "Net revenue")) == pytest.approx(expected["net_amount"].sum())
    region_grid = page.locator(".aqtra-grid").first
    assert region_grid.get_attribute("data-total") == "1"
    assert region_grid.locator("td[data-column=region]").all_inner_texts() == ["North"]
    bars = chart_bars(page, {"North"})
    assert bars["North"] == pytest.approx(expected["net_amount"].sum())

    page.get_by_role("tab", name="Orders").click()
    orders_grid = page.locator(".aqtra-grid").nth(1)
    orders_grid.locator(".aqtra-grid-row").first.wait_for(timeout=WAIT)
    assert int(orders_grid.get_attribute("data-total")) == len(expected)
    shown = orders_grid.locator("td[data-column=region]").all_inner_texts()
    assert shown and set(shown) == {"North"}
    page.screenshot(path=tmp_path / "03-orders-tab.png", full_page=True)
    assert not request_log.outside_loopback(), request_log.outside_loopback()


def test_invalid_form_value_shows_the_field_error_and_does_not_run(server: PublishedServer, page, tmp_path):
    open_app(page, server, "sales_dashboard.app.ipynb")
    wait_for_first_run(page)
    revision = page.locator(".aqtra-grid").first.get_attribute("data-revision")
    page.locator(".aqtra-field-min_amount input").fill("lots")
    page.locator(".aqtra-field-min_amount input").press("Tab")
    page.locator("button.aqtra-run").click()
    error = page.locator(".aqtra-field-min_amount .aqtra-form-error")
    error.get_by_role("alert").wait_for(timeout=WAIT)
    page.screenshot(path=tmp_path / "invalid-form.png", full_page=True)
    assert "number" in error.inner_text().lower()
    page.wait_for_timeout(1000)
    assert page.locator(".aqtra-grid").first.get_attribute("data-revision") == revision
    assert page.locator(".aqtra-status-running").count() == 0
    assert "Traceback" not in page.content()


def test_failing_flow_shows_its_message_without_a_traceback(server: PublishedServer, page, tmp_path):
    open_app(page, server, "failing.app.ipynb")
    wait_for_first_run(page)
    page.locator(".aqtra-field-table select").select_option("vanished")
    page.locator("button.aqtra-run").click()
    page.locator(".aqtra-status-failed").wait_for(timeout=WAIT)
    page.screenshot(path=tmp_path / "failing-flow.png", full_page=True)
    message = page.locator(".aqtra-status .aqtra-error").inner_text()
    assert "vanished.parquet" in message
    content = page.content()
    assert "Traceback" not in content and 'File "' not in content


def test_url_parameters_fill_the_form_and_bad_ones_are_a_message(server: PublishedServer, page, tmp_path):
    open_app(page, server, "sales_dashboard.app.ipynb", "&region=South")
    wait_for_first_run(page)
    assert page.locator(".aqtra-field-region select").input_value() == "South"
    assert set(chart_bars(page, {"South"})) == {"South"}

    open_app(page, server, "sales_dashboard.app.ipynb", "&min_amount=abc")
    error = page.locator(".aqtra-page-error")
    error.wait_for(timeout=WAIT)
    page.screenshot(path=tmp_path / "bad-url-parameter.png", full_page=True)
    assert "URL parameter 'min_amount' expects a number, got 'abc'" in error.inner_text()
    assert page.locator(".aqtra-app").count() == 0

    # Parameters the form does not offer (here the data folder) cannot be set from the URL.
    open_app(page, server, "sales_dashboard.app.ipynb", "&data_dir=/etc")
    page.locator(".aqtra-page-error").wait_for(timeout=WAIT)
    assert "unknown URL parameter 'data_dir'" in page.locator(".aqtra-page-error").inner_text()


def wait_for_page(page, number: int) -> None:
    """The grid shows page `number` and the server's rows for it have arrived."""
    page.wait_for_function(
        "n => { const g = document.querySelector('.aqtra-grid');"
        " return g.dataset.page === String(n) && g.dataset.loading === 'false' }",
        arg=number,
        timeout=WAIT,
    )


def test_a_million_row_grid_pages_on_the_server(server: PublishedServer, page, request_log, tmp_path):
    open_app(page, server, "big_grid.ipynb")
    grid = page.locator(".aqtra-grid")
    grid.locator(".aqtra-grid-row").first.wait_for(timeout=WAIT)
    assert grid.get_attribute("data-total") == "1000000"
    assert grid.locator(".aqtra-grid-row").count() == 25
    page.screenshot(path=tmp_path / "grid-first-page.png")

    grid.locator(".aqtra-grid-next").click()
    wait_for_page(page, 1)
    assert grid.locator("td[data-column=id]").first.inner_text().replace(",", "") == "25"

    grid.locator(".aqtra-grid-last").click()
    wait_for_page(page, 39_999)
    ids = [int(t.replace(",", "")) for t in grid.locator("td[data-column=id]").all_inner_texts()]
    doubles = [int(t.replace(",", "")) for t in grid.locator("td[data-column=double]").all_inner_texts()]
    assert ids == list(range(999_975, 1_000_000))
    assert doubles == [2 * i for i in ids]
    page.screenshot(path=tmp_path / "grid-last-page.png")

    # Only the visible page crosses to the browser: the whole page is far smaller than the frame.
    assert len(page.content()) < 2_000_000
    assert not request_log.outside_loopback(), request_log.outside_loopback()


def test_a_broken_app_spec_is_a_message_naming_the_file(server: PublishedServer, page, tmp_path: Path):
    open_app(page, server, "broken.app.ipynb")
    error = page.locator(".aqtra-page-error")
    error.wait_for(timeout=WAIT)
    page.screenshot(path=tmp_path / "broken-spec.png")
    assert "broken.app.yaml" in error.inner_text() or "nowhere.flow.yaml" in error.inner_text()
    assert "Traceback" not in page.content()


def test_the_dashboard_notebook_publishes_without_errors(
    server: PublishedServer, page, request_log, tmp_path
):
    open_app(page, server, "02-sales-dashboard.ipynb")
    page.locator(".aqtra-app .aqtra-status-succeeded").first.wait_for(timeout=WAIT)
    page.locator(".aqtra-app .aqtra-grid-row").first.wait_for(timeout=WAIT)
    page.screenshot(path=tmp_path / "dashboard-notebook.png", full_page=True)
    content = page.content()
    assert "There was an error when executing cell" not in content and "Traceback" not in content
    assert "datasets.write_sales" not in content  # sources stripped
    assert not request_log.outside_loopback(), request_log.outside_loopback()
