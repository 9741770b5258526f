"""A published ipywidgets app in real headless Chromium: it renders, reacts to input through the kernel
websocket, keeps out signed-out visitors, and loads nothing from outside loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_helpers import RequestLog

from aqtra_nb.publish.process import PublishedServer

pytestmark = pytest.mark.slow


def test_widget_app_renders_and_reacts(
    simple_server: PublishedServer, page, request_log: RequestLog, tmp_path
):
    page.goto(simple_server.url)
    square = page.locator(".square")
    square.wait_for(timeout=60_000)
    assert square.inner_text() == "9"
    page.screenshot(path=tmp_path / "01-rendered.png")

    handle = page.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_function("document.querySelector('.square').innerText === '16'", timeout=30_000)
    page.screenshot(path=tmp_path / "02-changed.png")

    assert "APP-RENDERED" in page.content()
    assert "import ipywidgets" not in page.content()
    assert request_log.urls and not request_log.outside_loopback(), request_log.outside_loopback()
    assert (tmp_path / "02-changed.png").stat().st_size > 0


def test_signed_out_browser_gets_the_sign_in_page(
    simple_server: PublishedServer, page, request_log: RequestLog, tmp_path: Path
):
    page.goto(simple_server.base + "/")
    page.screenshot(path=tmp_path / "signed-out.png")
    assert "/login" in page.url
    assert "APP-RENDERED" not in page.content()
    assert page.locator("input[type=password]").count() >= 1
    assert not request_log.outside_loopback(), request_log.outside_loopback()


def test_gallery_links_to_its_apps_and_loads_nothing_from_outside(
    simple_app_dir: Path, page, request_log: RequestLog, tmp_path: Path
):
    with PublishedServer(["apps", ".", "--port", "0"], cwd=simple_app_dir) as server:
        page.goto(server.url)
        page.screenshot(path=tmp_path / "gallery.png")
        with page.context.expect_page() as opened:  # the gallery opens apps in a new tab
            page.get_by_text("app.ipynb").first.click()
        app = opened.value
        app.locator(".square").wait_for(timeout=60_000)
        app.screenshot(path=tmp_path / "gallery-app.png")
        assert "/voila/render/app.ipynb" in app.url
    assert not request_log.outside_loopback(), request_log.outside_loopback()
