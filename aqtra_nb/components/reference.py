"""What components there are and how to call them from Python: the builder methods' signatures and
docstrings (so Shift+Tab and Tab completion list a component's parameters), and `Catalogue`, the
searchable table a notebook shows for `aqtra_nb.components`."""

from __future__ import annotations

import functools
import html
import inspect
import re
from collections.abc import Iterable
from typing import Any

from .base import Component
from .registry import registry

P = inspect.Parameter


def type_name(annotation: object) -> str:
    """`list[str]`, `Literal['inner', 'left']`, `float`: a parameter's type as a reader writes it."""
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return re.sub(r"\b(?:[a-z_][a-z0-9_]*\.)+(?=[A-Z])", "", str(annotation).replace("typing.", ""))


def parameters(component: type[Component]) -> list[tuple[str, str, Any, str]]:
    """(name, type, default or P.empty when required, description) of each parameter."""
    found = []
    for name, field in component.Params.model_fields.items():
        default = P.empty if field.is_required() else field.get_default(call_default_factory=True)
        found.append((name, type_name(field.annotation), default, field.description or ""))
    return found


@functools.cache
def builder_signature(component: type[Component], on_step: bool) -> inspect.Signature:
    """`(step_id, *inputs, *, condition: str)`: the builder method `Flow.<name>` (or `StepRef.<name>`,
    whose step is the first input) with the component's parameters as keyword arguments."""
    arguments = [P("step_id", P.POSITIONAL_OR_KEYWORD, annotation=str)]
    frame_input = component.name == "from_frame" and not on_step
    if frame_input:
        arguments.append(P("frame", P.POSITIONAL_OR_KEYWORD, default=None, annotation="DataFrame | None"))
    more = component.max_inputs is None or component.max_inputs > (1 if on_step else 0)
    if more:
        arguments.append(P("others" if on_step else "inputs", P.VAR_POSITIONAL, annotation="StepRef | str"))
    for name, field in component.Params.model_fields.items():
        default = P.empty if field.is_required() else field.get_default(call_default_factory=True)
        if frame_input and name == "name":
            default = None  # the step id
        arguments.append(P(name, P.KEYWORD_ONLY, default=default, annotation=field.annotation))
    return inspect.Signature(arguments, return_annotation="StepRef")


@functools.cache
def builder_doc(component: type[Component]) -> str:
    """The component's description and its parameters, numpydoc style (what Lab's tooltip shows)."""
    lines = [(component.__doc__ or component.name).strip(), "", "Parameters", "----------"]
    lines += ["step_id : str", "    Id of the new step, unique in the flow."]
    for name, kind, default, description in parameters(component):
        shown = "required" if default is P.empty else f"default {default!r}"
        lines += [f"{name} : {kind}, {shown}", f"    {description}" if description else "    "]
    lines += ["", "Returns", "-------", "StepRef", "    The new step, to chain the next one from."]
    return "\n".join(lines)


class Catalogue:
    """The components (of the registry, or those matching a search), shown as a table you can filter.

    >>> from aqtra_nb.components import catalogue
    >>> catalogue("join")  # doctest: +SKIP
    """

    def __init__(self, components: Iterable[type[Component]] | None = None, query: str = "") -> None:
        self.components = list(registry if components is None else components)
        self.query = query

    def search(self, text: str) -> Catalogue:
        """Components whose name, description or a parameter mentions `text`."""
        words = text.lower().split()

        def matches(component: type[Component]) -> bool:
            haystack = " ".join(
                [component.name, component.group, component.__doc__ or ""]
                + [f"{n} {d}" for n, _, _, d in parameters(component)]
            ).lower()
            return all(word in haystack for word in words)

        return Catalogue([c for c in self.components if matches(c)], text)

    __call__ = search

    def __len__(self) -> int:
        return len(self.components)

    def __iter__(self):
        return iter(self.components)

    def __repr__(self) -> str:
        width = max((len(c.name) for c in self.components), default=0)
        lines = [f"{c.name:<{width}}  {c.group:<9}  {c.summary()}" for c in self.components]
        return "\n".join(lines) or f"no component matches {self.query!r}"

    def _repr_html_(self) -> str:
        rows = "".join(_row(component) for component in self.components)
        # A search box filtering the rows in the page itself: inline and offline (nothing loaded).
        search = (
            '<input type="search" placeholder="Search components and parameters" '
            f'value="{html.escape(self.query)}" style="width:20em;margin-bottom:0.5em" '
            'oninput="var q=this.value.toLowerCase().split(/\\s+/);'
            "this.parentNode.querySelectorAll('tbody tr').forEach(function(r){"
            "var t=r.textContent.toLowerCase();"
            "r.style.display=q.every(function(w){return t.indexOf(w)>=0})?'':'none'})\">"
        )
        return (
            f'<div class="aqtra-components">{search}'
            '<table><thead><tr><th style="text-align:left">component</th><th style="text-align:left">group'
            '</th><th style="text-align:left">what it does</th><th style="text-align:left">parameters</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )


def _row(component: type[Component]) -> str:
    params = "<br>".join(
        f"<code>{html.escape(name)}</code>: <code>{html.escape(kind)}</code>"
        + ("" if default is P.empty else f" = <code>{html.escape(repr(default))}</code>")
        + (f" — {html.escape(description)}" if description else "")
        for name, kind, default, description in parameters(component)
    )
    cell = 'style="text-align:left;vertical-align:top"'
    return (
        f"<tr><td {cell}><code>{html.escape(component.name)}</code></td><td {cell}>{component.group}</td>"
        f"<td {cell}>{html.escape(component.summary())}</td><td {cell}>{params}</td></tr>"
    )


def catalogue(text: str = "") -> Catalogue:
    """All components, or those matching `text` (`catalogue("join")`)."""
    return Catalogue().search(text) if text else Catalogue()
