"""URL query parameters of a published app, checked against a flow's typed parameters.

Voilà hands the page's query string to the kernel as `QUERY_STRING`. A value that reaches a flow is
converted by the flow's own parameter types (`spec.params.convert_value`), so `?min_amount=abc` fails
with the same message as `aqtra-nb run -p min_amount=abc`, naming the URL parameter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from ..errors import ParameterError, did_you_mean
from ..spec.models import ParameterSpec
from ..spec.params import convert_value

# Query parameters that belong to Voilà or Jupyter Server, never to a flow.
RESERVED = frozenset({"token", "template", "theme", "voila-template", "voila-theme", "_xsrf"})


def awaiting_request() -> bool:
    """True in a pre-heated Voilà kernel that no visitor has taken yet (its request is not known)."""
    return os.environ.get("VOILA_PREHEAT") == "True" and "QUERY_STRING" not in os.environ


def wait_for_visitor() -> None:
    """In a pre-heated kernel, block until a visitor takes it; Voilà then sets `QUERY_STRING` & co."""
    if awaiting_request():
        from voila.utils import wait_for_request

        wait_for_request()
        os.environ.setdefault("QUERY_STRING", "")  # a failed channel: the visitor gets the defaults


def current_query() -> str:
    """The query string of the page this kernel renders ('' outside Voilà). In a pre-heated kernel this
    waits for the visitor (so a notebook reading it is not pre-heated by `aqtra-nb publish`)."""
    wait_for_visitor()
    return os.environ.get("QUERY_STRING", "")


def query_parameters(
    parameters: Mapping[str, ParameterSpec] | Any, query: str | None = None
) -> dict[str, Any]:
    """The flow parameters given in the URL, converted to their declared types.

    `parameters`: a flow's parameter specs, or anything with `.parameters` of them (a `FlowSpec`) or
    `.spec.parameters` (a `Flow`). Unknown names and bad values raise `ParameterError` naming the URL
    parameter; names Voilà uses itself (`token`, `template`, `theme`) are ignored.
    """
    specs = _specs(parameters)
    given = parse_qs(current_query() if query is None else query, keep_blank_values=True)
    values: dict[str, Any] = {}
    for name, raw in given.items():
        if name in RESERVED or name.startswith("voila"):
            continue
        if name not in specs:
            known = ", ".join(specs) or "none"
            raise ParameterError(
                f"unknown URL parameter {name!r}.{did_you_mean(name, specs)} This app's parameters are: {known}",
                field=name,
            )
        spec = specs[name]
        if len(raw) > 1 and spec.type != "list":
            raise ParameterError(
                f"URL parameter {name!r} is given {len(raw)} times; give it once", field=name
            )
        value: Any = raw if spec.type == "list" and len(raw) > 1 else raw[0]
        try:
            values[name] = convert_value(name, spec, value)
        except ParameterError as exc:
            raise ParameterError(f"URL {exc.message}", field=name) from None
    return values


def _specs(parameters: Any) -> Mapping[str, ParameterSpec]:
    for candidate in (parameters, getattr(parameters, "parameters", None)):
        if isinstance(candidate, Mapping):
            return candidate
    spec = getattr(parameters, "spec", None)
    if spec is not None and isinstance(getattr(spec, "parameters", None), Mapping):
        return spec.parameters
    raise TypeError(f"expected a flow, a flow spec or a mapping of parameter specs, got {type(parameters)}")
