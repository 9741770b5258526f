"""The safe expression language: parsed with ``ast`` against a whitelist, evaluated as pandas operations."""

from aqtra_nb.expr.functions import AGGREGATE_FUNCTIONS, FUNCTIONS, Function
from aqtra_nb.expr.parse import Aggregation, Expression, parse_aggregation, parse_expression

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "FUNCTIONS",
    "Aggregation",
    "Expression",
    "Function",
    "parse_aggregation",
    "parse_expression",
]
