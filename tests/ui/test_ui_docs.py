"""docs/ui.md's Python blocks run as written, in order, in a fresh process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a fresh process: importing plotly (and through it jsonschema) takes seconds
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
        and "{'min_amount': \"Expects a number, got 'lots'.\"}" in out
    )
    assert "failed - field 'region': parameter 'region' must be one of" in out
    assert "{'title': 'Required.', 'amount': 'Input should be greater than 0.'}" in out
    assert "submitted {'title': 'Chairs', 'amount': 120.0, 'priority': 'low', 'due': None}" in out
    assert "Saved Ticket #" in out and "{'hours': 'Input should be greater than 0.'}" in out
    assert "field 'components.chart.step': flow 'sales' has no step 'by_regoin'" in out
    assert "Traceback" not in done.stderr


def test_our_javascript_loads_nothing_from_the_network():
    from aqtra_nb.ui import Chart, DataGrid

    static = ROOT / "aqtra_nb" / "ui" / "static"
    for path in static.iterdir():
        assert "http" not in path.read_text(), f"{path.name} refers to a URL"
    assert "import " not in str(DataGrid._esm)  # one self-contained module: no imports to fetch
    import pandas as pd
    import plotly

    chart = Chart(pd.DataFrame({"x": ["a"], "y": [1]}), x="x", y="y")
    bundle = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    assert str(chart.figure._esm) == bundle.read_text()  # the view's code ships in the plotly wheel
