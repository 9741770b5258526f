"""A page (a visitor's browser) may set only what a widget's view sets, with values the widget offers.

Messages are handed to the widget the way ipywidgets hands them over from the kernel's comm
(`Widget._handle_msg`); the last test sends one over a real kernel's shell channel.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from aqtra_nb.ui import DataGrid
from aqtra_nb.ui.chart import PlotlyFigure


def from_page(widget, **state) -> None:
    widget._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"region": pd.Series(["north", "south"] * 50, dtype="str"), "n": range(100)})


def test_a_grid_without_a_filter_box_refuses_a_filter_from_the_page(frame, caplog):
    grid = DataGrid(frame, show_filter=False)
    from_page(grid, filter="region == 'north'")
    assert grid.filter == "" and grid.total_rows == 100
    assert "refused 'filter' from the page: this grid offers no filter" in caplog.text
    grid.show_filter = True
    from_page(grid, filter="region == 'north'")
    assert grid.filter == "region == 'north'" and grid.total_rows == 50


def test_the_page_cannot_set_what_the_kernel_computes(frame):
    grid = DataGrid(frame, page_size=10)
    rows, columns = grid.rows, grid.columns
    from_page(grid, rows=[["x"]] * 5, columns=[], page_size=10**9, total_rows=1, title="pwned")
    assert grid.rows == rows and grid.columns == columns
    assert grid.page_size == 10 and grid.total_rows == 100 and grid.title == ""
    figure = PlotlyFigure(figure={"data": [], "layout": {}})
    from_page(figure, figure={"data": [{"type": "bar"}]})
    assert figure.figure == {"data": [], "layout": {}}


def test_values_from_the_page_are_checked(frame):
    grid = DataGrid(frame, page_size=10, selection_mode="single")
    from_page(grid, page=2, sort_by="n", sort_descending=True)
    assert grid.page == 2 and grid.sort_by == "n" and grid.row_ids[0] == 79
    from_page(grid, page=-1, sort_by="nope", sort_descending="yes")
    assert grid.page == 2 and grid.sort_by == "n" and grid.sort_descending is True
    from_page(grid, selection=[1, 2])  # single mode: one row
    assert grid.selection == []
    from_page(grid, selection=[10**9])
    assert grid.selection == []
    from_page(grid, selection=[4])
    assert grid.selection == [4]
    grid.show_filter = True
    from_page(grid, filter="n > 1" + " " * 20_000)
    assert grid.filter == ""


def test_an_expensive_filter_from_the_page_is_an_error_not_gigabytes(frame):
    grid = DataGrid(pd.concat([frame] * 1000, ignore_index=True))
    from_page(grid, filter="len(region * 20000) > 0")
    assert "would make text values of up to 100,000 characters" in grid.filter_error
    assert grid.total_rows == 100_000


@pytest.mark.slow
def test_a_filter_sent_over_a_real_kernel_is_refused():
    """The published-app attack as it arrives: a comm message on a kernel's shell channel."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        setup = textwrap.dedent(
            """
            import pandas as pd
            from aqtra_nb.ui import DataGrid
            frame = pd.DataFrame({"region": pd.Series(["north", "south"] * 50_000, dtype="str")})
            grid = DataGrid(frame, show_filter=False)
            print(grid.model_id)
            """
        )
        model_id = _output(client, setup)
        message = client.session.msg(
            "comm_msg",
            {
                "comm_id": model_id,
                "data": {"method": "update", "state": {"filter": "len(region * 20000) > 0"}},
            },
        )
        client.shell_channel.send(message)
        check = "print(repr(grid.filter), grid.total_rows)"
        assert _output(client, check) == "'' 100000"
        grid_with_box = "grid.show_filter = True"
        _output(client, grid_with_box)
        client.shell_channel.send(client.session.msg("comm_msg", message["content"]))
        reply = _output(client, "print(grid.filter_error)")
        assert "would make text values" in reply
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _output(client, code: str) -> str:
    reply = client.execute_interactive(code, timeout=60, output_hook=_collect(chunks := []))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(chunks).strip()


def _collect(chunks: list[str]):
    def hook(message):
        if message["msg_type"] == "stream":
            chunks.append(message["content"]["text"])

    return hook
