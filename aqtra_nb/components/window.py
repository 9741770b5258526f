"""Window functions within groups: running totals, ranks, lag/lead, rolling means."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from pydantic import Field

from ..expr.types import WINDOW_TAKES, either, kind_of_dtype
from .base import INPUT_ORDER, Component, F, Params, is_dask, number_rows, partitionwise
from .expressions import column_types

CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*(.*?)\s*\)\s*$")

# name → (needs a column, takes a count, pandas implementation on a grouped column)
WINDOW_FUNCTIONS = {
    "cumsum": (True, False),
    "cummax": (True, False),
    "cummin": (True, False),
    "cumcount": (False, False),
    "row_number": (False, False),
    "rank": (True, False),
    "dense_rank": (True, False),
    "lag": (True, True),
    "lead": (True, True),
    "rolling_mean": (True, True),
    "rolling_sum": (True, True),
}


class WindowParams(Params):
    partition_by: list[str] = Field(default_factory=list, description="Groups the window restarts in.")
    order_by: list[str] = Field(default_factory=list, description="Row order within a group.")
    descending: bool = Field(False, description="Order descending.")
    columns: dict[str, str] = Field(
        description="Output column → window function: cumsum(x), cummax(x), cummin(x), cumcount(), row_number(), "
        "rank(x), dense_rank(x), lag(x, n), lead(x, n), rolling_mean(x, n), rolling_sum(x, n)."
    )


class Window(Component[WindowParams]):
    """Cumulative sums, ranks, lag/lead and rolling means within groups, in a given order."""

    name = "window"
    pure_schema = True

    def _calls(
        self, columns: list[str], dtypes: dict[str, Any] | None = None
    ) -> dict[str, tuple[str, str | None, int]]:
        p = self.params
        self.ctx.require_columns(columns, p.partition_by, field="partition_by")
        self.ctx.require_columns(columns, p.order_by, field="order_by")
        calls = {}
        for out, text in p.columns.items():
            field = f"columns.{out}"
            match = CALL.match(text)
            if not match or match.group(1) not in WINDOW_FUNCTIONS:
                known = ", ".join(WINDOW_FUNCTIONS)
                raise self.ctx.error(
                    f"{text!r} is not a window function call; use one of: {known}", field=field
                )
            name, args = (
                match.group(1),
                [a.strip().strip("`") for a in match.group(2).split(",") if a.strip()],
            )
            needs_column, takes_count = WINDOW_FUNCTIONS[name]
            expected = int(needs_column) + int(takes_count)
            if len(args) != expected and not (
                takes_count and len(args) == expected - 1 and name in ("lag", "lead")
            ):
                raise self.ctx.error(f"{name} takes {expected} argument(s), got {len(args)}", field=field)
            column = args[0] if needs_column else None
            if column is not None:
                self.ctx.require_columns(columns, [column], field=field)
                kind = kind_of_dtype(dtypes[column]) if dtypes and column in dtypes else None
                wanted = WINDOW_TAKES.get(name, ())
                if kind is not None and wanted and kind not in wanted:
                    raise self.ctx.error(
                        f"{name}() takes {either(wanted)}, not column {column!r} ({kind})", field=field
                    )
            count = 1
            if takes_count and len(args) == expected:
                try:
                    count = int(args[-1])
                except ValueError:
                    raise self.ctx.error(
                        f"the count in {text!r} must be a whole number", field=field
                    ) from None
            calls[out] = (name, column, count)
        return calls

    def transform(self, inputs: list[F]) -> F:
        p = self.params
        frame = inputs[0]
        calls = self._calls([str(c) for c in frame.columns], column_types(frame))
        if is_dask(frame) and p.partition_by:
            frame = number_rows(frame).shuffle(on=p.partition_by)
        elif is_dask(frame):
            frame = frame.repartition(npartitions=1)
        return partitionwise(self.ctx, frame, _window, p.partition_by, p.order_by, p.descending, calls)

    def required_columns(self, needed, inputs):
        p = self.params
        calls = self._calls([str(c) for c in inputs[0].columns])
        if needed is None:
            return [None]
        used = {column for _, column, _ in calls.values() if column}
        return [(set(needed) - set(calls)) | set(p.partition_by) | set(p.order_by) | used]


def _window(
    frame: pd.DataFrame, by: list[str], order: list[str], descending: bool, calls: dict
) -> pd.DataFrame:
    # Ties keep the input's order, also after a shuffle (INPUT_ORDER).
    tie = [INPUT_ORDER] if INPUT_ORDER in frame.columns else []
    if order or by or tie:
        frame = frame.sort_values(
            by=[*by, *order, *tie],
            ascending=[True] * len(by) + [not descending] * len(order) + [True] * len(tie),
            kind="stable",
        )
    frame = frame.drop(columns=tie)
    keys = [frame[c] for c in by] if by else [pd.Series(0, index=frame.index)]
    for out, (name, column, count) in calls.items():
        grouped = frame.groupby(keys, sort=False, dropna=False)
        if name in ("cumcount", "row_number"):
            frame[out] = grouped.cumcount() + (1 if name == "row_number" else 0)
            continue
        values = grouped[column]
        if name in ("cumsum", "cummax", "cummin"):
            frame[out] = getattr(values, name)()
        elif name in ("rank", "dense_rank"):
            method = "min" if name == "rank" else "dense"
            frame[out] = values.rank(method=method, ascending=not descending).astype("Int64")
        elif name == "lag":
            frame[out] = values.shift(count)
        elif name == "lead":
            frame[out] = values.shift(-count)
        else:
            rolled = values.rolling(count, min_periods=1)
            result = rolled.mean() if name == "rolling_mean" else rolled.sum()
            frame[out] = result.reset_index(level=list(range(result.index.nlevels - 1)), drop=True)
    return frame


class ScriptParams(Params):
    function: str = Field(
        description="Dotted path `package.module:function` (or `package.module.function`), or the name of a "
        "function passed from Python (given directly to the builder, or by name with `run(frames={name: fn})`). "
        "Signature: `def step(df, **params) -> df`."
    )
    params: dict = Field(default_factory=dict, description="Keyword arguments for the function.")
    pure: bool = Field(
        False,
        description="The function's output depends only on its input and params (no files, clock, random "
        "numbers or services): its output may then be cached, keyed by the function's code.",
    )


class Script(Component[ScriptParams]):
    """Run a Python function on each partition: the escape hatch for logic no other component has."""

    name = "script"
    group = "script"

    def _function(self):
        import importlib

        target = self.params.function
        if target in self.ctx.objects and callable(self.ctx.objects[target]):
            return self.ctx.objects[target]
        module_name, sep, attr = target.partition(":")
        if not sep:
            module_name, _, attr = target.rpartition(".")
        if not module_name or not attr:
            raise self.ctx.error(
                f"{target!r} is neither a function passed to the run nor a dotted path `module:function`",
                field="function",
            )
        try:
            function = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise self.ctx.error(f"cannot import {target!r}: {exc}", field="function") from None
        if not callable(function):
            raise self.ctx.error(f"{target!r} is not callable", field="function")
        return function

    def cache_version(self) -> Any:
        """The function's code, when it is declared pure; else None (not cached)."""
        return code_of(self._function()) if self.params.pure else None

    def transform(self, inputs: list[F]) -> F:
        return partitionwise(self.ctx, inputs[0], _call_script, self._function(), self.params.params)


def code_of(function: Any) -> str:
    """The source of a script function (or, without one, its compiled code): what lineage records and
    what a pure script's cached output is keyed by."""
    import inspect

    target = getattr(function, "__wrapped__", function)
    try:
        return inspect.getsource(target)
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is None:
            return repr(target)
        return f"{code.co_code.hex()} {code.co_consts!r} {code.co_names!r}"


def _call_script(frame: pd.DataFrame, function, params: dict) -> pd.DataFrame:
    # A shallow copy (free under copy-on-write): a function that adds columns in place must not change
    # its input, which is another step's output (and, while planning, its schema).
    result = function(frame.copy(deep=False), **params)
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"the script function must return a pandas DataFrame, got {type(result).__name__}")
    return result


WINDOW_AND_SCRIPT = [Window, Script]
