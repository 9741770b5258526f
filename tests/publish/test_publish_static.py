"""The charts' front end (plotly.js and the view) is served once, as a cacheable file, instead of inside
every chart's widget state: the published sales dashboard draws its chart from it in real Chromium, the widget state sent to
the page stays small, and the file is served only to signed-in users and only under its hashed name."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import requests
from publish_helpers import WAIT, RequestLog, chart_bars, copy_dashboard, wait_for_first_run

from aqtra_nb import chart_assets as static
from aqtra_nb.publish.process import PublishedServer
from aqtra_nb.publish.visitor import CONFIG, page_assets

MB = 1_000_000


def test_published_kernels_chart_carries_a_loader_named_after_the_module_hash(monkeypatch):
    import hashlib

    from aqtra_nb.ui import Chart

    frame = pd.DataFrame({"region": ["North", "South"], "revenue": [1.0, 2.0]})
    monkeypatch.delenv(static.PUBLISHED_ENV, raising=False)
    inline = Chart(frame, x="region", y="revenue").figure
    assert len(inline._esm) < 10_000 and static.PLOTLY_JS.read_text(encoding="utf-8") in inline.library._esm

    monkeypatch.setenv(static.PUBLISHED_ENV, "1")
    esm = Chart(frame, x="region", y="revenue").figure._esm
    digest = hashlib.sha256(static.chart_module().encode()).hexdigest()[:16]
    assert len(esm) < 2_000
    assert f'"aqtra/static/chart.{digest}.js"' in esm
    assert "export default chart.default" in esm and "jupyter-config-data" in esm


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_dashboard(tmp_path_factory.mktemp("static"))


@pytest.fixture(scope="module")
def server(app_dir: Path):
    with PublishedServer(["publish", "sales_dashboard.app.yaml", "--port", "0"], cwd=app_dir) as running:
        running.wait_for_output("is filled")  # the pre-heated kernel (its environment is built apart)
        yield running


def bundle_url(server: PublishedServer, name: str | None = None) -> str:
    return f"{server.base}/aqtra/static/{name or static.chart_module_name()}"


@pytest.mark.slow
def test_dashboard_chart_loads_its_module_from_the_server_with_small_widget_state(
    server: PublishedServer, app_dir: Path, page, request_log: RequestLog
):
    frames: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
    bundles: list[int] = []
    page.on("response", lambda r: bundles.append(r.status) if "/aqtra/static/" in r.url else None)

    page.goto(server.url, timeout=WAIT)  # the printed URL: ?token= signs the browser in (a cookie)
    wait_for_first_run(page)
    page.locator(".aqtra-chart .js-plotly-plot").wait_for(timeout=WAIT)
    page.wait_for_function(
        "() => { const gd = document.querySelector('.aqtra-chart .js-plotly-plot');"
        " return gd && gd.data && gd.data.length > 0 }",
        timeout=WAIT,
    )

    orders = pd.read_parquet(app_dir / "data" / "orders.parquet")
    orders = orders[orders["amount"] >= 0]  # the flow's default filter
    net = (orders["amount"] * (1 - orders["discount"].fillna(0))).round(2)
    expected = net.groupby(orders["region"]).sum()
    bars = chart_bars(page)
    assert set(bars) == set(expected.index)
    for region, value in expected.items():
        assert bars[region] == pytest.approx(value)

    # The page preloads the module; the chart's import() reuses it (one request, signed in by the cookie).
    preload = page.locator("link[rel=modulepreload]").get_attribute("href")
    assert preload and preload.endswith("/" + static.chart_url_path())
    assert bundles == [200]
    assert frames and max(frames) < 1 * MB, sorted(frames)[-3:]
    assert not request_log.outside_loopback(), request_log.outside_loopback()


@pytest.mark.slow
def test_bundle_is_served_to_signed_in_users_with_long_caching(server: PublishedServer):
    auth = {"Authorization": f"token {server.token}"}
    response = requests.get(bundle_url(server), headers=auth, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Content-Encoding"] == "gzip"  # requests asks for it; .content is decoded
    assert response.content == static.chart_module().encode()


@pytest.mark.slow
def test_bundle_is_refused_without_the_token(server: PublishedServer):
    response = requests.get(bundle_url(server), allow_redirects=False, timeout=60)
    assert response.status_code == 403 or (
        response.status_code == 302 and "/login" in response.headers.get("Location", "")
    ), response.status_code
    assert len(response.content) < 10_000


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "chart.0000000000000000.js",
        "plotly-basic.min.js",
        "chart.js",
        "..%2Fserver.py",
        "..%2F..%2Fui%2Fstatic%2Fchart.js",
    ],
)
def test_only_the_allow_listed_files_are_served(server: PublishedServer, name: str):
    auth = {"Authorization": f"token {server.token}"}
    response = requests.get(bundle_url(server, name), headers=auth, allow_redirects=False, timeout=60)
    assert response.status_code == 404


def test_a_published_page_s_scripts_come_gzipped_and_whole(server: PublishedServer):
    """Voilà's static files come from memory (publish/static_files.py): gzipped for a client that takes
    it, the same bytes as without: the page's own scripts and the extensions' modules its config names."""
    page = requests.get(server.url, timeout=60)
    config = json.loads(CONFIG.search(page.text).group(1))
    extensions = [
        f"{server.base}/voila/labextensions/{extension['name']}/{extension['load']}"
        for extension in config["federated_extensions"]
    ]
    assets = [url for url in page_assets(page.text, page.url) if "/voila/" in url] + extensions
    assert any("/voila/static/" in url for url in assets) and any(
        "/voila/templates/" in url for url in assets
    )
    assert any("jupyterlab-manager" in url for url in extensions), extensions
    session = requests.Session()
    session.cookies.update(page.cookies)
    for url in assets:
        zipped = session.get(url, timeout=60)  # requests accepts gzip and unpacks it
        plain = session.get(url, headers={"Accept-Encoding": "identity"}, timeout=60)
        assert zipped.status_code == plain.status_code == 200, url
        assert zipped.content == plain.content and "Content-Encoding" not in plain.headers, url
        assert zipped.headers["Content-Encoding"] == "gzip", url
