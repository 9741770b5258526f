"""docs/ui.md's Python blocks run as written, in order, in a fresh process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a fresh process: pandas, Dask and the run store's imports take seconds
def test_ui_doc_examples_run(tmp_path):
    text = (ROOT / "docs" / "ui.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        "succeeded 4,531,295 10,000 10000" in out
        and "{'min_amount': \"Enter a number (not 'lots').\"}" in out
    )
    assert "failed - field 'region': parameter 'region' must be one of" in out
    assert "{'title': 'Required.', 'amount': 'Must be more than 0.'}" in out
    assert "submitted {'title': 'Chairs', 'amount': 120.0, 'priority': 'low', 'due': None}" in out
    assert "Saved Ticket #" in out and "{'hours': 'Must be more than 0.'}" in out
    assert "field 'components.chart.step': flow 'sales' has no step 'by_regoin'" in out
    assert "Traceback" not in done.stderr


def test_our_javascript_loads_nothing_from_the_network():
    import pandas as pd

    from aqtra_nb import chart_assets as chart_static
    from aqtra_nb.ui import Chart, DataGrid

    static = ROOT / "aqtra_nb" / "ui" / "static"
    for path in static.iterdir():
        if path.name.startswith("plotly-basic."):
            continue  # plotly.js itself: its URLs are checked below
        assert "http" not in path.read_text(), f"{path.name} refers to a URL"
    assert "import " not in str(DataGrid._esm)  # one self-contained module: no imports to fetch
    chart = Chart(pd.DataFrame({"x": ["a"], "y": [1]}), x="x", y="y")
    # plotly.js comes with the kernel's one library widget (nothing to fetch), the chart has its view only
    library = str(chart.figure.library._esm)
    assert chart_static.PLOTLY_JS.read_text(encoding="utf-8") in library
    assert "plotly.js (basic - minified) v" in library and len(str(chart.figure._esm)) < 10_000
    for module in (library, str(chart.figure._esm)):
        assert not re.search(r"\bimport\s*\(|\bimport\s+[\w{*]", module)
    # plotly.js's own URLs: XML namespaces, links in messages and licences, the topojson CDN (geo
    # traces, not in the basic bundle) and "send to cloud" (a mode-bar button that is off by default).
    urls = set(re.findall(r"https?://[\w.-]+(?:/[\w./-]*)?", (static / "plotly-basic.min.js").read_text()))
    hosts = {re.sub(r"https?://([^/]+).*", r"\1", url) for url in urls}
    assert hosts <= {
        "www.w3.org",
        "plotly.com",
        "github.com",
        "cdn.plot.ly",
        "cloud.plotly.com",
        "syntheti.cc",
        "getify.mit-license.org",
    }, hosts
