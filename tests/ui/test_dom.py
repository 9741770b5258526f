"""The UI's widgets send a `layout` or `style` model only once someone asks for one: each model is a
comm every visitor's page receives, and an empty one draws nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import ipywidgets as w
import pytest
from comm.base_comm import BaseComm

from aqtra_nb.datasets import write_sales
from aqtra_nb.ui import App, dom

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"


class RecordingComm(BaseComm):
    sent: list[tuple[str, dict]] = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.sent.append((msg_type, data or {}))


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict]]:
    RecordingComm.sent = []
    monkeypatch.setattr(w.widgets.widget.comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))
    return RecordingComm.sent


def opened(sent) -> list[str]:
    return [data["state"]["_model_name"] for kind, data in sent if kind == "comm_open"]


def updates(sent) -> list[dict]:
    return [data["state"] for kind, data in sent if kind == "comm_msg" and data.get("method") == "update"]


def test_a_widget_opens_without_layout_and_style_models(sent):
    label = dom.HTML("<b>hi</b>")
    plain = w.HTML("<b>hi</b>")
    assert opened(sent) == ["HTMLModel", "LayoutModel", "HTMLStyleModel", "HTMLModel"]
    mine, theirs = (data["state"] for kind, data in sent if data["state"]["_model_name"] == "HTMLModel")
    assert "layout" not in mine and "style" not in mine and "layout" in theirs
    assert {k: v for k, v in theirs.items() if k not in ("layout", "style")} == mine  # otherwise the same
    assert repr(label) == "HTML(value='<b>hi</b>')" == repr(plain)  # repr makes no models
    assert "layout" not in label._trait_values


def test_a_part_is_made_and_sent_when_read_or_assigned(sent):
    label = dom.HTML("x")
    box = dom.VBox([label])
    sent.clear()
    label.layout.width = "10em"  # reading makes it; the page gets the model, then the reference
    assert opened(sent) == ["LayoutModel"]
    assert updates(sent)[0] == {"layout": f"IPY_MODEL_{label.layout.model_id}"}
    assert updates(sent)[1] == {"width": "10em"}
    sent.clear()
    box.layout = w.Layout(border="1px solid red")
    assert updates(sent)[-1] == {"layout": f"IPY_MODEL_{box.layout.model_id}"}
    assert "layout" in box.get_state() and repr(box).endswith("layout=Layout(border_bottom='1px solid red', border_left='1px solid red', border_right='1px solid red', border_top='1px solid red'))")  # fmt: skip
    given = dom.Button(description="Go", layout=w.Layout(width="5em"))
    assert given.get_state()["layout"] == f"IPY_MODEL_{given.layout.model_id}"


def test_the_sales_dashboard_opens_about_half_the_models(sent, tmp_path):
    shutil.copy(NOTEBOOKS / "sales_dashboard.app.yaml", tmp_path)
    shutil.copytree(NOTEBOOKS / "flows", tmp_path / "flows")
    write_sales(tmp_path / "data", scale=0.001, seed=1, formats="parquet")
    app = App.from_yaml(tmp_path / "sales_dashboard.app.yaml")
    assert app.view is not None
    models = opened(sent)
    assert not [m for m in models if m.endswith("StyleModel")]
    assert models.count("LayoutModel") <= 15  # the layouts the UI sets: widths, borders, grids
    assert len(models) < 60  # 105 with a layout and a style of its own for every widget
