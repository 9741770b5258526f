"""Row-wise model transformations: select, derive, filter, cast, fill_missing, explode, unpivot.

Each runs per partition (pandas code inside `partitionwise`), so it needs no shuffle and the same code
infers the schema on empty frames during planning.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype
from pydantic import Field, model_validator

from ..column_kinds import TEMPORAL, DeclaredKind, dtype_of, to_datetime
from ..expr import Expression
from ..expr.dtypes import static_dtype
from .base import Columns, Component, F, Params, column_dtypes, partitionwise
from .expressions import column_types, expression


class SelectParams(Params):
    columns: list[str] | dict[str, str] | None = Field(
        None, description="Columns to keep, in order; a mapping keeps and renames (old: new)."
    )
    rename: dict[str, str] = Field(
        default_factory=dict, description="Rename columns (old: new), keep the rest."
    )
    drop: list[str] = Field(default_factory=list, description="Columns to remove.")


class Select(Component[SelectParams]):
    """Keep, reorder, rename or drop columns."""

    name = "select"
    pure_schema = True

    def _plan(self, columns: list[str], *, check: bool = False) -> tuple[list[str], dict[str, str]]:
        p = self.params
        if isinstance(p.columns, dict):
            keep, rename = list(p.columns), dict(p.columns)
        else:
            keep, rename = list(p.columns or columns), {}
        if check:
            self.ctx.require_columns(columns, keep, field="columns")
            self.ctx.require_columns(columns, p.drop, field="drop")
            self.ctx.require_columns(keep, list(p.rename), field="rename")
        keep = [c for c in keep if c not in set(p.drop)]
        return keep, {**rename, **p.rename}

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        # Names are checked when planning: at run time the reader has already left dropped columns out.
        self._plan([str(c) for c in inputs[0].columns], check=True)
        return self.transform(inputs)

    def transform(self, inputs: list[F]) -> F:
        keep, rename = self._plan([str(c) for c in inputs[0].columns])
        out = inputs[0][keep]
        return out.rename(columns=rename) if rename else out

    def required_columns(self, needed, inputs):
        keep, _ = self._plan([str(c) for c in inputs[0].columns])
        return [set(keep)]


class DeriveParams(Params):
    columns: dict[str, str] = Field(
        description="New or replaced columns: name → expression. Later ones may use earlier ones."
    )


class Derive(Component[DeriveParams]):
    """Add or overwrite columns computed from expressions (the platform's Transform Model formulas)."""

    name = "derive"
    pure_schema = True

    def _expressions(
        self, columns: Columns, dtypes: dict[str, Any] | None = None
    ) -> list[tuple[str, Expression]]:
        """Each expression checked against the input's columns (a list or an Index, not copied) and the
        columns made before it; with the input's `dtypes`, against their types too (a column made or
        replaced by an earlier expression is of a type not known here: not checked)."""
        available: Columns = columns
        added: list[str] = []
        parsed: list[tuple[str, Expression]] = []
        for name, text in self.params.columns.items():
            if added:
                available, added = [*map(str, available), *added], []
            parsed.append((name, expression(self.ctx, text, available, f"columns.{name}", dtypes)))
            if name not in available:
                added.append(name)
            if dtypes is not None:
                dtypes.pop(name, None)
        return parsed

    def transform(self, inputs: list[F]) -> F:
        parsed = self._expressions(inputs[0].columns, column_types(inputs[0]))
        return partitionwise(self.ctx, inputs[0], _derive, parsed, self.ctx.parameters)

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        """Numeric arithmetic gets its dtype from `expr.dtypes` (no pandas run); anything else runs the
        step on the empty input, as every component does."""
        frame = inputs[0]
        if len(frame) or not frame.columns.is_unique:
            return self.transform(inputs)
        parsed = self._expressions(frame.columns, column_types(frame))
        before = dict(zip(frame.columns.tolist(), column_dtypes(frame), strict=True))
        dtypes = dict(before)
        for name, expr in parsed:
            dtype = static_dtype(expr.node, dtypes, self.ctx.parameters)
            if dtype is None:
                return self.transform(inputs)
            dtypes[name] = dtype
        if dtypes == before:
            return frame  # columns replaced by values of the same dtype: the schema is the input's (frames
            # that are schemas are never changed in place; the memo shares them too)
        output = frame.copy(deep=False)
        for name, _ in parsed:
            output[name] = np.empty(0, dtype=dtypes[name])
        return output

    def required_columns(self, needed, inputs):
        parsed = self._expressions(inputs[0].columns)
        if needed is None:
            return [None]
        made = {name for name, _ in parsed}
        required = set(needed) - made
        for _, expr in parsed:
            required |= set(expr.columns)
        return [required]


def _derive(frame: pd.DataFrame, parsed: list, params: dict[str, Any]) -> pd.DataFrame:
    frame = frame.copy(deep=False)
    for name, expr in parsed:
        frame[name] = expr.evaluate(frame, params)
    return frame


class FilterParams(Params):
    condition: str = Field(description="Keep rows where this expression is true, e.g. `amount >= @min`.")


class Filter(Component[FilterParams]):
    """Keep the rows for which a condition holds (nulls count as false)."""

    name = "filter"
    pure_schema = True

    def condition(self, columns: Columns, dtypes: dict[str, Any] | None = None) -> Expression:
        return expression(self.ctx, self.params.condition, columns, "condition", dtypes)

    def transform(self, inputs: list[F]) -> F:
        expr = self.condition(inputs[0].columns, column_types(inputs[0]))
        return partitionwise(self.ctx, inputs[0], _filter, expr, self.ctx.parameters)

    def required_columns(self, needed, inputs):
        expr = self.condition(inputs[0].columns)
        return [None if needed is None else set(needed) | set(expr.columns)]


def _filter(frame: pd.DataFrame, expr, params: dict[str, Any]) -> pd.DataFrame:
    mask = expr.evaluate(frame, params)
    if not isinstance(mask, pd.Series):
        return frame if bool(mask) else frame.iloc[:0]
    if mask.dtype != bool:
        mask = mask.fillna(False).astype(bool)
    if mask.all():  # common after a filter pushed into the reader: no copy of every row
        return frame
    return frame[mask]


class CastParams(Params):
    types: dict[str, DeclaredKind] = Field(
        description="Column → type (string, integer, number, boolean, date, datetime, datetimetz)."
    )
    errors: Literal["raise", "null"] = Field(
        "raise", description="On a value that does not convert: fail or null."
    )


class Cast(Component[CastParams]):
    """Convert columns to other types; bad values fail the step or become null."""

    name = "cast"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        self.ctx.require_columns(inputs[0].columns, list(self.params.types), field="types")
        return partitionwise(self.ctx, inputs[0], _cast, self.params.types, self.params.errors)

    def required_columns(self, needed, inputs):
        return [None if needed is None else set(needed) | set(self.params.types)]


def _cast(frame: pd.DataFrame, types: dict[str, str], errors: str) -> pd.DataFrame:
    frame = frame.copy(deep=False)
    coerce: Literal["coerce", "raise"] = "coerce" if errors == "null" else "raise"
    for column, kind in types.items():
        values = frame[column]
        if kind in ("integer", "number"):
            numbers = pd.to_numeric(values, errors=coerce)
            if kind == "integer":
                numbers = numbers.mask(_bad(values, numbers.notna() & (numbers % 1 != 0), kind, errors))
            frame[column] = numbers.astype(pandas_dtype(dtype_of(kind)))
        elif kind in TEMPORAL:
            frame[column] = to_datetime(values, kind, errors=coerce)
        elif kind == "boolean":
            frame[column] = _to_bool(values, errors)
        else:
            frame[column] = values.astype("str").where(values.notna())
    return frame


def _to_bool(values: pd.Series, errors: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values):
        mapped = values.where(values.isin([0, 1])).astype("boolean")
    else:
        text = values.astype("str").str.strip().str.lower()
        words = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
        mapped = text.map(words.get).astype("boolean")
    _bad(values, mapped.isna() & values.notna(), "boolean", errors)
    return mapped


def _bad(values: pd.Series, bad: pd.Series, kind: str, errors: str) -> pd.Series:
    """Rows whose value does not convert (`bad`); an error unless `errors` is null."""
    if errors == "raise" and bool(bad.any()):
        raise ValueError(f"cannot convert {values[bad].iloc[0]!r} to {kind}")
    return bad


class FillMissingParams(Params):
    values: dict[str, Any] = Field(
        default_factory=dict, description="Column → value to put in place of nulls."
    )
    value: Any = Field(None, description="One value for all `columns` (or every column when none are named).")
    columns: list[str] = Field(default_factory=list, description="Columns that `value` fills.")

    @model_validator(mode="after")
    def _something_to_fill(self) -> FillMissingParams:
        if not self.values and self.value is None:
            raise ValueError("give `values` (column: value) or `value`")
        return self


class FillMissing(Component[FillMissingParams]):
    """Replace nulls with constants."""

    name = "fill_missing"
    pure_schema = True

    def _mapping(self, columns: list[str]) -> dict[str, Any]:
        p = self.params
        self.ctx.require_columns(columns, list(p.values), field="values")
        self.ctx.require_columns(columns, p.columns, field="columns")
        mapping = dict(p.values)
        if p.value is not None:
            for column in p.columns or columns:
                mapping.setdefault(column, p.value)
        return mapping

    def transform(self, inputs: list[F]) -> F:
        mapping = self._mapping([str(c) for c in inputs[0].columns])
        return partitionwise(self.ctx, inputs[0], _fill, mapping)


def _fill(frame: pd.DataFrame, mapping: dict[str, Any]) -> pd.DataFrame:
    return frame.fillna(mapping)


class ExplodeParams(Params):
    column: str = Field(description="A list column, or a text column to split with `separator`.")
    separator: str | None = Field(None, description="Split text on this first (e.g. ',').")


class Explode(Component[ExplodeParams]):
    """One row per element of a collection column (extract collections)."""

    name = "explode"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        self.ctx.require_columns(inputs[0].columns, [self.params.column], field="column")
        return partitionwise(self.ctx, inputs[0], _explode, self.params.column, self.params.separator)

    def required_columns(self, needed, inputs):
        return [None if needed is None else set(needed) | {self.params.column}]


def _explode(frame: pd.DataFrame, column: str, separator: str | None) -> pd.DataFrame:
    if separator is not None:
        frame = frame.assign(**{column: frame[column].str.split(separator)})
    out = frame.explode(column, ignore_index=False)
    if separator is not None:
        out[column] = out[column].astype("str").str.strip().where(out[column].notna())
    return out


class UnpivotParams(Params):
    id_columns: list[str] = Field(description="Columns kept on every row.")
    value_columns: list[str] | None = Field(
        None, description="Columns turned into rows (default: all others)."
    )
    variable_name: str = Field("variable", description="Name of the column holding the former column names.")
    value_name: str = Field("value", description="Name of the column holding the values.")


class Unpivot(Component[UnpivotParams]):
    """Turn columns into rows (wide → long)."""

    name = "unpivot"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        p = self.params
        columns = [str(c) for c in inputs[0].columns]
        self.ctx.require_columns(columns, p.id_columns, field="id_columns")
        self.ctx.require_columns(columns, p.value_columns or [], field="value_columns")
        values = p.value_columns or [c for c in columns if c not in p.id_columns]
        return partitionwise(self.ctx, inputs[0], _melt, p.id_columns, values, p.variable_name, p.value_name)

    def required_columns(self, needed, inputs):
        p = self.params
        if p.value_columns is None:
            return [None]
        return [set(p.id_columns) | set(p.value_columns)]


def _melt(frame: pd.DataFrame, ids: list[str], values: list[str], var: str, value: str) -> pd.DataFrame:
    return frame.melt(id_vars=ids, value_vars=values, var_name=var, value_name=value)


ROW_TRANSFORMS = [Select, Derive, Filter, Cast, FillMissing, Explode, Unpivot]
