"""A job run's HTML copy needs no internet: no script or stylesheet from a CDN (require.js, MathJax,
mermaid, the widgets' HTML manager); widgets show their static fallback (a flow view its SVG)."""

from __future__ import annotations

import base64
import re

import nbformat
import pytest

from aqtra_nb.jobs import execute_notebook

FLOW_CELL = """\
from aqtra_nb import Flow
f = Flow("offline")
orders = f.sample_data("orders", table="orders", scale=0.001)
orders.filter("big_orders", condition="amount > 100")
f
"""


def remote_resources(page: str) -> list[str]:
    """http(s) addresses the page would fetch: script/link/img sources, CSS imports, dynamic imports."""
    tags = re.findall(
        r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)\s*=\s*[\"']?(https?:[^\"'\s>]+)", page
    )
    code = re.findall(r"(?:import\s*\(|@import\s+(?:url\()?|\.src\s*=)\s*[\"'](https?:[^\"']+)", page)
    # a URL held in a script's string may be loaded by it (the widgets' embed script built its own)
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S)
    in_scripts = [u for s in scripts for u in re.findall(r"[\"'](https?://[^\"']+)[\"']", s)]
    return tags + code + in_scripts


@pytest.mark.slow
def test_a_job_run_s_html_loads_nothing_from_the_internet(notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    path = notebook("offline.ipynb", "n = 1", FLOW_CELL)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(
        nbformat.v4.new_markdown_cell("Revenue $r = \\\\sum_i a_i$\n\n```mermaid\ngraph LR; A-->B\n```")
    )
    nbformat.write(nb, path)
    outcome = execute_notebook(path, {}, output_path=tmp_path / "out" / "offline.ipynb")
    assert outcome.ok, outcome.error
    page = outcome.html_path.read_text()
    assert remote_resources(page) == []
    assert "cdnjs" not in page and "unpkg" not in page and "jsdelivr" not in page
    # the flow view's static drawing (nbconvert shows SVG outputs as images of data: URLs)
    drawings = re.findall(r'<img[^>]*src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert any(b"big_orders" in base64.b64decode(d) for d in drawings)
    assert "application/vnd.jupyter.widget-view+json" not in page
