"""Inner, semi and anti joins on one integer key: the smaller (or broadcast) side's keys go in a table
built once, which every row of the other side probes.

pandas' merge factorizes both sides on every call, so a broadcast join over many partitions hashed the
small side once per partition, and an in-memory join hashed the large side whole. Here the small side
becomes a `KeyTable`: a direct-address array when its keys span a small range (DuckDB's "perfect hash
join"; TPC-H's keys and most surrogate keys are such), else a pandas hash index behind an array of which
keys exist; repeated keys keep their rows in runs. Partitions share the one table. The result is exactly
pandas' merge: its columns, names, dtypes and row order (the first input's order, then the second's
among equal keys). Other keys (several, nullable, non-integer) are merged by pandas. The same tables cut
a step's input to the keys of a small one (`rows_with_keys`: the planner's runtime key filters).
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
PRESENT_BYTES_PER_KEY = 256
MAX_PRESENT_BYTES = 64 * 2**20
PROBE_BLOCK = 1 << 16  # keys probed at once (their offsets stay in the processor's cache)
NEAR = 2**62  # tables of direct addresses hold keys within this of zero (see `_Positions.__init__`)


class _Positions:
    """The position of each of a set of integer keys (`unique` says whether they are a set).

    Keys spanning a small range go in a direct-address array of positions. Sparser ones go in a pandas
    hash index, in front of which, up to a wider range, sits an array saying which keys exist at all:
    a join that keeps a few rows of a large side (a fact table against a filtered dimension) looks up
    only the keys that exist, which costs a fraction of hashing every row."""

    def __init__(self, keys: np.ndarray) -> None:
        self.rows = len(keys)
        self._slots: np.ndarray | None = None
        self._present: np.ndarray | None = None
        self._index: pd.Index | None = None
        self._low, self._high = (int(keys.min()), int(keys.max())) if self.rows else (0, -1)
        span = self._high - self._low + 1
        # Direct-address arrays keep a sentinel at each end, where `take(mode="clip")` sends every key
        # outside the range: with keys well inside int64 (`_near`), a wrapped offset is far outside too.
        if span <= max(MIN_SLOTS, SLOTS_PER_KEY * self.rows) and self._near():
            kind = np.int32 if self.rows < 2**31 else np.int64  # (half the memory of int64 positions)
            self._slots = np.full(span + 2, -1, dtype=kind)
            self._slots[keys - (self._low - 1)] = np.arange(self.rows, dtype=kind)
            self.unique = int(np.count_nonzero(self._slots >= 0)) == self.rows  # repeats share a slot
            return
        if span <= min(MAX_PRESENT_BYTES, PRESENT_BYTES_PER_KEY * self.rows) and self._near():
            self._present = np.zeros(span + 2, dtype=bool)
            self._present[keys - (self._low - 1)] = True
            self.unique = int(np.count_nonzero(self._present)) == self.rows
        self._index = pd.Index(keys)
        if self._present is None:
            self.unique = self._index.is_unique
        if self.unique:
            self._lookup(keys[:1])  # builds the hash table here, once, not in concurrent probes

    def _near(self) -> bool:
        return -NEAR < self._low and self._high < NEAR

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """Positions by the hash index (pandas keeps its table with the index, built on first use; it
        takes arrays as well as the indexes its stubs name)."""
        assert self._index is not None
        return self._index.get_indexer(keys)  # type: ignore[arg-type]

    def _direct(self, table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of `keys` whose entry in a direct-address `table` is set (a position >= 0, or True),
        and those entries. In blocks, through buffers made once: temporaries the size of a large side
        (152 MB of offsets for 19 M keys) cost more in fresh memory than the lookups themselves."""
        block = min(len(keys), PROBE_BLOCK)
        offsets = np.empty(block, dtype=np.int64)
        entries = np.empty(block, dtype=table.dtype)
        rows, found = [], []
        shift = np.int64(self._low - 1)
        with np.errstate(over="ignore"):  # far keys wrap; they land far outside either way
            for start in range(0, len(keys), block):
                part = keys[start : start + block]
                size = len(part)
                np.subtract(part, shift, out=offsets[:size])
                np.take(table, offsets[:size], mode="clip", out=entries[:size])
                hit = np.flatnonzero(entries[:size] >= 0 if table.dtype != bool else entries[:size])
                rows.append(hit + start)
                found.append(entries[hit])
        if len(rows) == 1:
            return rows[0], found[0]
        return np.concatenate(rows), np.concatenate(found)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of `keys` are in the set (their positions in `keys`, ascending), and their positions
        in the set."""
        if not self.rows or not len(keys):
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.int64)
        keys = keys.astype(np.int64, copy=False)
        if self._slots is not None:
            return self._direct(self._slots, keys)
        if self._present is None:
            found = self._lookup(keys)
            rows = np.flatnonzero(found >= 0)
            return rows, found[rows]
        rows = self._direct(self._present, keys)[0]
        return rows, self._lookup(keys[rows])


class KeyTable:
    """Where the rows of one side's integer keys are: each key's row, or, when keys repeat, its rows in
    their order (the distinct keys in a `_Positions`, each with its run of rows in key order)."""

    def __init__(self, keys: np.ndarray, *, repeats: bool = True) -> None:
        """With `repeats` false, keys that repeat are only noted (`unique` false), not put in runs."""
        keys = keys.astype(np.int64, copy=False)
        self.rows = len(keys)
        self._keys = _Positions(keys)
        self.unique = self._keys.unique
        self._order: np.ndarray | None = None
        if not self.unique and repeats:  # runs of equal keys, each in the rows' order (a stable sort)
            order = np.argsort(keys, kind="stable")
            ordered = keys[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            self._order, self._starts = order, starts
            self._counts = np.diff(np.r_[starts, len(keys)])
            self._keys = _Positions(ordered[starts])

    def matches(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each pair of a row of `keys` and a row of the table's side with the same key: the rows of
        `keys` ascending, each one's table rows in their order."""
        rows, found = self._keys.find(keys)
        if self._order is None:
            return rows, found
        counts = self._counts[found]
        total = int(counts.sum())
        ends = np.cumsum(counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)
        return np.repeat(rows, counts), self._order[np.repeat(self._starts[found], counts) + within]

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each of `keys` is among the table's."""
        mask = np.zeros(len(keys), dtype=bool)
        mask[self._keys.find(keys)[0]] = True
        return mask

    def found_among(self, keys: np.ndarray) -> np.ndarray:
        """Whether each of the table's rows has its key among `keys` (a semi join seen from the table's
        side: `keys` probed once, then each distinct key's rows marked)."""
        hit = np.zeros(self._keys.rows, dtype=bool)
        hit[self._keys.find(keys)[1]] = True
        if self._order is None:
            return hit
        mask = np.empty(self.rows, dtype=bool)
        mask[self._order] = np.repeat(hit, self._counts)
        return mask


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
    """Whether these keys go through a `KeyTable`: one key pair of one numpy integer dtype."""
    return len(left_on) == 1 == len(right_on) and _integer_keys(left[left_on[0]], right[right_on[0]])


