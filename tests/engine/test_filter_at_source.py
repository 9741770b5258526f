"""A filter whose whole condition the Parquet reader applies passes the reader's rows on instead of
evaluating the condition again; the rows are the same as evaluating it in pandas (nulls, NaN, strings,
`in`, flipped comparisons, parameters), in both execution modes. A condition with anything the reader
cannot apply is still evaluated in full."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow

FRAME = pd.DataFrame(
    {
        "id": np.arange(12),
        "amount": [5.0, 150.0, np.nan, 300.0, 100.0, None, 99.9, 1e6, -1.0, 100.0, 250.0, 120.0],
        "qty": pd.array([1, 2, None, 4, 5, 6, 7, None, 9, 10, 11, 12], dtype="Int64"),
        "status": [
            "paid",
            "shipped",
            "paid",
            None,
            "paid",
            "returned",
            "paid",
            "shipped",
            "x",
            "paid",
            "",
            "paid",
        ],
        "flag": pd.array(
            [True, False, None, True, True, False, True, True, False, None, True, True], dtype="boolean"
        ),
    }
)


@pytest.fixture
def data(tmp_path):
    pq.write_table(
        pa.Table.from_pandas(FRAME, preserve_index=False), tmp_path / "t.parquet", row_group_size=3
    )
    return tmp_path / "t.parquet"


def run(data, condition: str, mode: str, **params):
    f = Flow("at_source", parameters={"low": 100.0, "states": ["paid", "shipped"]})
    kept = f.read_parquet("rows", path=str(data)).filter("kept", condition=condition)
    plan = f.plan(**params)
    result = f.run(progress=False, record=False, mode=mode, **params)[kept.id]
    return plan.steps[kept.id].applied_at_source, result.reset_index(drop=True)


def expected(mask) -> pd.DataFrame:
    return FRAME[mask.fillna(False).astype(bool)].reset_index(drop=True)


FULLY = [
    (
        "amount >= 100 and status in ('paid', 'shipped')",
        lambda: (FRAME.amount >= 100) & FRAME.status.isin(["paid", "shipped"]),
    ),
    ("100 <= amount", lambda: FRAME.amount >= 100),
    (
        "amount >= @low and status != 'paid'",
        lambda: (FRAME.amount >= 100) & FRAME.status.ne("paid") & FRAME.status.notna(),
    ),
    ("status in @states and qty > 3", lambda: FRAME.status.isin(["paid", "shipped"]) & (FRAME.qty > 3)),
    ("flag == true and qty < 10", lambda: (FRAME.flag == True) & (FRAME.qty < 10)),  # noqa: E712
]
PARTLY = [
    ("amount >= 100 or status == 'x'", lambda: (FRAME.amount >= 100) | (FRAME.status == "x")),
    ("amount >= 100 and len(status) > 3", lambda: (FRAME.amount >= 100) & (FRAME.status.str.len() > 3)),
    ("amount * 2 >= 200 and qty > 1", lambda: (FRAME.amount * 2 >= 200) & (FRAME.qty > 1)),
]


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize(("condition", "mask"), FULLY)
def test_a_condition_the_reader_applies_entirely_is_not_evaluated_again(data, condition, mask, mode):
    applied, result = run(data, condition, mode)
    assert applied
    want = expected(mask())
    assert len(want) > 0
    assert result["id"].tolist() == want["id"].tolist()
    assert list(result.columns) == list(FRAME.columns)


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize(("condition", "mask"), PARTLY)
def test_a_condition_with_other_parts_is_still_evaluated(data, condition, mask, mode):
    applied, result = run(data, condition, mode)
    assert not applied
    assert result["id"].tolist() == expected(mask())["id"].tolist()


def test_the_plan_says_so(data):
    f = Flow("explain")
    f.read_parquet("rows", path=str(data)).filter("kept", condition="amount > 1")
    assert "condition applied entirely by the reader" in f.plan().explain()
