"""Layout containers: `Page`, `Panel`, `Grid` (columns of equal width) and `Tabs`."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as w

from . import dom


def _widget(child: Any) -> w.Widget:
    """Components are widgets; an `App` stands for its view."""
    view = getattr(child, "view", None)
    return view if isinstance(view, w.Widget) and not isinstance(child, w.Widget) else child


def _titled(children: Sequence[Any], title: str, tag: str, css_class: str) -> list[w.Widget]:
    """The children as widgets, under a `<tag>` heading (DOM hook `css_class`) when there is a title."""
    items = [_widget(c) for c in children]
    if title:
        heading = dom.HTML(f"<{tag}>{html.escape(title)}</{tag}>", _dom_classes=(css_class,))
        items.insert(0, heading)
    return items


class Page(dom.VBox):
    """The whole app: an optional title over its children. DOM hook: `.aqtra-page`, title `.aqtra-page-title`."""

    def __init__(self, children: Sequence[Any] = (), *, title: str = "", **kwargs: Any) -> None:
        items = _titled(children, title, "h2", "aqtra-page-title")
        super().__init__(
            items, layout=w.Layout(padding="8px", grid_gap="8px"), **dom.with_classes(kwargs, "aqtra-page")
        )


class Panel(dom.VBox):
    """A titled, framed group. DOM hook: `.aqtra-panel`, title `.aqtra-panel-title`."""

    def __init__(self, children: Sequence[Any] = (), *, title: str = "", **kwargs: Any) -> None:
        items = _titled(children, title, "b", "aqtra-panel-title")
        layout = w.Layout(border="1px solid var(--jp-border-color2, #ddd)", padding="8px", margin="4px 0")
        super().__init__(items, layout=layout, **dom.with_classes(kwargs, "aqtra-panel"))


class Grid(dom.GridBox):
    """Children in `columns` equal columns, row after row. DOM hook: `.aqtra-layout-grid`."""

    def __init__(self, children: Sequence[Any] = (), *, columns: int = 2, **kwargs: Any) -> None:
        layout = w.Layout(grid_template_columns=f"repeat({max(columns, 1)}, minmax(0, 1fr))", grid_gap="8px")
        super().__init__(
            [_widget(c) for c in children], layout=layout, **dom.with_classes(kwargs, "aqtra-layout-grid")
        )


class Tabs(dom.Tab):
    """Children as tabs: `Tabs({"Table": grid, "Chart": chart})`. DOM hook: `.aqtra-tabs`."""

    def __init__(self, tabs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        tabs = dict(tabs or {})
        super().__init__(
            [_widget(c) for c in tabs.values()], titles=tuple(tabs), **dom.with_classes(kwargs, "aqtra-tabs")
        )
