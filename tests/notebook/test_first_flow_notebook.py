"""The first tutorial as a reader sees it after running it: cells run again, a short mistake, the
progress at its end, `%%flow NAME` (#15)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from notebook_cells import CELL_TIMEOUT, html_of, text_of

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-first-flow.ipynb"


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cwd = tmp_path_factory.mktemp("first-flow")
    NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()  # stops at any error but the mistake tagged `raises-exception`
    return {cell.source: cell for cell in nb.cells if cell.cell_type == "code"}


def cell(cells, start: str):
    [found] = [c for source, c in cells.items() if source.startswith(start)]
    return found


def test_running_builder_cells_again(cells):
    assert "['orders', 'big', 'totals', 'report']" in text_of(
        cell(cells, 'orders = f.read_csv("orders", path="data/orders.csv")\n[')
    )
    changed = text_of(cell(cells, 'big = orders.filter("big", condition="amount >= @min_amount and'))
    assert "{'condition': 'amount >= @min_amount and quantity >= 1'}" in changed


def test_the_mistake_is_one_paragraph_with_the_traceback_folded(cells):
    mistake = cell(cells, "typo = Flow.load")
    [error] = [o for o in mistake.outputs if o.output_type == "error"]
    shown = "\n".join(error.traceback)
    assert "step 'by_region', field 'by'" in shown and "Did you mean 'region'?" in shown
    assert len(shown) < 600
    assert "<details" in html_of(mistake)


def test_runs_end_with_their_final_state_and_readable_numbers(cells):
    run = cell(cells, "result = flow.run()")
    assert re.search(r"sales_report: 4/4 steps in \d+\.\d\d s", text_of(run))
    assert "0%" not in text_of(run)
    assert re.search(r"\d{3},\d{3}\.\d\d", text_of(cell(cells, 'result.show("totals")')))


def test_flow_magic_binds_the_flow(cells):
    shown = text_of(cell(cells, "# `%%flow revenue_vs_target"))
    assert "['orders', 'big', 'totals', 'goals', 'joined', 'compared']" in shown


def test_the_live_view_follows_a_run_and_previews_a_clicked_step(cells):
    view = cell(cells, "view = flow.view()")
    bundle = view.outputs[0].data
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/svg+xml" in bundle
    preview = text_of(cell(cells, 'view.selected = "totals"'))
    assert re.search(r"region\s+revenue\s+n\n", preview)  # the columns of the clicked step
    assert len(re.findall(r"\n\d+\s+\S+\s+[\d,]+\.\d\d\s+[\d,]+", preview)) == 3  # its first rows
