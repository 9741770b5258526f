"""Charts in a notebook share one copy of plotly.js: three charts in one cell, saved with their widget
state, weigh about one plotly.js (1.2 MB), not three."""

from __future__ import annotations

import json

import nbformat

from aqtra_nb.chart_assets import PLOTLY_JS

CHARTS = """\
import pandas as pd
from aqtra_nb.ui import Chart
from IPython.display import display
frame = pd.DataFrame({"region": ["North", "South", "East"], "revenue": [10.0, 20.0, 15.0]})
for kind in ("bar", "line", "pie"):
    display(Chart(frame, kind=kind, x="region", y="revenue"))
"""


def test_the_saved_widget_state_holds_plotly_once(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CHARTS)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    path = tmp_path / "charts.ipynb"
    nbformat.write(nb, path)
    size = path.stat().st_size
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    text = json.dumps(states)
    marker = PLOTLY_JS.read_text(encoding="utf-8")[200:400]
    assert text.count(json.dumps(marker)[1:-1]) == 1  # one plotly.js for the three charts
    figures = [s for s in states.values() if "figure" in s["state"]]
    assert len(figures) == 3
    plotly_size = PLOTLY_JS.stat().st_size
    # before: every chart carried its own copy (3 charts: 3.6 MB); now one, plus a few KB per chart
    assert plotly_size < size < plotly_size + 200_000, size
