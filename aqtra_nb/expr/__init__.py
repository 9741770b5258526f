"""The safe expression language: parsed with ``ast`` against a whitelist, evaluated as pandas operations.

Names are loaded on first use: `expr.python_ast` (the package's one `ast.parse` lock) imports no pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aqtra_nb.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
