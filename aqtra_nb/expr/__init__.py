"""The safe expression language: parsed with ``ast`` against a whitelist, evaluated as pandas operations.

Names are loaded on first use: `expr.python_ast` (the package's one `ast.parse` lock) imports no pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aqtra_nb.expr.functions import AGGREGATE_FUNCTIONS, FUNCTIONS, Function
    from aqtra_nb.expr.parse import Aggregation, Expression, parse_aggregation, parse_expression

_EXPORTS = {
    "AGGREGATE_FUNCTIONS": "functions",
    "FUNCTIONS": "functions",
    "Function": "functions",
    "Aggregation": "parse",
    "Expression": "parse",
    "parse_aggregation": "parse",
    "parse_expression": "parse",
}

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "FUNCTIONS",
    "Aggregation",
    "Expression",
    "Function",
    "parse_aggregation",
    "parse_expression",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aqtra_nb.expr' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
