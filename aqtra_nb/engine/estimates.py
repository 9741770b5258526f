"""Estimated rows and bytes of each planned step, from what the planner knows before any data is read.

The planner uses them to choose broadcast joins (`plan._choose_broadcasts`): a side that is small in
bytes is joined whole to every partition of the other instead of shuffling both. What is known:

- Parquet readers: the row count of every row group in the files' metadata, each column's statistics
  (min/max) and uncompressed size. A filter right after such a reader is estimated row group by row group
  from those statistics: a range `o_orderdate < date('1995-03-15')` keeps the fraction of each row group's
  [min, max] below the bound (none of a row group the bound excludes, all of one it includes), so sorted
  and unsorted files both come out near the truth.
- Other readers: their `size_hint` (bytes in memory); frames given to `from_frame`: their length.
- Conditions without statistics: textbook selectivities (equality 1/10, a range 1/3, `and` multiplies,
  `or` adds as independent events).
- Joins: the larger of "each row of one side keeps the share of the other side's source rows that
  survived its filters" (a foreign-key join: lineitem ⋈ filtered orders keeps lineitem's rows times the
  orders kept), each side's source rows standing for its key's distinct values.

An estimate is a guess: a wrong one must cost time, not memory, so the broadcast limit is a small share of
memory (`plan.broadcast_limit`). A step whose size nothing tells (a Dask frame given by the caller, SQL,
HTTP, a script) has no estimate and its joins shuffle.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import threading
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..components.base import FrameInput, InputComponent, is_dask
from ..components.transforms import Filter
from ..expr.parse import BoolOp, Call, Column, Compare, In, Not, Param
from .pushdown import constant_value

if TYPE_CHECKING:
    from .plan import PlannedStep

EQUAL = 0.1  # an equality with a value nothing else tells about
RANGE = 1 / 3  # a comparison with a value without statistics, or of two columns
OTHER = 0.5  # a condition not understood
TEXT_WIDTH = 32.0  # bytes per row of a text value nothing tells about (pandas/Arrow: offsets and data)
SAME_ROWS = {"select", "derive", "cast", "fill_missing", "sort", "window", "to_frame", "distinct"}

Stats = Callable[[str], tuple[Any, Any] | None]  # a column's (min, max) in one row group


@dataclass(frozen=True)
class Estimate:
    """Rows of a step, rows of its unfiltered sources (a bound on its keys' distinct values), and the
    bytes per row of the columns whose width is known from the data."""

    rows: float
    base: float
    widths: Mapping[str, float] = field(default_factory=dict)


def step_bytes(step: PlannedStep, estimate: Estimate | None) -> float | None:
    """Bytes in memory of the columns of `step` that its consumers use (all when unknown)."""
    if estimate is None:
        return None
    names = [str(c) for c in step.schema.columns]
    used = names if step.needed is None else [c for c in names if c in step.needed]
    width = sum(estimate.widths.get(c) or _dtype_width(step.schema[c].dtype) for c in used)
    return estimate.rows * max(width, 1.0)


def estimate(steps: Mapping[str, PlannedStep], order: Iterable[str]) -> dict[str, Estimate | None]:
    """An estimate (or None) for each step, in the plan's order. Estimating is an optimization and never
    fails a plan: a step whose files or condition it cannot read (a footer it fails to parse, say) is
    unknown, and its joins shuffle."""
    found: dict[str, Estimate | None] = {}
    for step_id in order:
        step = steps[step_id]
        inputs = [found[i] for i in step.inputs]
        try:
            if isinstance(step.component, InputComponent):
                found[step_id] = _read(step)
            elif any(i is None for i in inputs):
                found[step_id] = None
            else:
                found[step_id] = _derived(step, steps, [i for i in inputs if i is not None])
        except Exception:  # noqa: BLE001 (see the docstring)
            found[step_id] = None
    return found


def _read(step: PlannedStep) -> Estimate | None:
    component = typing.cast(InputComponent[Any], step.component)
    files = _parquet(component)
    if files is not None:
        return Estimate(files.rows, files.rows, files.widths)
    if isinstance(component, FrameInput):
        frame = component.frame()
        if is_dask(frame):
            return None
        return Estimate(float(len(frame)), float(len(frame)))
    size = component.size_hint(step.read_columns)
    if size is None:
        return None
    columns = step.read_columns or [str(c) for c in step.schema.columns]
    width = sum(_dtype_width(step.schema[c].dtype) for c in columns if c in step.schema.columns)
    rows = size / max(width, 1.0)
    return Estimate(rows, rows)


def _derived(step: PlannedStep, steps: Mapping[str, PlannedStep], inputs: list[Estimate]) -> Estimate | None:
    component = step.component
    name = component.name
    first = inputs[0]
    if isinstance(component, Filter):
        source = steps[step.inputs[0]]
        files = _parquet(source.component) if isinstance(source.component, InputComponent) else None
        node = component.condition([str(c) for c in source.schema.columns]).node
        params = component.ctx.parameters
        if files is not None:
            values = _Values(params)
            rows = sum(n * selectivity(node, values, stats) for n, stats in files.row_groups)
        else:
            rows = first.rows * selectivity(node, _Values(params), None)
        return Estimate(rows, first.base, first.widths)
    widths = {k: v for e in reversed(inputs) for k, v in e.widths.items()}
    if name == "join":
        return _join(component.params.how, first, inputs[1], widths)
    if name == "lookup":
        return Estimate(first.rows, first.base, widths)
    if name == "union":
        return Estimate(sum(e.rows for e in inputs), sum(e.base for e in inputs), widths)
    if name == "aggregate":
        rows = first.rows if component.params.by else 1.0
        return Estimate(rows, rows, first.widths)
    if name == "limit":
        params = component.params
        rows = min(first.rows, float(params.offset + params.rows))
        return Estimate(rows, first.base, first.widths)
    if name in SAME_ROWS:
        return Estimate(first.rows, first.base, first.widths)
    return None


def _join(how: str, left: Estimate, right: Estimate, widths: dict[str, float]) -> Estimate:
    base = max(left.base, right.base)
    matched = max(left.rows * _share(right), right.rows * _share(left))
    rows = {
        "inner": matched,
        "left": max(matched, left.rows),
        "right": max(matched, right.rows),
        "outer": max(matched, left.rows + right.rows),
        "semi": left.rows,
        "anti": left.rows,
    }[how]
    return Estimate(rows, base, widths)


def _share(estimate: Estimate) -> float:
    """The share of its sources' rows a step kept (1 when it has as many)."""
    return min(1.0, estimate.rows / estimate.base) if estimate.base > 0 else 1.0


# -- selectivity ---------------------------------------------------------------------------------------------


class _Values:
    """The values of a condition's constant parts, each computed once (not once per row group)."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.found: dict[int, tuple[bool, Any]] = {}

    def __call__(self, node: Any) -> tuple[bool, Any]:
        key = id(node)
        if key not in self.found:
            self.found[key] = constant_value(node, self.params)
        return self.found[key]


def selectivity(node: Any, params: _Values, stats: Stats | None) -> float:
    """The share of rows for which the condition `node` holds; `stats` gives a column's (min, max) in
    the rows considered (one row group), where known."""
    if isinstance(node, BoolOp):
        parts = [selectivity(n, params, stats) for n in node.operands]
        if node.op == "and":
            return math.prod(parts)
        return 1.0 - math.prod(1.0 - p for p in parts)
    if isinstance(node, Not):
        return 1.0 - selectivity(node.operand, params, stats)
    if isinstance(node, Compare):
        links = zip(node.operands, node.ops, node.operands[1:], strict=False)
        return math.prod(_comparison(a, op, b, params, stats) for a, op, b in links)
    if isinstance(node, In):
        known, values = _options(node, params)
        share = sum(_equal(node.operand, v, stats) for v in values) if known else EQUAL * len(node.options)
        share = min(1.0, share)
        return 1.0 - share if node.negated else share
    if isinstance(node, Call) and node.name in ("is_null", "not_null"):
        return 0.05 if node.name == "is_null" else 0.95
    return OTHER


FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _comparison(left: Any, op: str, right: Any, params: _Values, stats: Stats | None) -> float:
    if isinstance(right, Column) and not isinstance(left, Column):
        left, right, op = right, left, FLIP.get(op, op)
    if not isinstance(left, Column) or isinstance(right, Column):
        return EQUAL if op == "==" else 1 - EQUAL if op == "!=" else RANGE
    ok, value = params(right)
    if not ok or op not in FLIP:
        return OTHER
    if op in ("==", "!="):
        share = _equal(left, value, stats)
        return share if op == "==" else 1.0 - share
    bounds = stats(left.name) if stats is not None else None
    if bounds is None:
        return RANGE
    low, high, at = _number(bounds[0]), _number(bounds[1]), _number(value)
    if low is None or high is None or at is None:
        return RANGE
    if high <= low:  # one value in the row group: all or nothing
        below = 1.0 if at > low else 0.0
        holds = {"<": below, "<=": float(at >= low), ">": float(at < low), ">=": 1.0 - below}
        return holds[op]
    below = min(1.0, max(0.0, (at - low) / (high - low)))
    return below if op in ("<", "<=") else 1.0 - below


def _equal(column: Any, value: Any, stats: Stats | None) -> float:
    """Equality with one value: none where the statistics exclude it; for whole numbers, one of the
    values between min and max; 1/10 otherwise."""
    bounds = stats(column.name) if stats is not None and isinstance(column, Column) else None
    if bounds is None:
        return EQUAL
    low, high, at = _number(bounds[0]), _number(bounds[1]), _number(value)
    if low is None or high is None or at is None:
        try:
            return EQUAL if bounds[0] <= value <= bounds[1] else 0.0
        except TypeError:
            return EQUAL
    if not low <= at <= high:
        return 0.0
    if isinstance(bounds[0], int) and isinstance(bounds[1], int):
        return min(EQUAL, 1.0 / (high - low + 1))
    return EQUAL


def _options(node: In, params: _Values) -> tuple[bool, list[Any]]:
    """The values of `x in (...)`: literals and parameters (a list parameter gives its items)."""
    values: list[Any] = []
    for option in node.options:
        if isinstance(option, Param):
            raw = params.params.get(option.name)
            values.extend(raw if isinstance(raw, list | tuple) else [raw])
            continue
        ok, raw = params(option)
        if not ok:
            return False, []
        values.append(raw)
    return True, values


def _number(value: Any) -> float | None:
    """Values that order as numbers (numbers, decimals, dates, times) as floats; None for others."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        value = pd.Timestamp(value)
        return value.tz_localize(None).value / 86_400e9 if value.tzinfo else value.value / 86_400e9
    if isinstance(value, dt.date):
        return float(value.toordinal() - dt.date(1970, 1, 1).toordinal())
    return None


# -- Parquet metadata ----------------------------------------------------------------------------------------


@dataclass
class _Files:
    rows: float
    widths: dict[str, float]
    row_groups: list[tuple[int, Stats]]


def _parquet(component: Any) -> _Files | None:
    """Rows, column widths and per-row-group statistics of a Parquet reader's files (its `dataset`),
    read from their footers once per version of the files (re-planning a flow reads no footer again)."""
    import pyarrow.dataset as pads

    dataset = getattr(component, "dataset", None) if component.name == "read_parquet" else None
    if not isinstance(dataset, pads.FileSystemDataset):
        return None
    fragments = list(dataset.get_fragments())
    key = _fingerprint(dataset, fragments)
    with _lock:
        found = _summaries.get(key) if key is not None else None
    if found is None:
        found = _summary(dataset, fragments)
        if key is not None:
            with _lock:
                if len(_summaries) >= MAX_SUMMARIES:
                    _summaries.pop(next(iter(_summaries)))
                _summaries[key] = found
    return found


MAX_SUMMARIES = 64
_summaries: dict[tuple[Any, ...], _Files] = {}
_lock = threading.Lock()  # plans are made on several threads in a server


def _fingerprint(dataset: Any, fragments: list[Any]) -> tuple[Any, ...] | None:
    """Each local file's path, size and modification time, with the scanned schema; None for other
    file systems (then the footers are read on every plan)."""
    import pyarrow.fs as pafs

    if not isinstance(dataset.filesystem, pafs.LocalFileSystem):
        return None
    files = []
    for fragment in fragments:
        try:
            info = os.stat(fragment.path)
        except OSError:
            return None
        files.append((fragment.path, info.st_size, info.st_mtime_ns))
    return (str(dataset.schema), *files)


def _summary(dataset: Any, fragments: list[Any]) -> _Files:
    types = {f.name: f.type for f in dataset.schema}
    rows, sizes, groups = 0, dict[str, int](), list[tuple[int, Stats]]()
    for fragment in fragments:
        metadata = fragment.metadata
        names = [metadata.schema.column(j).path for j in range(metadata.num_columns)]
        variable = [(j, name) for j, name in enumerate(names) if _fixed_width(types.get(name)) is None]
        for i in range(metadata.num_row_groups):
            group = metadata.row_group(i)
            rows += group.num_rows
            for j, name in variable:
                sizes[name] = sizes.get(name, 0) + group.column(j).total_uncompressed_size
            groups.append((group.num_rows, _group_stats(group, names)))
    widths = {name: _fixed_width(kind) or 8.0 for name, kind in types.items()}
    widths.update({name: max(8.0, size / max(rows, 1) + 8.0) for name, size in sizes.items()})
    return _Files(float(rows), widths, groups)


def _group_stats(group: Any, names: list[str]) -> Stats:
    """A row group's (min, max) of a column, read from its metadata when first asked."""
    found: dict[str, tuple[Any, Any] | None] = {}

    def stats(column: str) -> tuple[Any, Any] | None:
        if column not in found:
            statistics = group.column(names.index(column)).statistics if column in names else None
            if statistics is not None and statistics.has_min_max:
                found[column] = (statistics.min, statistics.max)
            else:
                found[column] = None
        return found[column]

    return stats


def _fixed_width(kind: Any) -> float | None:
    """Bytes per row in memory of a fixed-width Arrow type (dictionaries: their indices), None for text
    and binary."""
    import pyarrow as pa

    if kind is None:
        return 8.0
    if pa.types.is_dictionary(kind):
        return 4.0
    try:
        return max(1.0, kind.bit_width / 8)
    except ValueError:  # variable width
        return None


def _dtype_width(dtype: Any) -> float:
    """Bytes per row of a pandas dtype: its item size, or a guess for text and Python objects."""
    if isinstance(dtype, pd.CategoricalDtype):
        return 4.0
    if getattr(dtype, "kind", "O") in "OSUV":  # text, objects
        return TEXT_WIDTH
    try:
        size = dtype.itemsize
    except (AttributeError, NotImplementedError, ValueError):
        return TEXT_WIDTH
    return float(size) if isinstance(size, int) and size > 0 else TEXT_WIDTH
