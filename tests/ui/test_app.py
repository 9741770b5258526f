"""Apps: runs in the background, bound components update, errors become messages, runs are recorded."""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as w
import pandas as pd
import pytest

from aqtra_nb import Flow
from aqtra_nb.runs import default_store
from aqtra_nb.ui import App, Button, DataGrid, Form, Metric, Refresh, RunFlow

SALES = pd.DataFrame(
    {
        "region": ["North", "South", "North", "East", "South", "North"],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
    }
)
GATE = threading.Event()  # a test holds a run in its script step until the gate opens


def gated(df: pd.DataFrame, fail: object = False) -> pd.DataFrame:
    if len(df):  # planning calls this with an empty frame
        if not GATE.wait(10):
            raise TimeoutError("gate never opened")
        if fail is True or fail == "true":
            raise ValueError("boom: the source said no")
    return df


@pytest.fixture
def flow() -> Flow:
    GATE.set()
    f = Flow(
        "ui_sales",
        parameters={"min_amount": 0.0, "fail": False, "region": {"type": "string", "default": "All"}},
    )
    sales = f.from_frame("sales", SALES)
    checked = sales.script("checked", function=gated, params={"fail": "${fail}"})
    kept = checked.filter(
        "kept", condition="amount >= @min_amount and (@region == 'All' or region == @region)"
    )
    totals = kept.aggregate("totals", by=["region"], aggregations={"revenue": "sum(amount)", "n": "count()"})
    totals.sort("ranked", by=["revenue"], descending=True)
    kept.aggregate("kpis", aggregations={"revenue": "sum(amount)", "orders": "count()"})
    return f


def runs_of(name: str) -> list:
    return default_store().runs(name=name, limit=100)


def test_app_runs_in_the_background_and_updates_components(flow):
    before = len(runs_of("ui_sales"))
    app = App(flow, title="Sales", form=["min_amount", "region"])
    grid = app.grid("ranked")
    chart = app.chart("ranked", kind="bar", x="region", y="revenue")
    revenue = app.metric("Revenue", "revenue", step="kpis", format="{:,.0f}")
    orders = app.metric("Orders", "count()", step="kept")
    GATE.clear()
    app.run()
    assert app.runner.status == "running" and app.runner.busy  # returned at once; the run waits at the gate
    assert "aqtra-status-running" in app.status()._dom_classes
    GATE.set()
    app.wait(30)
    assert app.runner.status == "succeeded", app.runner.error
    assert grid.rows == [["North", "100.00", "3"], ["South", "70.00", "2"], ["East", "40.00", "1"]]
    assert chart.figure.data[0]["x"] == ["North", "South", "East"]
    assert chart.figure.data[0]["y"] == [100.0, 70.0, 40.0]
    assert revenue.text == "210" and orders.number == 6
    assert 'data-value="210.0"' in revenue.value
    status = app.status()
    assert "aqtra-status-succeeded" in status._dom_classes and "Updated" in status.message.value

    # the Run button: the form's values become the flow's parameters
    app.form.set_values({"min_amount": "25", "region": "North"})
    app.run_button().press()
    app.wait(30)
    assert grid.rows == [["North", "90.00", "2"]] and revenue.text == "90" and orders.number == 2
    runs = runs_of("ui_sales")
    assert len(runs) == before + 2 and {r.status for r in runs[:2]} == {"succeeded"}
    assert runs[0].parameters["min_amount"] == 25.0 and runs[0].parameters["region"] == "North"


def test_a_bad_form_value_shows_next_to_the_field_and_runs_nothing(flow):
    app = App(flow, form=["min_amount"])
    app.form.set_values({"min_amount": "plenty"})
    app.run_button().press()
    assert not app.runner.busy and app.runner.status == "idle"
    assert "Enter a number (not 'plenty')." in html.unescape(app.form.messages["min_amount"].value)
    assert "aqtra-error" in app.run_button().message.value


def test_a_failing_run_shows_its_message_not_a_traceback(flow):
    app = App(flow)
    grid = app.grid("ranked")
    app.run()
    app.wait(30)
    shown = grid.rows
    app.run(fail=True)
    app.wait(30)
    status = app.status()
    assert app.runner.status == "failed"
    text = html.unescape(status.message.value)
    assert "boom: the source said no" in text and "step 'checked'" in text
    assert "Traceback" not in text and "aqtra-error" in text
    assert "aqtra-status-failed" in status._dom_classes
    assert grid.rows == shown  # the last good result stays
    assert runs_of("ui_sales")[0].status == "failed"
    app.run()
    app.wait(30)
    assert app.runner.status == "succeeded" and app.runner.error == ""


