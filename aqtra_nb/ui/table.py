"""Filter, sort and page a frame on the server without copying it: positions in, one page out.

A `TableQuery` keeps the row positions that pass the filters and, once asked for a sorted page, the sorted
order of those positions (or only its first k when the page is near the top: a top-k selection is O(n),
a full sort O(n log n) and seconds on 10 M rows). A page is `frame.take(positions[start:stop])`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import AqtraError, ExpressionError
from ..expr import parse_expression

#: pages ending before this row are served from a top-k selection instead of a full sort
TOP_K_LIMIT = 100_000


class FilterError(AqtraError):
    """A grid filter does not parse or names an unknown column."""


def filter_positions(
    frame: pd.DataFrame, conditions: Sequence[str], params: Mapping[str, Any] | None = None
) -> np.ndarray | None:
    """Positions of the rows for which every condition holds (null counts as false); None: all rows."""
    mask: np.ndarray | None = None
    for text in conditions:
        if not text or not text.strip():
            continue
        try:
            expression = parse_expression(text)
            value = expression.evaluate(frame, params or {})
        except ExpressionError as exc:
            raise FilterError(exc.message if exc.position is None else str(exc), field="filter") from None
        except AqtraError as exc:
            raise FilterError(exc.message, field="filter") from None
        part = _as_mask(value, len(frame))
        mask = part if mask is None else mask & part
    return None if mask is None else np.flatnonzero(mask)


def _as_mask(value: Any, length: int) -> np.ndarray:
    if isinstance(value, pd.Series):
        if value.dtype != bool:
            value = value.astype("boolean").fillna(False).astype(bool)
        return value.to_numpy(dtype=bool)
    return np.full(length, bool(value) if value is not None and value is not pd.NA else False)


def sort_key(series: pd.Series) -> pa.Array:
    """The column as an Arrow array that sorts like pandas (categoricals by their category order)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype("float64")
        codes[codes < 0] = np.nan
        return pa.array(codes, from_pandas=True)
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        ranks = series.rank(method="dense").to_numpy()  # mixed objects: pandas' own ordering
        return pa.array(ranks, from_pandas=True)


def sorted_positions(key: pa.Array, descending: bool, k: int | None = None) -> np.ndarray:
    """Positions of `key` in stable sorted order, nulls last (as pandas' `sort_values(kind="stable")`).

    With `k`, only the first k positions, found by a top-k selection: the k-th value bounds the candidates,
    whose stable sort then gives exactly the first k of the full stable sort, ties included.
    """
    order = "descending" if descending else "ascending"
    non_null = len(key) - key.null_count
    if k is None or k >= non_null:
        full = pc.sort_indices(key, sort_keys=[("key", order)]).to_numpy()
        return full if k is None else full[:k]
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    top = pc.select_k_unstable(key, k=k, sort_keys=[("key", order)])
    chosen = key.take(top)
    boundary = pc.min(chosen) if descending else pc.max(chosen)
    inside = pc.greater_equal(key, boundary) if descending else pc.less_equal(key, boundary)
    candidates = np.flatnonzero(pc.fill_null(inside, False).to_numpy(zero_copy_only=False))
    within = pc.sort_indices(key.take(pa.array(candidates)), sort_keys=[("key", order)]).to_numpy()
    return candidates[within[:k]]


class TableQuery:
    """One frame seen through filters and a sort; computes what a page needs and caches it."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._lock = threading.RLock()
        self._filtered: np.ndarray | None = None  # positions passing the filters; None: all rows
        self._sort: tuple[str, bool] | None = None
        self._order: np.ndarray | None = None  # sorted positions (a prefix when `_complete` is False)
        self._complete = False

    @property
    def total(self) -> int:
        return len(self.frame) if self._filtered is None else len(self._filtered)

    def set_filters(self, conditions: Sequence[str], params: Mapping[str, Any] | None = None) -> None:
        """Apply filters (all must hold); raises FilterError and keeps the previous filter on a bad one."""
        filtered = filter_positions(self.frame, conditions, params)
        with self._lock:
            self._filtered = filtered
            self._order, self._complete = None, False

    def set_sort(self, column: str | None, descending: bool = False) -> None:
        if column is not None and column not in self.frame.columns:
            raise FilterError(f"cannot sort by unknown column {column!r}", field="sort")
        with self._lock:
            sort = None if column is None else (column, bool(descending))
            if sort != self._sort:
                self._sort, self._order, self._complete = sort, None, False

    def positions(self, start: int, stop: int) -> np.ndarray:
        """Source positions of rows `start:stop` of the filtered, sorted table."""
        with self._lock:
            stop = min(stop, self.total)
            start = min(max(start, 0), stop)
            if self._sort is None:
                if self._filtered is None:
                    return np.arange(start, stop)
                return self._filtered[start:stop]
            order = self._sorted_prefix(stop)
            return order[start:stop]

    def page(self, start: int, stop: int) -> tuple[pd.DataFrame, np.ndarray]:
        """The rows `start:stop` (only those rows are copied) and their positions in the source frame."""
        positions = self.positions(start, stop)
        return self.frame.take(positions), positions

    def _sorted_prefix(self, stop: int) -> np.ndarray:
        assert self._sort is not None
        if self._order is not None and (self._complete or len(self._order) >= stop):
            return self._order
        column, descending = self._sort
        series = self.frame[column]
        if self._filtered is not None:
            series = series.take(self._filtered)
        key = sort_key(series)
        k = None if stop > TOP_K_LIMIT else min(max(stop, 1_000), len(key))
        local = sorted_positions(key, descending, k)
        self._order = local if self._filtered is None else self._filtered[local]
        self._complete = k is None or len(local) >= len(key)
        return self._order
