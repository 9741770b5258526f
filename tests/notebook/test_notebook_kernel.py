"""A notebook as a user runs it, on a real kernel: short errors (in Lab and in Voilà), `%%flow NAME`
without `%load_ext`, and a progress display whose saved text is the run's final state (#15)."""

from __future__ import annotations

import re

import pytest
from notebook_cells import html_of, text_of

pytestmark = pytest.mark.slow

SETUP = """import pandas as pd
pd.DataFrame({"region": ["North", "South"], "amount": [1250000.5, 20.25]}).to_csv("orders.csv", index=False)
from aqtra_nb import Flow
f = Flow("demo")
orders = f.read_csv("orders", path="orders.csv")
"""


def errors_of(cell) -> list:
    return [o for o in cell.outputs if o.output_type == "error"]


def test_an_aqtra_error_shows_its_message_and_folds_the_traceback(run_cells):
    def boom(df):
        raise ValueError("bad thing")

    cells = run_cells(
        [
            SETUP,
            "orders.filter('big', condition='amout > 1')\nf.run(record=False)",
            "def boom(df):\n    raise ValueError('bad thing')\n"
            "f = Flow('scripted')\nf.read_csv('orders', path='orders.csv').script('s', function=boom)\n"
            "f.run(record=False)",
            "print('still here')",
        ]
    )
    assert not errors_of(cells[0])
    mistake, failing = cells[1], cells[2]
    [error] = errors_of(mistake)
    assert error.ename == "UnknownColumn"
    shown = "\n".join(error.traceback)
    assert "step 'big'" in shown and "field 'condition'" in shown and "Did you mean 'amount'?" in shown
    assert len(shown) < 400 and "File " not in shown and "site-packages" not in shown
    details = html_of(mistake)
    assert "<details" in details and "Traceback" in details  # the traceback, one click away
    assert "interactiveshell.py" not in details and "&lt;module&gt;" in details  # from the cell on
    assert "HTML object" not in text_of(mistake)

    [error] = errors_of(failing)
    assert error.ename == "StepFailed" and "step 's'" in "\n".join(error.traceback)
    assert len("\n".join(error.traceback)) < 400
    assert re.search(r"<summary[^>]*>Caused by ValueError: bad thing</summary>", html_of(failing))
    assert "Caused by ValueError: bad thing" in text_of(failing)
    assert "still here" in text_of(cells[3])


def test_a_missing_file_names_the_step_and_path_not_dask(run_cells):
    cells = run_cells(
        [
            "from aqtra_nb import Flow\nf = Flow('demo')\nf.read_csv('orders', path='nowhere.csv')\n"
            "f.run(record=False)"
        ]
    )
    [error] = errors_of(cells[0])
    shown = "\n".join(error.traceback)
    assert "step 'orders'" in shown and "field 'path'" in shown and "nowhere.csv" in shown
    assert "not found" in shown
    assert "backend" not in shown and "Original Message" not in shown


def test_voila_shows_the_message_itself(run_cells, monkeypatch):
    """Voilà replaces error outputs by "There was an error..."; the page gets the message as HTML."""
    monkeypatch.setenv("VOILA_KERNEL_ID", "test-kernel")  # what Voilà sets in its kernels
    cells = run_cells(
        [SETUP, "orders.filter('big', condition='amout > 1')\nf.run(record=False)"],
        voila=True,
    )
    page = html_of(cells[1])
    assert 'class="aqtra-error-message"' in page and "step &#x27;big&#x27;" in page and "amout" in page
    assert "<details" in page and "HTML object" not in text_of(cells[1])
    assert not errors_of(cells[1])


def test_flow_magic_binds_the_flow_without_load_ext(run_cells):
    cells = run_cells(
        [
            SETUP,
            "%%flow sales --as res\nflow: sales\nsteps:\n"
            "  - {id: orders, component: read_csv, with: {path: orders.csv}}\n"
            "  - {id: big, component: filter, input: orders, with: {condition: 'amount > 100'}}\n",
            "print(type(sales).__name__, [s.id for s in sales.spec.steps], res.status, len(res['big']))",
        ]
    )
    assert not errors_of(cells[1]) and "error:" not in text_of(cells[1])
    assert "Flow ['orders', 'big'] succeeded 1" in text_of(cells[2])


def test_load_ext_still_works_after_import(run_cells):
    cells = run_cells(
        [
            "import aqtra_nb",
            "%load_ext aqtra_nb",
            "%%flow\nflow: x\nsteps: []\n",
            "deferred = get_ipython().display_formatter.formatters['text/html'].deferred_printers\n"
            "print(('aqtra_nb.store.job_models', 'Job') in deferred)",
        ]
    )
    assert all(not errors_of(cell) for cell in cells)
    assert text_of(cells[3]).strip() == "True"  # jobs, runs, ... get their displays on import


def test_saved_progress_shows_the_final_state(run_cells):
    cells = run_cells(
        [
            SETUP,
            "big = orders.filter('big', condition='amount > 100')\nresult = f.run(record=False)",
            "f.read_csv('gone', path='gone.csv')\nf.run(record=False)",
        ]
    )
    text = text_of(cells[1])
    assert re.search(r"demo: 2/2 steps in \d+\.\d\d s", text), text
    assert "0%" not in text and "0/2" not in text
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cells[1].outputs)


def test_running_a_builder_cell_again_replaces_its_step(run_cells):
    cells = run_cells(
        [
            SETUP,
            "big = orders.filter('big', condition='amount > 100')",
            SETUP.splitlines()[-1],  # the same cell again: the same step, kept
            "orders = f.read_csv('orders', path='orders.csv', columns=['amount'])",  # edited and run again
            "print([s.id for s in f.spec.steps], f.spec.step('orders').with_['columns'])\n"
            "print(len(f.run(record=False)['big']))",
        ]
    )
    assert all(not errors_of(cell) for cell in cells), [text_of(c) for c in cells]
    printed = [o.text for o in cells[4].outputs if o.output_type == "stream"]
    assert printed == ["['orders', 'big'] ['amount']\n", "1\n"]