def test_a_parameter_error_is_a_message(flow):
    app = App(flow, form=False)
    app.run(min_amount="lots")
    app.wait(30)
    assert app.runner.status == "failed"
    assert "parameter 'min_amount' expects a number, got 'lots'" in app.runner.error


def test_a_newer_request_supersedes_a_queued_one(flow):
    app = App(flow, form=False)
    metric = app.metric("Revenue", "revenue", step="kpis")
    GATE.clear()
    app.run(min_amount=0)  # held at the gate
    time.sleep(0.2)
    app.run(min_amount=15)  # queued ...
    app.run(min_amount=45)  # ... and replaced by this one
    GATE.set()
    app.wait(30)
    assert app.runner.runs == 2  # the first run and the last request; the middle one never ran
    assert metric.number == 110.0 and app.runner.parameters == {"min_amount": 45}


def test_live_form_reruns_on_change(flow):
    app = App(flow, form=["min_amount"], auto_run=True)
    metric = app.metric("Revenue", "revenue", step="kpis")
    app.start()
    app.wait(30)
    assert metric.number == 210.0
    app.form.set_values({"min_amount": "55"})
    app.wait(30)
    assert metric.number == 60.0


def test_set_parameters_checks_types_like_the_flow(flow):
    app = App(flow, form=["min_amount"])
    assert app.set_parameters({"min_amount": "12", "region": "South"}) == {
        "min_amount": 12.0,
        "region": "South",
    }
    assert app.form.inputs["min_amount"].value == "12.0"
    app.run()
    app.wait(30)
    assert app.runner.parameters == {"region": "South", "min_amount": 12.0}
    with pytest.raises(Exception, match="unknown parameter 'regoin'"):
        app.set_parameters({"regoin": "x"})


def test_unknown_step_is_an_error(flow):
    app = App(flow)
    with pytest.raises(Exception, match="no step 'totls'.*Did you mean 'totals'"):
        app.grid("totls")


def test_explicit_links_without_app(flow):
    from aqtra_nb.ui import FlowRunner

    runner = FlowRunner(flow, outputs=["kpis"], record=False)
    form = Form.from_parameters(flow, ["min_amount"])
    metric = Metric("Revenue", "revenue")
    runner.observe(lambda change: setattr(metric, "data", change["new"]["kpis"]), names="result")
    button = Button("Run", RunFlow(runner, form))
    form.set_values({"min_amount": 35})
    button.button.click()
    runner.wait(30)
    assert metric.number == 150.0
    assert "aqtra-run" in button.button._dom_classes


def test_refresh_reloads_components_from_their_source():
    source = {"frame": SALES.head(2)}
    grid = DataGrid(lambda: source["frame"])
    assert grid.total_rows == 2
    source["frame"] = SALES
    Button("Refresh", Refresh(grid)).press()
    assert grid.total_rows == 6


def test_default_layout_has_form_button_status_and_components(flow):
    app = App(flow, title="Sales")
    grid = app.grid("ranked")
    view = app.view
    assert "aqtra-app" in view._dom_classes and "aqtra-page" in view._dom_classes
    panel = view.children[1]
    assert (
        app.form in panel.children and app.run_button() in panel.children and app.status() in panel.children
    )
    assert view.children[-2] is grid
    assert type(view.children[-1]).__name__ == "Resync"  # hidden: re-sends state to a page that asks


def test_a_page_that_asks_gets_every_widgets_state_again_but_no_code(flow, monkeypatch):
    """A page that registered its widgets late (updates it dropped) asks once drawn; the kernel then
    re-sends each app widget's state (the chart's figure too), never anywidget code (plotly.js)."""
    from aqtra_nb.ui import Chart

    app = App(flow, title="Sales")
    grid = app.grid("ranked")
    chart = app.bind(Chart(kind="bar", x="region", y="revenue"), "ranked")
    view = app.view
    sent: dict[str, list] = {}
    original = w.Widget.send_state

    def spy(self, key=None):
        sent.setdefault(type(self).__name__, []).append(key)
        return original(self, key=key)

    monkeypatch.setattr(w.Widget, "send_state", spy)
    view.children[-1]._on_message(None, {"type": "resync"}, [])
    assert {"DataGrid", "RunStatusView", "Button", "Chart"} <= set(sent)
    assert all("_esm" not in keys and "_css" not in keys for keys in sent["DataGrid"])
    figure = type(chart.figure).__name__
    assert figure in sent and all("figure" in keys and "_esm" not in keys for keys in sent[figure])
    assert grid is not None
    sent.clear()
    view.children[-1]._on_message(None, {"type": "other"}, [])
    assert not sent


