"""`aqtra-nb publish APP --export html`: the rendered app as one static file that needs no server, no
scripts and no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_helpers import SIMPLE_APP, write_notebook

from aqtra_nb.cli import main

pytestmark = pytest.mark.slow

KPI = "from IPython.display import HTML\nHTML('<div class=\"kpi\">Revenue 1,234</div>')"


def test_export_writes_a_static_snapshot_of_the_rendered_widgets(tmp_path: Path, page, capsys):
    write_notebook(tmp_path / "app" / "report.ipynb", SIMPLE_APP, KPI)
    output = tmp_path / "out" / "report.html"
    assert (
        main(["publish", str(tmp_path / "app" / "report.ipynb"), "--export", "html", "-o", str(output)]) == 0
    )
    assert f"wrote {output}" in capsys.readouterr().out
    html = output.read_text()
    assert "<script" not in html and "import ipywidgets" not in html and "token=" not in html
    assert "Revenue 1,234" in html

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.context.set_offline(True)
    page.goto(output.as_uri())
    page.screenshot(path=tmp_path / "snapshot.png", full_page=True)
    # The widgets were drawn by the browser from the kernel's state; the snapshot keeps what it drew.
    assert page.locator(".square").inner_text() == "9"
    assert page.locator(".widget-slider").count() == 1
    assert page.locator("text=APP-RENDERED").count() == 1
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_export_default_name_is_next_to_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    written = []
    monkeypatch.setattr(
        "aqtra_nb.publish.export.export_html", lambda app, output, **kw: written.append(output)
    )
    write_notebook(tmp_path / "kpi.ipynb", KPI)
    (tmp_path / "sales.app.yaml").write_text("app: sales\n")
    assert main(["publish", str(tmp_path / "kpi.ipynb"), "--export", "html"]) == 0
    assert main(["publish", str(tmp_path / "sales.app.yaml"), "--export", "html"]) == 0
    assert written == [tmp_path / "kpi.html", tmp_path / "sales.html"]
