"""Aggregating a large frame by text keys (grouped by integer codes) gives what pandas' group-by gives:
the same groups in order of first appearance, null keys as a group, the same dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aqtra_nb import Flow
from aqtra_nb.components import group_keys


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "flag": pd.Series(rng.choice(["A", "N", "R", None], rows), dtype="str"),
            "status": pd.Series(rng.choice(["F", "O", None], rows), dtype="str"),
            "amount": rng.random(rows),
            "qty": rng.integers(0, 50, rows),
        }
    )


@pytest.mark.parametrize("by", [["flag"], ["flag", "status"], ["status", "qty"]])
def test_grouping_large_frames_by_text_matches_pandas(by):
    frame = _frame(group_keys.CODED_ROWS + 1000)
    f = Flow("groups")
    totals = f.from_frame("rows", frame).aggregate(
        "totals",
        by=by,
        aggregations={"revenue": "sum(amount * 2)", "n": "count()", "distinct_qty": "count_distinct(qty)"},
    )
    got = f.run(progress=False, record=False, mode="in_memory")[totals.id]
    want = (
        frame.assign(twice=frame.amount * 2)
        .groupby(by, dropna=False, sort=False)
        .agg(revenue=("twice", "sum"), n=("twice", "size"), distinct_qty=("qty", "nunique"))
        .reset_index()
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)


def _keys(rows: int, values: list) -> pd.Series:
    return pd.Series(np.random.default_rng(3).choice(np.array(values, dtype=object), rows), dtype="str")


@pytest.mark.parametrize(
    ("first", "second", "bytes_read"),
    [
        (["A", "N", "R"], ["F", "O"], (True, True)),  # TPC-H's flags: codes from the bytes
        (["A", "N", "R"], ["F", "O", ""], (True, False)),  # an empty text: encoded
        (["A", "é", "R"], ["FO", "O"], (False, False)),  # two bytes, two characters: encoded
        (["A", None, "R"], ["F", "O"], (False, True)),  # nulls: encoded
    ],
)
def test_single_character_keys_group_as_pandas_does(first, second, bytes_read):
    rows = group_keys.CODED_ROWS + 1000
    frame = pd.DataFrame({"a": _keys(rows, first), "b": _keys(rows, second)[::-1].reset_index(drop=True)})
    frame["v"] = np.arange(rows) % 7
    frame = frame.iloc[7:]  # Arrow arrays that start at an offset
    taken = tuple(
        group_keys._single_characters(group_keys._arrow_text(frame[c])) is not None for c in ("a", "b")
    )
    assert taken == bytes_read
    f = Flow("flags")
    totals = f.from_frame("rows", frame).aggregate("totals", by=["a", "b"], aggregations={"s": "sum(v)"})
    got = f.run(progress=False, record=False, mode="in_memory")[totals.id]
    want = frame.groupby(["a", "b"], dropna=False, sort=False).agg(s=("v", "sum")).reset_index()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