def test_resync_is_skipped_when_the_pages_snapshot_is_current(flow, monkeypatch):
    """The page sends back the send count it got with its snapshot: unchanged, and nothing was sent
    just before the snapshot, means nothing was dropped, so no second round of state."""
    from aqtra_nb.ui import resync

    app = App(flow, title="Sales")
    app.grid("ranked")
    view = app.view
    marker = view.children[-1]
    sent: list[str] = []
    original = w.Widget.send_state

    def spy(self, key=None):
        sent.append(type(self).__name__)
        return original(self, key=key)

    monkeypatch.setattr(w.Widget, "send_state", resync._counting(spy))
    monkeypatch.setattr(resync, "QUIET_SECONDS", 0.2)
    view.children[0].send_state()  # an update shortly before the snapshot: the count is not trusted
    assert marker.get_state()["revision"] == -1
    time.sleep(0.3)
    snapshot = marker.get_state()["revision"]
    assert snapshot >= 0
    sent.clear()
    marker._on_message(None, {"type": "resync", "revision": snapshot}, [])
    assert sent == []  # current: nothing re-sent
    view.children[0].send_state()  # an update after the snapshot, which the page may have dropped
    sent.clear()
    marker._on_message(None, {"type": "resync", "revision": snapshot}, [])
    assert "DataGrid" in sent
    sent.clear()
    marker._on_message(None, {"type": "resync", "revision": -1}, [])
    assert "DataGrid" in sent


def test_chart_kinds_build_plotly_traces_and_redraw_on_new_data():
    from aqtra_nb.ui import Chart

    frame = pd.DataFrame({"region": ["N", "S"], "revenue": [3.0, 5.0], "cost": [1.0, 2.0]})
    bar = Chart(frame, kind="bar", x="region", y="revenue", title="Revenue")
    assert bar.figure.data == [{"type": "bar", "x": ["N", "S"], "y": [3.0, 5.0], "name": "revenue"}]
    assert bar.figure.layout["title"] == {"text": "Revenue"} and not bar.figure.layout["showlegend"]
    assert "aqtra-chart" in bar._dom_classes and "aqtra-chart-bar" in bar._dom_classes
    bar.data = frame.assign(revenue=[7.0, 9.0])
    assert bar.figure.data[0]["y"] == [7.0, 9.0]
    bar.data = None
    assert bar.figure.data == []
    hbar = Chart(frame, kind="hbar", x="region", y=["revenue", "cost"])
    assert [(t["orientation"], t["y"], t["x"]) for t in hbar.figure.data] == [
        ("h", ["N", "S"], [3.0, 5.0]),
        ("h", ["N", "S"], [1.0, 2.0]),
    ]
    assert hbar.figure.layout["showlegend"]
    donut = Chart(frame, kind="donut", x="region", y="revenue")
    assert donut.figure.data[0]["hole"] == 0.5 and donut.figure.data[0]["labels"] == ["N", "S"]
    assert donut.figure.data[0]["values"] == [3.0, 5.0] and donut.figure.layout["showlegend"]
    assert Chart(frame, kind="pie", x="region", y="revenue").figure.data[0]["hole"] == 0.0
    line = Chart(frame, kind="line", x="region", y="revenue")
    assert line.figure.data[0]["mode"] == "lines+markers" and line.figure.data[0]["type"] == "scatter"
    scatter = Chart(frame, kind="scatter", x="cost", y="revenue")
    assert scatter.figure.data[0]["mode"] == "markers" and scatter.figure.data[0]["x"] == [1.0, 2.0]
    with pytest.raises(Exception, match="column 'revnue' is not in its data.*'revenue'"):
        Chart(frame, kind="bar", x="region", y="revnue")
    with pytest.raises(Exception, match="unknown chart kind 'bars'"):
        Chart(frame, kind="bars", x="region", y="revenue")


def test_chart_values_are_json_plotly_takes_nulls_for_missing_and_iso_times():
    """JSON has no NaN (one would break the widget's whole message): missing and non-finite values
    become null; times become ISO text; decimals and numpy scalars plain numbers."""
    import datetime as dt
    import decimal
    import json

    from aqtra_nb.ui import Chart

    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-01-01", None, "2026-01-03"]),
            "amount": [1.5, float("nan"), float("inf")],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "price": [decimal.Decimal("2.50"), None, decimal.Decimal("NaN")],
            "label": ["a", None, dt.date(2026, 1, 2)],
            "flag": [True, False, True],
            "n": [1, 2, 3],
        }
    )
    chart = Chart(frame, kind="line", x="day", y=["amount", "count", "price", "flag", "n"])
    traces = {t["name"]: t for t in chart.figure.data}
    assert traces["amount"]["x"] == ["2026-01-01T00:00:00", None, "2026-01-03T00:00:00"]
    assert traces["amount"]["y"] == [1.5, None, None]
    assert traces["count"]["y"] == [1.0, None, 3.0]
    assert traces["price"]["y"] == [2.5, None, None]
    assert traces["flag"]["y"] == [True, False, True] and traces["n"]["y"] == [1, 2, 3]
    labels = Chart(frame, kind="pie", x="label", y="n").figure.data[0]["labels"]
    assert labels == ["a", None, "2026-01-02"]
    json.dumps(chart.figure.figure, allow_nan=False)  # what the kernel's message packer demands


