"""Inner joins on one integer key whose smaller side's keys are unique (a dimension, a filtered table of
orders): the positions of that side's keys are looked up once and probed by every row of the other.

pandas' merge factorizes both sides on every call, so a broadcast join over many partitions hashed the
small side once per partition, and an in-memory join hashed the large side whole. Here the small side
becomes a `KeyTable`: a direct-address array when its keys span a small range (DuckDB's "perfect hash
join"; TPC-H's keys and most surrogate keys are such), a pandas hash index otherwise; partitions share
the one table. The result is exactly pandas' inner merge: its columns, names, dtypes and row order (the
first input's order, then the second's among equal keys). Anything else (several keys, nullable or
non-integer keys, duplicate keys on the smaller side) returns None and is merged by pandas.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any

import numpy as np
import pandas as pd

#: A direct-address table holds up to this many slots per key (a denser table is faster to probe than
#: a hash table; a sparser one would waste memory).
SLOTS_PER_KEY = 8
MIN_SLOTS = 4096
#: Up to this many bytes per key (and in all), a byte per key in the range says which keys exist.
PRESENT_BYTES_PER_KEY = 128
MAX_PRESENT_BYTES = 256 * 2**20


class KeyTable:
    """The row position of each of one side's unique integer keys; `probe` answers -1 for absent keys.

    Keys spanning a small range go in a direct-address array of positions. Sparser ones go in a pandas
    hash index, in front of which, up to a wider range, sits an array saying which keys exist at all:
    a join that keeps a few rows of a large side (a fact table against a filtered dimension) looks up
    only the keys that exist, which costs a fraction of hashing every row."""

    def __init__(self, keys: np.ndarray) -> None:
        keys = keys.astype(np.int64, copy=False)
        self.rows = len(keys)
        self._slots: np.ndarray | None = None
        self._present: np.ndarray | None = None
        self._index: pd.Index | None = None
        self._low, self._high = (int(keys.min()), int(keys.max())) if self.rows else (0, -1)
        span = self._high - self._low + 1
        if span <= max(MIN_SLOTS, SLOTS_PER_KEY * self.rows):
            self._slots = np.full(span, -1, dtype=np.int64)
            self._slots[keys - self._low] = np.arange(self.rows, dtype=np.int64)
            self.unique = int(np.count_nonzero(self._slots >= 0)) == self.rows  # repeats share a slot
            return
        if span <= min(MAX_PRESENT_BYTES, PRESENT_BYTES_PER_KEY * self.rows):
            self._present = np.zeros(span, dtype=bool)
            self._present[keys - self._low] = True
            self.unique = int(np.count_nonzero(self._present)) == self.rows
        self._index = pd.Index(keys)
        if self._present is None:
            self.unique = self._index.is_unique
        if self.unique:
            self._lookup(keys[:1])  # builds the hash table here, once, not in concurrent probes

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """Positions by the hash index (pandas keeps its table with the index, built on first use; it
        takes arrays as well as the indexes its stubs name)."""
        assert self._index is not None
        return self._index.get_indexer(keys)  # type: ignore[arg-type]

    def _offsets(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each key's offset from the table's lowest key, and which keys fall in its range (an offset
        below zero, seen unsigned, is past the end: one comparison)."""
        with np.errstate(over="ignore"):  # far keys wrap; they are outside either way
            offsets = keys - self._low
        return offsets, offsets.view(np.uint64) < np.uint64(self._high - self._low + 1)

    def matches(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of `keys` are on the table's side (their positions in `keys`, ascending) and where."""
        keys = keys.astype(np.int64, copy=False)
        if not self.rows:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.int64)
        if self._slots is not None:
            offsets, inside = self._offsets(keys)
            found = self._slots.take(offsets, mode="clip")  # (outside the range: some slot, masked here)
            rows = np.flatnonzero(inside & (found >= 0))
            return rows, found[rows]
        assert self._index is not None
        if self._present is None:
            found = self._lookup(keys)
            rows = np.flatnonzero(found >= 0)
            return rows, found[rows]
        offsets, inside = self._offsets(keys)
        rows = np.flatnonzero(self._present.take(offsets, mode="clip") & inside)
        return rows, self._lookup(keys[rows])


def _integer_keys(left: pd.Series, right: pd.Series) -> bool:
    """Keys this join handles: numpy integers (never null) of one dtype on both sides."""
    kind = left.dtype
    return (
        isinstance(kind, np.dtype)
        and kind.kind in "iu"
        and kind == right.dtype
        and kind.itemsize <= 8
        and (kind.kind == "i" or kind.itemsize < 8)
    )


def applies(left: pd.DataFrame, right: pd.DataFrame, left_on: list[str], right_on: list[str]) -> bool:
    return len(left_on) == 1 == len(right_on) and _integer_keys(left[left_on[0]], right[right_on[0]])


