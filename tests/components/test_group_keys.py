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
