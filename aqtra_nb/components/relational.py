"""Model transformations across rows or inputs: join, lookup, aggregate, sort, limit, distinct, union, pivot."""

from __future__ import annotations

from typing import Any, Literal

import dask.dataframe as dd
import pandas as pd
from pydantic import Field, model_validator

from ..errors import AqtraError
from ..expr import AGGREGATE_FUNCTIONS
from ..expr.types import BOOLEAN, NUMBER, kind_of_dtype
from . import group_keys, key_join
from .base import Component, F, Frame, Params, StepContext, is_dask, partitionwise
from .expressions import aggregation, column_types

Keys = str | list[str]


def _keys(value: Keys | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class KeyParams(Params):
    """Key columns of a two-input step: `on`, or `left_on` with `right_on`."""

    on: Keys | None = Field(None, description="Key column(s) present on both sides.")
    left_on: Keys | None = Field(None, description="Key column(s) of the first input.")
    right_on: Keys | None = Field(None, description="Key column(s) of the second input.")

    @model_validator(mode="after")
    def _keys_given(self) -> KeyParams:
        if self.on is None and (self.left_on is None or self.right_on is None):
            raise ValueError("give `on`, or both `left_on` and `right_on`")
        if self.on is None and len(_keys(self.left_on)) != len(_keys(self.right_on)):
            raise ValueError("`left_on` and `right_on` must name the same number of columns")
        return self


def _broadcast_field() -> Any:
    return Field(
        True,
        description="In partitioned runs, join an input the planner estimates small whole to every partition "
        "of the other, shuffling neither (`plan.explain()` shows the choice); false: always shuffle both.",
    )


class JoinParams(KeyParams):
    how: Literal["inner", "left", "right", "outer", "semi", "anti"] = Field(
        "inner",
        description="Join type. `semi` keeps the rows of the first input that have a match in the second "
        "(SQL's EXISTS), `anti` those that have none (NOT EXISTS): each row once, with the first input's "
        "columns only.",
    )
    suffixes: tuple[str, str] = Field(("", "_right"), description="Added to clashing non-key column names.")
    broadcast: bool = _broadcast_field()


def _join_keys(
    component: Component[Any], params: KeyParams, left: Frame, right: Frame
) -> tuple[list[str], list[str]]:
    left_keys = _keys(params.on) or _keys(params.left_on)
    right_keys = _keys(params.on) or _keys(params.right_on)
    left_field = "on" if params.on is not None else "left_on"
    right_field = "on" if params.on is not None else "right_on"
    component.ctx.require_columns(left.columns, left_keys, field=left_field)
    component.ctx.require_columns(right.columns, right_keys, field=right_field)
    for left_key, right_key in zip(left_keys, right_keys, strict=False):
        kinds = kind_of_dtype(left[left_key].dtype), kind_of_dtype(right[right_key].dtype)
        if None not in kinds and kinds[0] != kinds[1] and set(kinds) != {NUMBER, BOOLEAN}:
            raise component.ctx.error(
                f"key column '{left_key}' ({kinds[0]}) cannot be matched with '{right_key}' ({kinds[1]}) of the "
                "second input; join keys must be of one kind (convert one with a derive step first)",
                field=right_field,
            )
    return left_keys, right_keys


class Broadcasting:
    """What the planner sets on a two-input step that partitioned runs may run as a broadcast join."""

    ctx: StepContext
    #: The input (0 first, 1 second) that partitioned runs join whole to every partition of the other,
    #: chosen by the planner from estimated sizes (`plan._choose_broadcasts`); None: both are shuffled.
    broadcast: int | None = None
    #: The most bytes that input may take at run time (an estimate wrong by far fails the step, clearly,
    #: instead of filling memory).
    broadcast_bytes: float = float("inf")

    def broadcastable(self) -> tuple[int, ...]:
        """The inputs that may be broadcast (as the step's parameters allow)."""
        raise NotImplementedError

    def _whole(self, frame: dd.DataFrame, side: int) -> dd.DataFrame:
        """The broadcast input as one partition, checked against `broadcast_bytes`."""
        check = _Bounded(self.broadcast_bytes, ("first", "second")[side])
        return _whole(frame).map_partitions(self.ctx.guard(check), meta=frame._meta)


class Join(Broadcasting, Component[JoinParams]):
    """Join two inputs on key columns (inner, left, right, outer; semi/anti: rows with/without a match).

    `semi` and `anti` filter the first input by the second (SQL's EXISTS and NOT EXISTS): each row once,
    its own columns only; keys match as in the other join types."""

    name = "join"
    pure_schema = True
    min_inputs = max_inputs = 2

    def broadcastable(self) -> tuple[int, ...]:
        """The inputs that may be broadcast for this join type: never the side whose unmatched rows are
        kept (each partition of the other side would keep them again); none with `broadcast: false`."""
        if not self.params.broadcast:
            return ()
        return {"inner": (1, 0), "left": (1,), "right": (0,), "outer": (), "semi": (1, 0), "anti": (1, 0)}[
            self.params.how
        ]

    def transform(self, inputs: list[F]) -> F:
        left, right = inputs
        left_keys, right_keys = _join_keys(self, self.params, left, right)
        how = self.params.how
        whole = self.broadcast
        if is_dask(left) and is_dask(right):
            if whole == 0:
                left = self._whole(left, 0)
            elif whole == 1:
                right = self._whole(right, 1)
        if how == "semi" or how == "anti":
            return _matching(
                left, right, keep=how == "semi", left_on=left_keys, right_on=right_keys, whole=whole
            )
        return _merge(
            left,
            right,
            how=how,
            left_on=left_keys,
            right_on=right_keys,
            suffixes=self.params.suffixes,
            whole=whole,
        )

    def required_columns(self, needed, inputs):
        left, right = inputs
        if self.params.how in ("semi", "anti"):  # only the second input's keys, whatever is needed
            left_keys, right_keys = _join_keys(self, self.params, left, right)
            return [None if needed is None else set(left_keys) | set(needed), set(right_keys)]
        if needed is None:
            return [None, None]
        left_keys, right_keys = _join_keys(self, self.params, left, right)
        suffix_l, suffix_r = self.params.suffixes
        left_need = set(left_keys) | {c for c in left.columns if c in needed or f"{c}{suffix_l}" in needed}
        right_need = set(right_keys) | {c for c in right.columns if c in needed or f"{c}{suffix_r}" in needed}
        return [left_need, right_need]


class _Bounded:
    """Passes a broadcast input on, or fails when it is far larger than the planner estimated."""

    def __init__(self, most: float, side: str) -> None:
        self.most, self.side = most, side

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return ("aqtra-broadcast-bound", self.most, self.side)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        size = int(frame.memory_usage(index=False, deep=False).sum())
        if size > self.most:
            raise AqtraError(
                f"the {self.side} input is {size / 2**20:,.1f} MB, far more than the planner estimated (it may "
                f"take {self.most / 2**20:,.1f} MB to be joined whole to every partition of the other); set "
                "`broadcast: false` on this join to shuffle both inputs instead",
                field="broadcast",
            )
        return frame


def _whole(frame: dd.DataFrame) -> dd.DataFrame:
    """A side as one partition, which Dask merges partition by partition with the other side: no shuffle
    of either (a broadcast join)."""
    return frame.repartition(npartitions=1) if frame.npartitions > 1 else frame


def _merge(
    left: F,
    right: F,
    *,
    how: Literal["inner", "left", "right", "outer"],
    left_on: list[str],
    right_on: list[str],
    suffixes: tuple[str, str],
    whole: int | None = None,
) -> F:
    """The merge; an inner join on one key probes a table of the smaller (or broadcast) side's keys
    where that applies (`key_join`), and is pandas' merge otherwise, with the same result."""
    if how == "inner" and len(left_on) == 1:
        if whole is not None and is_dask(left) and is_dask(right):
            big, small = (right, left) if whole == 0 else (left, right)
            meta = key_join.merged(left._meta, right._meta, how, left_on, right_on, suffixes)
            probe = key_join.BroadcastProbe(whole, left_on[0], right_on[0], suffixes)
            return big.map_partitions(
                probe, small, meta=meta, align_dataframes=False, enforce_metadata=False, clear_divisions=True
            )
        if not is_dask(left) and not is_dask(right) and key_join.applies(left, right, left_on, right_on):
            joined = key_join.inner_join(left, right, left_on[0], right_on[0], suffixes)
            if joined is not None:
                return joined
    return key_join.merged(left, right, how, left_on, right_on, suffixes)


MATCHED = "__aqtra_matched__"


def _matching(
    left: F, right: F, *, keep: bool, left_on: list[str], right_on: list[str], whole: int | None = None
) -> F:
    """The rows of `left` whose keys appear (`keep`) or do not appear among `right`'s, each once, with
    `left`'s columns; keys match as in the other join types. With `whole` (Dask frames), that input is
    small: the matching is done without a shuffle."""
    if not is_dask(left) and not is_dask(right) and len(left_on) == 1:  # hash tables, no merge
        found = key_join.semi_join_mask(left, right, left_on[0], right_on[0])
        return left[found if keep else ~found].reset_index(drop=True)
    keys = right[right_on]
    if whole is not None and is_dask(left) and is_dask(keys):
        if whole == 0 and len(left_on) == 1:  # only the keys of the big side the small side has
            left = _whole(left)
            keys = keys.map_partitions(_distinct_among, right_on[0], left[left_on[0]], meta=keys._meta)
        keys = _whole(keys)
    # (no subset: dask-expr's merge then fails; one partition: no shuffle to find the distinct keys)
    distinct = (
        keys.drop_duplicates(subset=right_on, split_out=1)
        if is_dask(keys) and keys.npartitions == 1
        else keys.drop_duplicates(subset=right_on)
    )
    distinct = distinct.rename(columns=dict(zip(right_on, left_on, strict=True)))
    if keep:
        return left.merge(distinct, how="inner", on=left_on)
    out = left.merge(distinct.assign(**{MATCHED: True}), how="left", on=left_on)
    return out[out[MATCHED].isna()].drop(columns=[MATCHED])


def _distinct_among(keys: pd.DataFrame, column: str, wanted: pd.Series) -> pd.DataFrame:
    """The distinct keys of one partition that are among `wanted` (all of the small side's keys)."""
    return keys[keys[column].isin(wanted)].drop_duplicates()


class LookupParams(KeyParams):
    columns: list[str] | dict[str, str] = Field(
        description="Reference columns to add; a mapping renames them (reference name: new name)."
    )
    broadcast: bool = _broadcast_field()


class Lookup(Broadcasting, Component[LookupParams]):
    """Add chosen columns from a reference input by key (a left join that never multiplies rows)."""

    name = "lookup"
    pure_schema = True
    min_inputs = max_inputs = 2

    def broadcastable(self) -> tuple[int, ...]:
        """The reference (its rows are looked up; the main input's are all kept)."""
        return (1,) if self.params.broadcast else ()

    def transform(self, inputs: list[F]) -> F:
        main, reference = inputs
        left_keys, right_keys = _join_keys(self, self.params, main, reference)
        wanted = self.params.columns
        names = dict(wanted) if isinstance(wanted, dict) else {c: c for c in wanted}
        self.ctx.require_columns(reference.columns, list(names), field="columns")
        clash = [new for new in names.values() if new in main.columns]
        if clash:
            raise self.ctx.error(
                f"column(s) {', '.join(clash)} already exist in the main input; rename them "
                "with a mapping in `columns`",
                field="columns",
            )
        ref = reference[list(dict.fromkeys(right_keys + list(names)))]
        if is_dask(main) and is_dask(ref) and self.broadcast == 1:  # one partition: no shuffle to find them
            ref = self._whole(ref, 1).drop_duplicates(subset=right_keys, split_out=1)
        else:
            ref = ref.drop_duplicates(subset=right_keys)
        keys = dict(zip(right_keys, left_keys, strict=True))
        ref = partitionwise(self.ctx, ref, _reference_columns, keys, names)
        return main.merge(ref, how="left", on=left_keys)

    def required_columns(self, needed, inputs):
        main, reference = inputs
        left_keys, right_keys = _join_keys(self, self.params, main, reference)
        wanted = self.params.columns
        names = list(wanted) if isinstance(wanted, dict) else list(wanted)
        return [None if needed is None else set(needed) | set(left_keys), set(right_keys) | set(names)]


def _reference_columns(frame: pd.DataFrame, keys: dict[str, str], names: dict[str, str]) -> pd.DataFrame:
    """The reference's keys under the main input's key names, then the wanted columns under their new names
    (so nothing clashes with the main input's other columns)."""
    columns = {left: frame[right] for right, left in keys.items()}
    columns.update({new: frame[old] for old, new in names.items()})
    return pd.DataFrame(columns, index=frame.index)


TREE_REDUCIBLE = {"sum", "mean", "min", "max", "count", "std", "first", "last", "size"}


class AggregateParams(Params):
    by: list[str] = Field(
        default_factory=list, description="Group columns (none: one row for the whole input)."
    )
    aggregations: dict[str, str] = Field(
        description="Output column → aggregation, e.g. `sum(amount * (1 - discount))`, `count()`."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> AggregateParams:
        if not self.aggregations:
            raise ValueError("give at least one aggregation")
        return self


class Aggregate(Component[AggregateParams]):
    """Group by columns and compute named aggregations over expressions."""

    name = "aggregate"
    pure_schema = True

    def _parsed(self, columns: list[str], dtypes: dict[str, Any] | None = None):
        """Each aggregation checked against the input's columns; with their `dtypes`, against their types
        too (`sum(region)` on text fails in planning)."""
        self.ctx.require_columns(columns, self.params.by, field="by")
        return {
            out: aggregation(self.ctx, text, columns, f"aggregations.{out}", dtypes)
            for out, text in self.params.aggregations.items()
        }

    def transform(self, inputs: list[F]) -> F:
        frame = inputs[0]
        parsed = self._parsed([str(c) for c in frame.columns], column_types(frame))
        by = list(self.params.by)
        prepared = partitionwise(self.ctx, frame, _prepare, by, parsed, self.ctx.parameters)
        spec: dict[str, tuple[str, str]] = {}
        for out, agg in parsed.items():
            method = (
                "size"
                if agg.function == "count" and agg.argument is None
                else AGGREGATE_FUNCTIONS[agg.function]
            )
            spec[out] = (f"__arg_{out}", method)
        keys = by or ["__all__"]
        if not is_dask(prepared):
            return _aggregate_pandas(prepared, keys, spec, drop_all=not by)
        return _aggregate_dask(prepared, keys, spec, drop_all=not by)

    def required_columns(self, needed, inputs):
        parsed = self._parsed([str(c) for c in inputs[0].columns])
        required = set(self.params.by)
        for agg in parsed.values():
            required |= set(agg.columns)
        return [required]


def _prepare(frame: pd.DataFrame, by: list[str], parsed: dict, params: dict[str, Any]) -> pd.DataFrame:
    """Group keys plus one column per aggregation argument (count() counts a constant)."""
    columns: dict[str, Any] = {key: frame[key] for key in by}
    if not by:
        columns["__all__"] = pd.Series(0, index=frame.index, dtype="int64")
    for out, agg in parsed.items():
        if agg.argument is None:
            value: Any = pd.Series(1, index=frame.index, dtype="int64")
        else:
            value = agg.argument.evaluate(frame, params)
            if not isinstance(value, pd.Series):
                value = pd.Series(value, index=frame.index)
        columns[f"__arg_{out}"] = value
    return pd.DataFrame(columns, index=frame.index, copy=False)  # no copy of the columns (copy-on-write)


def _aggregate_dask(frame: dd.DataFrame, keys: list[str], spec: dict, drop_all: bool) -> dd.DataFrame:
    """Tree reductions where the aggregation allows (sum, mean, ...); count_distinct and median through
    reductions of our own (distinct rows per partition, then across; all values of one column), so null
    group keys are kept as pandas keeps them. The parts are joined on the group keys."""
    tree = {out: item for out, item in spec.items() if item[1] in TREE_REDUCIBLE}
    parts = [frame.groupby(keys, dropna=False, sort=False).agg(**tree, split_out=1)] if tree else []
    for out, (column, method) in spec.items():
        if out in tree:
            continue
        subset = frame[[*keys, column]]
        chunk = _DistinctRows() if method == "nunique" else _identity
        finish = _GroupAggregate(keys, column, method, out)
        parts.append(
            subset.reduction(
                chunk=chunk, combine=chunk, aggregate=finish, split_every=8, meta=finish(subset._meta)
            )
        )
    result = parts[0]
    for part in parts[1:]:
        result = result.join(part, how="outer")
    result = result.reset_index()[[*keys, *spec]]
    return result.drop(columns="__all__") if drop_all else result


def _identity(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


class _DistinctRows:
    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop_duplicates()

    def __dask_tokenize__(self) -> str:
        return "aqtra-distinct-rows"


class _GroupAggregate:
    """The last step of a reduction: one pandas aggregation over the gathered rows."""

    def __init__(self, keys: list[str], column: str, method: str, out: str) -> None:
        self.keys, self.column, self.method, self.out = keys, column, method, out

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        grouped = frame.groupby(self.keys, dropna=False, sort=False)[self.column]
        return getattr(grouped, self.method)().to_frame(name=self.out)

    def __dask_tokenize__(self) -> tuple[str, ...]:
        return ("aqtra-group-aggregate", *self.keys, self.column, self.method, self.out)


def _aggregate_pandas(frame: pd.DataFrame, keys: list[str], spec: dict, drop_all: bool) -> pd.DataFrame:
    coded = group_keys.encode(frame, keys)
    if coded is not None:  # text keys of a large frame: grouped by integer codes, the same groups in order
        codes, decode = coded
        values = frame.drop(columns=keys).groupby(codes, sort=False).agg(**spec)
        return pd.concat([decode(values.index.to_numpy()), values.reset_index(drop=True)], axis=1)
    result = frame.groupby(keys, dropna=False, sort=False).agg(**spec).reset_index()
    return result.drop(columns="__all__") if drop_all else result


class SortParams(Params):
    by: Keys = Field(description="Column(s) to sort by.")
    descending: bool | list[bool] = Field(
        False, description="Descending order (one flag, or one per column)."
    )
    nulls: Literal["first", "last"] = Field("last", description="Where nulls go.")


class Sort(Component[SortParams]):
    """Order rows by columns."""

    name = "sort"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        by = _keys(self.params.by)
        self.ctx.require_columns(inputs[0].columns, by, field="by")
        desc = self.params.descending
        if isinstance(desc, list) and len(desc) != len(by):
            raise self.ctx.error(
                f"`descending` has {len(desc)} flags for {len(by)} columns", field="descending"
            )
        ascending = [not d for d in desc] if isinstance(desc, list) else not desc
        frame = inputs[0]
        if is_dask(frame):
            if len(by) > 1 and frame.npartitions > 1:
                frame = frame.repartition(npartitions=1)
            return frame.sort_values(by=by, ascending=ascending, na_position=self.params.nulls)
        return frame.sort_values(by=by, ascending=ascending, na_position=self.params.nulls, kind="stable")

    def required_columns(self, needed, inputs):
        return [None if needed is None else set(needed) | set(_keys(self.params.by))]


class LimitParams(Params):
    rows: int = Field(ge=0, description="How many rows to keep.")
    offset: int = Field(0, ge=0, description="Rows to skip first.")


class Limit(Component[LimitParams]):
    """Keep the first rows (after an optional offset)."""

    name = "limit"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        frame = inputs[0]
        start, stop = self.params.offset, self.params.offset + self.params.rows
        if not is_dask(frame):
            return frame.iloc[start:stop]
        head = frame.head(stop, npartitions=-1, compute=False)
        return head.map_partitions(lambda part: part.iloc[start:stop], meta=frame._meta)

    def required_columns(self, needed, inputs):
        return [needed]


class DistinctParams(Params):
    columns: list[str] | None = Field(
        None, description="Rows are duplicates when these columns match (default all)."
    )


class Distinct(Component[DistinctParams]):
    """Drop duplicate rows, keeping the first."""

    name = "distinct"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        self.ctx.require_columns(inputs[0].columns, self.params.columns or [], field="columns")
        return inputs[0].drop_duplicates(subset=self.params.columns)

    def required_columns(self, needed, inputs):
        if self.params.columns is None:
            return [None]
        return [None if needed is None else set(needed) | set(self.params.columns)]


class UnionParams(Params):
    missing: Literal["error", "null"] = Field(
        "error", description="A column absent from some inputs: an error, or filled with nulls."
    )


class Union(Component[UnionParams]):
    """Stack the rows of several inputs, matching columns by name."""

    name = "union"
    pure_schema = True
    min_inputs = 2
    max_inputs = None

    def transform(self, inputs: list[F]) -> F:
        first = [str(c) for c in inputs[0].columns]
        if self.params.missing == "error":
            for i, frame in enumerate(inputs[1:], start=2):
                names = [str(c) for c in frame.columns]
                if set(names) != set(first):
                    diff = sorted(set(names) ^ set(first))
                    raise self.ctx.error(
                        f"input {i} has other columns than input 1 (differ: {', '.join(diff)}); "
                        "select the same columns or set `missing: null`",
                        field="inputs",
                    )
        if is_dask(inputs[0]):
            return dd.concat(inputs, join="outer", interleave_partitions=False)
        return pd.concat(inputs, join="outer", ignore_index=True)

    def required_columns(self, needed, inputs):
        return [needed for _ in inputs]


class PivotParams(Params):
    index: list[str] = Field(description="Columns that identify an output row.")
    columns: str = Field(description="Column whose values become output columns.")
    values: str = Field(description="Column aggregated into the cells.")
    aggregation: Literal["sum", "mean", "min", "max", "count", "first", "last"] = Field("sum")
    column_values: list[Any] = Field(
        description="The values of `columns` that become output columns (like SQL's PIVOT ... IN (...)), so the "
        "output schema is known before data is read."
    )


class Pivot(Component[PivotParams]):
    """Turn the values of one column into columns (long → wide), aggregating cells."""

    name = "pivot"
    pure_schema = True

    def transform(self, inputs: list[F]) -> F:
        p = self.params
        frame = inputs[0]
        self.ctx.require_columns(frame.columns, p.index, field="index")
        self.ctx.require_columns(frame.columns, [p.columns], field="columns")
        self.ctx.require_columns(frame.columns, [p.values], field="values")
        kind = kind_of_dtype(frame[p.values].dtype)
        if p.aggregation != "count" and kind not in (None, NUMBER, BOOLEAN):
            raise self.ctx.error(
                f"the cells of a pivot are numbers, and {p.aggregation!r} of column {p.values!r} ({kind}) is "
                "not a number; use `aggregation: count`, or pivot a number column",
                field="values",
            )
        grouped = frame.groupby(p.index + [p.columns], dropna=False).agg(__v=(p.values, p.aggregation))
        grouped = grouped.reset_index()
        if is_dask(grouped):
            grouped = grouped.repartition(npartitions=1)
        values = [str(v) for v in p.column_values]
        return partitionwise(self.ctx, grouped, _pivot, p.index, p.columns, values)

    def required_columns(self, needed, inputs):
        p = self.params
        return [{*p.index, p.columns, p.values}]


def _pivot(frame: pd.DataFrame, index: list[str], columns: str, values: list[str]) -> pd.DataFrame:
    frame = frame.assign(**{columns: frame[columns].astype("str")})
    # One row per group already; unlike pivot_table, unstack keeps rows whose index has nulls.
    wide = frame.set_index([*index, columns])["__v"].unstack(columns)
    wide = wide.reindex(columns=values)
    wide.columns = [str(c) for c in wide.columns]
    out = wide.reset_index()
    for column in values:
        out[column] = out[column].astype("float64")
    return out[[*index, *values]]


RELATIONAL = [Join, Lookup, Aggregate, Sort, Limit, Distinct, Union, Pivot]
