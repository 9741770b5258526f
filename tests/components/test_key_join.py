"""Inner joins on one integer key through a table of the smaller side's keys give exactly pandas' merge
(columns, names, dtypes, row order), whichever table the keys' range picks and whether keys repeat;
semi and anti joins keep exactly the rows `isin` keeps; keys the table does not handle are left to
pandas."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aqtra_nb.components import key_join
from aqtra_nb.components.base import dask_settings
from aqtra_nb.components.key_join import BroadcastProbe, KeyTable, inner_join


def _pandas(left, right, left_on, right_on, suffixes=("", "_right")):
    return key_join.merged(left, right, "inner", [left_on], [right_on], suffixes)


@st.composite
def _sides(draw):
    """Two frames with an int key each: a span that makes the table dense, sparse with a presence
    array, or hashed; keys unique or repeating on the smaller side, repeating on the other; a clashing
    column name."""
    spread = draw(st.sampled_from([1, 20, 10_000_000]))
    low = draw(st.integers(-(2**40), 2**40))
    small = draw(st.lists(st.integers(0, 300), min_size=0, max_size=60, unique=draw(st.booleans())))
    big = draw(st.lists(st.integers(-5, 320), min_size=0, max_size=200))
    left_small = draw(st.booleans())
    small_keys = np.array([low + k * spread for k in small], dtype=np.int64)
    big_keys = np.array([low + k * spread for k in big], dtype=np.int64)
    small_frame = pd.DataFrame({"k": small_keys, "v": [f"s{i}" for i in range(len(small))]})
    big_frame = pd.DataFrame({"key": big_keys, "v": np.arange(len(big), dtype=np.float64), "w": big_keys % 7})
    return (small_frame, big_frame, "k", "key") if left_small else (big_frame, small_frame, "key", "k")


@settings(max_examples=300, deadline=None)
@given(_sides())
def test_equals_pandas_merge(sides):
    left, right, left_on, right_on = sides
    smaller = left[left_on] if len(left) < len(right) else right[right_on]
    joined = inner_join(left, right, left_on, right_on, ("", "_right"))
    if smaller.duplicated().any():  # left to pandas
        assert joined is None
    else:
        pd.testing.assert_frame_equal(joined, _pandas(left, right, left_on, right_on))
    side = int(len(left) >= len(right))
    table = KeyTable(smaller.to_numpy())  # a table given (a broadcast side's), keys repeating or not
    joined = inner_join(left, right, left_on, right_on, ("", "_right"), table=table, table_side=side)
    pd.testing.assert_frame_equal(joined, _pandas(left, right, left_on, right_on))


@settings(max_examples=200, deadline=None)
@given(_sides())
def test_semi_join_mask_is_isin(sides):
    left, right, left_on, right_on = sides
    mask = key_join.semi_join_mask(left, right, left_on, right_on)
    assert mask.tolist() == left[left_on].isin(right[right_on]).tolist()


@settings(max_examples=100, deadline=None)
@given(_sides())
def test_one_key_name_on_both_sides_is_kept_once(sides):
    left, right, left_on, right_on = sides
    left, right = left.rename(columns={left_on: "id"}), right.rename(columns={right_on: "id"})
    side = int(len(left) >= len(right))
    table = KeyTable((left if side == 0 else right)["id"].to_numpy())
    joined = inner_join(left, right, "id", "id", ("_l", "_r"), table=table, table_side=side)
    pd.testing.assert_frame_equal(joined, _pandas(left, right, "id", "id", ("_l", "_r")))


def test_table_kinds_by_the_keys_range():
    dense = KeyTable(np.arange(0, 3000, 2, dtype=np.int64))
    sparse = KeyTable(np.arange(0, 30_000_000, 41, dtype=np.int64))
    hashed = KeyTable(np.array([1, 10**15, -(10**15)], dtype=np.int64) * 7)
    high = np.iinfo(np.int64).max
    edge = KeyTable(np.array([high - 2, high], dtype=np.int64))  # near int64's end: no direct addresses
    assert dense._keys._slots is not None and sparse._keys._present is not None
    assert hashed._keys._slots is None and hashed._keys._present is None and edge._keys._slots is None
    probe = np.array(
        [4, 5, 41 * 3, -1, 2**62, -(2**62), 7 * 10**15, high, -high - 1, high - 2], dtype=np.int64
    )
    tables = (dense, sparse, hashed, edge)
    assert [t.matches(probe)[0].tolist() for t in tables] == [[0], [2], [6], [7, 9]]
    assert [t.matches(probe)[1].tolist() for t in tables] == [[2], [3], [1], [1, 0]]


@pytest.mark.parametrize("span", [1, 41, 10**12])
def test_repeated_keys_keep_pandas_order_on_either_side(span):
    keys = np.array([3, 1, 2, 2, 3, 3, 9], dtype=np.int64) * span
    table = KeyTable(keys)
    assert not table.unique
    rows, positions = table.matches(np.array([2, 5, 3, 2], dtype=np.int64) * span)
    assert (rows.tolist(), positions.tolist()) == ([0, 0, 2, 2, 2, 3, 3], [2, 3, 0, 4, 5, 2, 3])
    assert table.found_among(np.array([3, 7], dtype=np.int64) * span).tolist() == [1, 0, 0, 0, 1, 1, 0]
    small = pd.DataFrame({"k": keys, "x": np.arange(7)})
    big = pd.DataFrame({"k": np.arange(12, dtype=np.int64).repeat(2)[::-1] * span, "y": np.arange(24)})
    for side, (left, right) in enumerate(((small, big), (big, small))):
        joined = inner_join(left, right, "k", "k", ("", "_r"), table=table, table_side=side)
        pd.testing.assert_frame_equal(joined, _pandas(left, right, "k", "k", ("", "_r")))
    assert inner_join(small, big, "k", "k", ("", "_r")) is None  # no table given: pandas' merge


def test_keys_of_other_types_are_not_taken():
    ints = pd.DataFrame({"k": np.arange(3, dtype=np.int64)})
    assert key_join.applies(ints, ints, ["k"], ["k"])
    for other in (
        ints.astype({"k": "Int64"}),  # nullable
        ints.astype({"k": np.int32}),  # another width than the other side
        ints.astype({"k": np.float64}),
        ints.astype({"k": np.uint64}),
        ints.astype({"k": str}),
    ):
        assert not key_join.applies(ints, other, ["k"], ["k"])
    assert not key_join.applies(ints.assign(j=1), ints.assign(j=1), ["k", "j"], ["k", "j"])


@pytest.mark.parametrize("whole", [0, 1])
def test_broadcast_probe_over_partitions_equals_pandas_per_partition(whole):
    rng = np.random.default_rng(5)
    big = pd.DataFrame({"order": rng.integers(0, 900, 5_000), "amount": rng.random(5_000)})
    small = pd.DataFrame({"order": np.arange(0, 900, 3), "amount": np.arange(300) / 10})
    parts = dd.from_pandas(big, npartitions=4)
    small_dd = dd.from_pandas(small, npartitions=1)
    left, right = (small_dd, parts) if whole == 0 else (parts, small_dd)
    probe = BroadcastProbe(whole, "order", "order", ("", "_right"))
    meta = key_join.merged(left._meta, right._meta, "inner", ["order"], ["order"], ("", "_right"))
    joined = parts.map_partitions(probe, small_dd, meta=meta, align_dataframes=False)
    with dask_settings():
        got = joined.compute(scheduler="threads")
    pieces = [
        _pandas(small, part, "order", "order") if whole == 0 else _pandas(part, small, "order", "order")
        for part in (parts.get_partition(i).compute() for i in range(4))
    ]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), pd.concat(pieces, ignore_index=True))
    assert probe._built is not None  # one table, built by the first partition and kept for the rest
