"""How the UI's widgets reach the page: CSS classes given when a widget is made, and `layout`/`style`
models made only when someone asks for them.

Every widget model is a comm opened from the kernel, relayed by the server and built by the page, for
every visitor of a published app. A widget's comm opens with its state as its constructor left it, so
every `add_class` afterwards is one more update message (the sales dashboard sent 47 of them before it
was shown). And ipywidgets gives every widget a `Layout` model and most a `Style` model of their own,
empty unless someone sets a property on them: 63 of that dashboard's 105 models.

The classes here are ipywidgets' own (same model names, same front end) with `PartsWhenAsked`: an
unasked `layout` or `style` is not sent to the page, which ipywidgets' front end draws as no layout or
style at all (what an empty one means), and the model is made and sent when first read
(`widget.layout.width = "10em"` works as it does on any widget).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from traitlets import All, default, observe


def with_classes(kwargs: dict[str, Any], *names: str) -> dict[str, Any]:
    """`kwargs` for a widget's constructor with `names` added to the classes it already names."""
    given = tuple(kwargs.get("_dom_classes", ()))
    return {**kwargs, "_dom_classes": given + tuple(name for name in names if name not in given)}


_PARTS = ("layout", "style")


class PartsWhenAsked(w.DOMWidget):
    """Mixin (before the ipywidgets class in the bases): `layout` and `style` made when first read.

    An unmade part is left out of the synced `keys` (as ipywidgets' `add_traits` adds a key later), so
    nothing that walks them (the state sent to the page, `repr`) makes it; once made or assigned it
    joins them and is sent."""

    @default("keys")
    def _keys_without_unmade_parts(self) -> list[str]:
        return [name for name in self.traits(sync=True) if name not in _PARTS or name in self._trait_values]

    @observe(*_PARTS, type=All)  # type: ignore[arg-type]  # traitlets: made ("default") or set ("change")
    def _part_made(self, change: Any) -> None:
        if change["name"] not in self.keys:
            self.keys.append(change["name"])
            self.send_state(change["name"])


class HTML(PartsWhenAsked, w.HTML):
    pass


class Button(PartsWhenAsked, w.Button):
    pass


class Text(PartsWhenAsked, w.Text):
    pass


class Dropdown(PartsWhenAsked, w.Dropdown):
    pass


class Checkbox(PartsWhenAsked, w.Checkbox):
    pass


class DatePicker(PartsWhenAsked, w.DatePicker):
    pass


class FloatProgress(PartsWhenAsked, w.FloatProgress):
    pass


class HBox(PartsWhenAsked, w.HBox):
    pass


class VBox(PartsWhenAsked, w.VBox):
    pass


class GridBox(PartsWhenAsked, w.GridBox):
    pass


class Tab(PartsWhenAsked, w.Tab):
    pass