@functools.lru_cache(maxsize=256)
def _merged_names(
    left: tuple[str, ...], right: tuple[str, ...], left_on: str, right_on: str, suffixes: tuple[str, str]
) -> tuple[str, ...] | None:
    """The columns pandas' merge gives (asked of empty frames with these columns, once per shape), or
    None when they are not the first input's followed by the second's (this module's assumption)."""
    names = tuple(
        pd.DataFrame(columns=list(left))
        .merge(
            pd.DataFrame(columns=list(right)),
            how="inner",
            **_key_options(left_on, right_on),
            suffixes=suffixes,
        )
        .columns
    )
    kept = len(right) - (left_on == right_on)
    return names if len(names) == len(left) + kept else None


def _key_options(left_on: str | list[str], right_on: str | list[str]) -> dict[str, Any]:
    return {"on": left_on} if left_on == right_on else {"left_on": left_on, "right_on": right_on}


def _assembled(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_rows: np.ndarray,
    right_rows: np.ndarray,
    left_on: str,
    right_on: str,
    suffixes: tuple[str, str],
) -> pd.DataFrame | None:
    """The joined rows, with the columns pandas' merge gives."""
    names = _merged_names(tuple(left.columns), tuple(right.columns), left_on, right_on, suffixes)
    if names is None:
        return None
    ours = left.take(left_rows)
    theirs = (right.drop(columns=[right_on]) if left_on == right_on else right).take(right_rows)
    index = pd.RangeIndex(len(left_rows))
    ours.index = index
    theirs.index = index
    joined = pd.concat([ours, theirs], axis=1)
    joined.columns = pd.Index(names)
    return joined


def inner_join(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_on: str,
    right_on: str,
    suffixes: tuple[str, str],
    table: KeyTable | None = None,
    table_side: int | None = None,
) -> pd.DataFrame | None:
    """pandas' `left.merge(right, how="inner", …)` on one integer key, with a table of the smaller side
    (or the `table` given, built on input `table_side`); None when the table's keys repeat."""
    if table is None:  # the smaller side's keys, else the other's when those repeat
        for table_side in (0, 1) if len(left) < len(right) else (1, 0):
            table = KeyTable((left[left_on] if table_side == 0 else right[right_on]).to_numpy())
            if table.unique:
                break
    assert table is not None
    if not table.unique:
        return None
    if table_side == 1:
        left_rows, right_rows = table.matches(left[left_on].to_numpy())
    else:
        matched, left_rows = table.matches(right[right_on].to_numpy())
        order = np.argsort(left_rows, kind="stable")  # the first input's order, then the second's
        right_rows, left_rows = matched[order], left_rows[order]
    return _assembled(left, right, left_rows, right_rows, left_on, right_on, suffixes)


class BroadcastProbe:
    """An inner join of each partition of one side with the other side whole (one partition, passed to
    every call): the whole side's `KeyTable` is built by the first call and shared by the rest."""

    def __init__(self, whole: int, left_on: str, right_on: str, suffixes: tuple[str, str]) -> None:
        self.whole, self.left_on, self.right_on, self.suffixes = whole, left_on, right_on, suffixes
        self._lock = threading.Lock()
        self._built: tuple[weakref.ref, KeyTable] | None = None

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return ("aqtra-broadcast-probe", self.whole, self.left_on, self.right_on, self.suffixes)

    def __getstate__(self) -> dict[str, Any]:  # (sent to cluster workers without its lock or table)
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_built")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _built=None)

    def _table(self, whole: pd.DataFrame) -> KeyTable:
        with self._lock:
            if self._built is None or self._built[0]() is not whole:
                key = self.left_on if self.whole == 0 else self.right_on
                self._built = (weakref.ref(whole), KeyTable(whole[key].to_numpy()))
            return self._built[1]

    def __call__(self, part: pd.DataFrame, whole: pd.DataFrame) -> pd.DataFrame:
        left, right = (whole, part) if self.whole == 0 else (part, whole)
        if applies(left, right, [self.left_on], [self.right_on]):
            table = self._table(whole)
            joined = inner_join(
                left, right, self.left_on, self.right_on, self.suffixes, table=table, table_side=self.whole
            )
            if joined is not None:
                return joined
        return merged(left, right, "inner", [self.left_on], [self.right_on], self.suffixes)


def merged(
    left: Any, right: Any, how: str, left_on: list[str], right_on: list[str], suffixes: tuple[str, str]
):
    """pandas' (or Dask's) merge of two frames, the keys named once when both sides call them alike."""
    return left.merge(right, how=how, **_key_options(left_on, right_on), suffixes=suffixes)
