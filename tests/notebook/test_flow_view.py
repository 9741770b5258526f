"""The live flow view (`Flow.view()`, what a notebook shows for a Flow): step states as a run goes, the
clicked step's first rows, and a static drawing beside the widget for outputs read without a kernel."""

from __future__ import annotations

import pytest

from aqtra_nb import Flow
from aqtra_nb.errors import AqtraError
from aqtra_nb.notebook.flow_view import FlowView

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))


def small_flow() -> Flow:
    f = Flow("small")
    orders = f.sample_data("orders", table="orders", scale=0.001)
    customers = f.sample_data("customers", table="customers", scale=0.001)
    joined = f.join("joined", orders, customers, on="customer_id")
    joined.filter("big", condition="amount > 100")
    return f


def test_the_view_follows_a_run_step_by_step():
    f = small_flow()
    view = f.view()
    assert isinstance(view, FlowView) and view.run["state"] == "idle" and view.steps == {}
    seen: list[dict] = []
    view.observe(lambda change: seen.append(change["new"]), names=["steps"])
    result = f.run(progress=False, record=False)
    states = [step.get("state") for snapshot in seen for step in [snapshot.get("joined", {})]]
    assert "pending" in states and "running" in states and states[-1] == "done"
    assert states.index("running") < states.index("done")
    assert view.run["state"] == "succeeded" and view.run["seconds"] > 0
    big = view.steps["big"]
    assert big["state"] == "done" and big["rows"] == len(result.outputs["big"]) and big["seconds"] >= 0
    # a view made after the run shows it too
    assert f.view().steps["big"]["rows"] == big["rows"]


def test_a_failed_step_shows_as_failed_with_its_message():
    def boom(df):
        if len(df):
            raise ValueError("no rows wanted here")
        return df

    f = Flow("broken")
    f.sample_data("orders", table="orders", scale=0.001).script("boom", function=boom)
    view = f.view()
    with pytest.raises(AqtraError):
        f.run(progress=False, record=False)
    assert view.run["state"] == "failed" and view.run["error"]
    assert view.steps["boom"]["state"] == "failed" and view.steps["boom"]["error"]
    assert view.steps["orders"]["state"] in ("done", "skipped")


def test_clicking_a_step_shows_its_first_rows_below():
    f = small_flow()
    f.run(progress=False, record=False)
    view = f.view(preview_rows=5)
    view.set_state({"selected": "joined"})  # what the page sends on a click
    assert view.preview["step"] == "joined" and not view.preview["loading"]
    assert len(view.preview["rows"]) == 5
    names = [c["name"] for c in view.preview["columns"]]
    assert "customer_id" in names and "amount" in names
    view.set_state({"selected": ""})
    assert view.preview == {}


def test_the_page_may_select_only_steps_of_the_flow():
    view = small_flow().view()
    view.set_state({"selected": "no_such_step"})
    assert view.selected == "" and view.preview == {}
    view.set_state({"graph": {}})
    assert view.graph["flow"] == "small"


def test_a_preview_that_fails_says_why():
    f = Flow("missing")
    f.read_csv("orders", path="no/such/file.csv")
    view = f.view()
    view.set_state({"selected": "orders"})
    assert view.preview["step"] == "orders" and view.preview["error"]
    assert "rows" not in view.preview


def test_a_notebook_keeps_the_widget_and_a_static_drawing(run_cells):
    cells = run_cells(
        [
            "from aqtra_nb import Flow\n"
            "f = Flow('nb')\n"
            "orders = f.sample_data('orders', table='orders', scale=0.001)\n"
            "big = orders.filter('big_orders_over_one_hundred', condition='amount > 100')",
            "f",
            "_ = f.run(progress=False, record=False)\nf.view()",
        ]
    )
    (shown,) = [o for o in cells[1].outputs if o.output_type in ("display_data", "execute_result")]
    assert WIDGET in shown.data
    svg = shown.data["image/svg+xml"]
    assert "big_orders_over_one_hundred" in svg and "<script" not in svg
    (after,) = [o for o in cells[2].outputs if o.output_type in ("display_data", "execute_result")]
    assert 'data-status="done"' in after.data["image/svg+xml"]


def test_the_flow_view_doc_example_runs_as_written(capsys):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "flows.md").read_text()
    section = text[text.index("### The flow view") : text.index("\n## Components")]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    exec(compile(block, "docs/flows.md", "exec"), {})
    expected = [line.split("# ", 1)[1] for line in block.splitlines() if line.startswith("# ")]
    expected += [re.search(r"# (\d+)$", block, flags=re.M).group(1)]
    assert capsys.readouterr().out.split("\n")[:2] == expected


def test_a_flow_that_was_shown_can_still_be_copied_and_pickled():
    import copy
    import pickle

    f = small_flow()
    f.view()
    f.run(progress=False, record=False)
    for twin in (copy.deepcopy(f), pickle.loads(pickle.dumps(f))):
        assert twin.spec == f.spec and twin.view().steps == {}