def semi_join_mask(left: pd.DataFrame, right: pd.DataFrame, left_on: str, right_on: str) -> np.ndarray:
    """Which rows of `left` have their key among `right`'s: a table of the smaller side's integer keys;
    other keys by `isin`, probing the smaller side's values (several times faster)."""
    if not applies(left, right, [left_on], [right_on]):
        mine, theirs = left[left_on], right[right_on]
        if len(theirs) > len(mine):
            theirs = theirs[theirs.isin(mine)]
        return mine.isin(theirs).to_numpy()
    ours, others = left[left_on].to_numpy(), right[right_on].to_numpy()
    if len(others) <= len(ours):
        return KeyTable(others).contains(ours)
    return KeyTable(ours).found_among(others)


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
    (or the `table` given, built on input `table_side`); None when the smaller side's keys repeat
    (pandas' merge is faster for one probe then) or for column names not laid out as pandas does."""
    if table is None:
        table_side = 0 if len(left) < len(right) else 1
        table = KeyTable((left[left_on] if table_side == 0 else right[right_on]).to_numpy(), repeats=False)
        if not table.unique:  # built for one probe, runs of rows cost more than pandas' merge
            return None
    if table_side == 1:
        left_rows, right_rows = table.matches(left[left_on].to_numpy())
    else:
        matched, left_rows = table.matches(right[right_on].to_numpy())
        order = np.argsort(left_rows, kind="stable")  # the first input's order, then the second's
        right_rows, left_rows = matched[order], left_rows[order]
    return _assembled(left, right, left_rows, right_rows, left_on, right_on, suffixes)


class _SharedTable:
    """A `KeyTable` of the frame passed whole to every partition's call (one partition broadcast by
    Dask): built by the first call, shared by the rest, never pickled (a cluster worker builds its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: tuple[weakref.ref, KeyTable] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_built")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _built=None)

    def _table(self, whole: pd.DataFrame, key: str) -> KeyTable:
        with self._lock:
            if self._built is None or self._built[0]() is not whole:
                self._built = (weakref.ref(whole), KeyTable(whole[key].to_numpy()))
            return self._built[1]


class BroadcastProbe(_SharedTable):
    """An inner join of each partition of one side with the other side whole (one partition, passed to
    every call): the whole side's `KeyTable` is built by the first call and shared by the rest."""

    def __init__(self, whole: int, left_on: str, right_on: str, suffixes: tuple[str, str]) -> None:
        super().__init__()
        self.whole, self.left_on, self.right_on, self.suffixes = whole, left_on, right_on, suffixes

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return ("aqtra-broadcast-probe", self.whole, self.left_on, self.right_on, self.suffixes)

    def __call__(self, part: pd.DataFrame, whole: pd.DataFrame) -> pd.DataFrame:
        left, right = (whole, part) if self.whole == 0 else (part, whole)
        if applies(left, right, [self.left_on], [self.right_on]):
            table = self._table(whole, self.left_on if self.whole == 0 else self.right_on)
            joined = inner_join(
                left, right, self.left_on, self.right_on, self.suffixes, table=table, table_side=self.whole
            )
            if joined is not None:
                return joined
        return merged(left, right, "inner", [self.left_on], [self.right_on], self.suffixes)


class _KeepKeys(_SharedTable):
    """The rows of a partition whose `column` is among the keys of the frame passed whole."""

    def __init__(self, column: str, key: str) -> None:
        super().__init__()
        self.column, self.key = column, key

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return ("aqtra-keep-keys", self.column, self.key)

    def __call__(self, part: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
        if applies(part, keys, [self.column], [self.key]):
            mask = self._table(keys, self.key).contains(part[self.column].to_numpy())
        else:
            mask = semi_join_mask(part, keys, self.column, self.key)
        return part[mask].reset_index(drop=True)


def rows_with_keys(frame: Any, column: str, keys: Any, key: str) -> Any:
    """The rows of `frame` (pandas or Dask) whose `column` is among `keys[key]` (a small frame, taken
    whole: a Dask one as one partition broadcast to every partition of `frame`)."""
    from .base import is_dask

    if not is_dask(frame):
        return frame[semi_join_mask(frame, keys, column, key)].reset_index(drop=True)
    small = keys[[key]]
    if is_dask(small) and small.npartitions > 1:
        small = small.repartition(npartitions=1)
    return frame.map_partitions(
        _KeepKeys(column, key), small, meta=frame._meta, align_dataframes=False, enforce_metadata=False
    )


def merged(
    left: Any, right: Any, how: str, left_on: list[str], right_on: list[str], suffixes: tuple[str, str]
):
    """pandas' (or Dask's) merge of two frames, the keys named once when both sides call them alike."""
    return left.merge(right, how=how, **_key_options(left_on, right_on), suffixes=suffixes)
