"""Parse and check a component's expression fields, with errors located at the step and field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import AqtraError, ParameterError, did_you_mean
from ..expr import Aggregation, Expression, parse_aggregation, parse_expression
from ..expr.types import check_aggregation, check_types
from .base import Columns, StepContext


def _check(ctx: StepContext, parsed: Expression | Aggregation, columns: Columns, field: str) -> None:
    for name in sorted(parsed.parameters):
        if name not in ctx.parameters:
            raise ParameterError(
                f"@{name} is not a flow parameter.{did_you_mean(name, ctx.parameters)} "
                f"Declare it under `parameters:`.",
                file=ctx.source,
                step=ctx.step_id,
                field=field,
            )
    expr = parsed if isinstance(parsed, Expression) else parsed.argument
    if expr is not None:
        try:
            if not all(name in columns for name in expr.columns):  # a pandas Index is not copied
                expr.check_columns([str(c) for c in columns])
        except AqtraError as exc:
            exc.at(file=ctx.source, step=ctx.step_id, field=field)
            raise


def _parsed(ctx: StepContext, parse: Any, text: str, columns: Columns, field: str) -> Any:
    try:
        parsed = parse(text)
    except AqtraError as exc:
        exc.at(file=ctx.source, step=ctx.step_id, field=field)
        raise
    _check(ctx, parsed, columns, field)
    return parsed


def expression(
    ctx: StepContext, text: str, columns: Columns, field: str, dtypes: Mapping[str, Any] | None = None
) -> Expression:
    """A row expression checked against the input's columns and the flow's parameters, and with `dtypes`
    (column → dtype) its comparisons, arithmetic and function arguments against the columns' types."""
    parsed = _parsed(ctx, parse_expression, text, columns, field)
    if dtypes is not None:
        try:
            check_types(parsed.node, dtypes, ctx.parameters, parsed.source)
        except AqtraError as exc:
            exc.at(file=ctx.source, step=ctx.step_id, field=field)
            raise
    return parsed


def column_types(frame: Any) -> dict[str, Any] | None:
    """Column name → dtype of a pandas or Dask frame (for `expression(..., dtypes=)`); None for a pandas
    frame with rows: data at run time, whose types were checked when the flow was planned on empty
    frames of the same schema (checking them again cost a 200-step chain about 15 % of its run)."""
    if isinstance(frame, pd.DataFrame) and len(frame):
        return None
    return dict(zip(map(str, frame.columns), frame.dtypes, strict=True))


def aggregation(
    ctx: StepContext, text: str, columns: Columns, field: str, dtypes: Mapping[str, Any] | None = None
) -> Aggregation:
    """An aggregation (`sum(expr)`, `count()`, ...) checked likewise; with `dtypes`, its argument's types
    too, and its argument's kind against what the aggregate takes (`mean(region)` on text fails)."""
    parsed = _parsed(ctx, parse_aggregation, text, columns, field)
    if dtypes is not None:
        try:
            check_aggregation(parsed, dtypes, ctx.parameters)
        except AqtraError as exc:
            exc.at(file=ctx.source, step=ctx.step_id, field=field)
            raise
    return parsed