def test_start_workflow_button_runs_a_real_workflow(tmp_path):
    from aqtra_nb import workflows
    from aqtra_nb.entities import Entity
    from aqtra_nb.ui import StartWorkflow

    class UiRefund(Entity):
        amount: float
        status: str = "draft"

    path = tmp_path / "refund.workflow.yaml"
    path.write_text(
        "workflow: ui_refund\nentity: UiRefund\nparameters:\n  limit: {type: number, default: 100}\n"
        "steps:\n  - id: check\n    kind: if\n    condition: amount > @limit\n    then: big\n    else: small\n"
        "  - id: big\n    kind: update_record\n    set: {status: review}\n    next: done\n"
        "  - id: small\n    kind: update_record\n    set: {status: paid}\n"
        "  - id: done\n    kind: finish\n"
    )
    refund = UiRefund.create(amount=150.0)
    form = Form.from_parameters({"limit": {"type": "number", "default": 100}})
    button = Button("Start", StartWorkflow(path, form, record=lambda: f"UiRefund:{refund.id}"))
    assert "aqtra-start-workflow" in button.button._dom_classes
    form.set_values({"limit": "x"})
    assert button.press() is None and "Some fields need attention" in button.message.value
    form.set_values({"limit": "200"})
    assert button.press() == "Workflow ui_refund started (succeeded)."
    assert UiRefund.get(refund.id).status == "paid"
    assert workflows.instances(name="ui_refund")[0].status == "succeeded"
    button.button.click()  # the page's click: the workflow starts in a thread
    button.wait(30)
    assert "Workflow ui_refund started (succeeded)." in button.message.value
    assert len(workflows.instances(name="ui_refund")) == 2


def test_a_click_on_a_background_action_leaves_the_kernel_free():
    """A click on a long action (starting a workflow) returns at once: the kernel goes on answering the
    page; the button is disabled and says it works, a second click is ignored, errors are messages."""
    from aqtra_nb.errors import AqtraError

    gate, threads = threading.Event(), []

    class Slow:
        css_class, background = "aqtra-slow", True

        def __call__(self) -> str:
            threads.append(threading.current_thread())
            assert gate.wait(10)
            return "done"

    button = Button("Go", Slow())
    button.button.click()  # what a click in the page does
    assert button.busy and button.button.disabled and "aqtra-pending" in button.message.value
    button.button.click()
    gate.set()
    button.wait(10)
    assert not button.busy and not button.button.disabled
    assert '<span class="aqtra-ok">done</span>' == button.message.value
    assert len(threads) == 1 and threads[0] is not threading.current_thread()

    class Failing:
        css_class, background = "aqtra-failing", True

        def __call__(self) -> str:
            raise AqtraError("workflow 'nope' not found")

    failing = Button("Go", Failing())
    failing.button.click()
    failing.wait(10)
    assert "workflow &#x27;nope&#x27; not found" in failing.message.value and not failing.button.disabled


def test_grid_filters_use_the_parameters_of_the_run_shown(flow):
    app = App(flow, form=["min_amount"])
    everything = app.grid("checked", filters=["amount >= @min_amount * 2"])  # a step before the filter
    app.run(min_amount=20)
    app.wait(30)
    assert everything.params["min_amount"] == 20.0
    assert everything.total_rows == 3 and everything.source_rows == 6  # 40, 50, 60 of 10..60
    app.run(min_amount=8)  # amount >= 16: all but 10
    app.wait(30)
    assert everything.total_rows == 5


def test_a_component_that_cannot_show_the_result_is_a_message(flow):
    app = App(flow)
    app.chart("ranked", kind="bar", x="region", y="profit")  # no such column in the step's output
    grid = app.grid("ranked")
    app.run()
    app.wait(30)
    assert app.runner.status == "failed"
    assert "column 'profit' is not in its data" in app.runner.error and "Traceback" not in app.runner.error
    assert grid.total_rows == 3  # the other components still show the run
