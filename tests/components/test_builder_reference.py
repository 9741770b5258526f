"""Builder methods carry their component's parameters (signature, docstring, completion) and
`aqtra_nb.components` shows a searchable catalogue, offline (#15)."""

from __future__ import annotations

import inspect

import pandas as pd

import aqtra_nb.components
from aqtra_nb import Flow
from aqtra_nb.components import catalogue


def test_builder_methods_have_the_components_parameters():
    f = Flow("demo")
    orders = f.from_frame("orders", pd.DataFrame({"amount": [1.0]}))
    filter_ = inspect.signature(orders.filter)
    assert list(filter_.parameters) == ["step_id", "condition"]
    assert filter_.parameters["condition"].kind is inspect.Parameter.KEYWORD_ONLY
    assert filter_.parameters["condition"].default is inspect.Parameter.empty
    join = inspect.signature(f.join).parameters
    assert join["inputs"].kind is inspect.Parameter.VAR_POSITIONAL and join["how"].default == "inner"
    csv = inspect.signature(f.read_csv).parameters
    assert "inputs" not in csv and csv["separator"].default == "," and "path" in csv
    assert orders.filter.__name__ == "filter"
    doc = orders.filter.__doc__
    assert doc.startswith("Keep the rows for which a condition holds")
    assert "condition : str, required" in doc and "amount >= @min" in doc


def test_the_builder_still_takes_what_it_took():
    f = Flow("demo")
    frame = pd.DataFrame({"region": ["N"], "amount": [5.0]})
    orders = f.from_frame("orders", frame)
    other = f.from_frame("other", frame=frame, name="second")
    f.join("joined", orders, other, on="region").filter("big", condition="amount > 1")
    assert set(f.objects) == {"orders", "second"}
    assert len(f.run(record=False, progress=False)["big"]) == 1


def test_ipython_completes_and_describes_parameters():
    from IPython.core.completer import provisionalcompleter
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns["f"] = f = Flow("demo")
    shell.user_ns["orders"] = f.from_frame("orders", pd.DataFrame({"amount": [1.0]}))
    code = "orders.filter('big', cond"
    with provisionalcompleter():
        completions = [c.text for c in shell.Completer.completions(code, len(code))]
    assert "condition=" in completions
    assert "condition: str" in shell.object_inspect_text("orders.filter")


def test_the_catalogue_is_a_searchable_table_without_network():
    from IPython.core.formatters import HTMLFormatter

    html = HTMLFormatter()(aqtra_nb.components)  # `aqtra_nb.components` as a cell's last line
    assert html is not None and 'type="search"' in html and "oninput" in html
    assert "<code>read_csv</code>" in html and "<code>condition</code>" in html
    assert "src=" not in html and "<link" not in html and "<script" not in html  # nothing fetched
    joins = catalogue("join")
    assert "join" in [c.name for c in joins] and "read_csv" not in [c.name for c in joins]
    assert "join" in repr(joins) and "<code>join</code>" in joins._repr_html_()
    assert repr(catalogue("no such thing")) == "no component matches 'no such thing'"
