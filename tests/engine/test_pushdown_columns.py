"""A comparison of two columns of the same row (TPC-H Q4's `l_commitdate < l_receiptdate`) is pushed into
the Parquet reader where Arrow compares the two column types as pandas compares the columns they become
(dates, timestamps, decimals, numbers with NaN, text, string_view text after the scan); the rows kept are
those the expression language keeps in pandas, nulls included, in both execution modes; and the compared
columns are not read when nothing after the filter needs them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pushdown_helpers import expected_ids, run

from aqtra_nb import Flow
from aqtra_nb.components.base import OtherColumn, Predicate
from aqtra_nb.engine.pushdown import predicates
from aqtra_nb.expr import parse_expression

ROWS = 48


def _nulls(values: list, every: int) -> list:
    return [None if i % every == 3 else v for i, v in enumerate(values)]


def _table() -> pa.Table:
    day = dt.date(2024, 1, 1)
    moment = dt.datetime(2024, 1, 1, 6)
    words = ["open", "paid", "returned", "shipped", "Paid", ""]
    return pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "commit": pa.array(_nulls([day + dt.timedelta(days=i % 9) for i in range(ROWS)], 7), pa.date32()),
            "receipt": pa.array(_nulls([day + dt.timedelta(days=i % 5) for i in range(ROWS)], 11)),
            "start": pa.array(
                _nulls([moment + dt.timedelta(hours=5 * (i % 7)) for i in range(ROWS)], 9), pa.timestamp("us")
            ),
            "end": pa.array(
                _nulls([moment + dt.timedelta(hours=7 * (i % 5)) for i in range(ROWS)], 8), pa.timestamp("us")
            ),
            "cost": pa.array(_nulls([Decimal(i % 6) / 4 for i in range(ROWS)], 5), pa.decimal128(10, 2)),
            "price": pa.array(_nulls([Decimal(i % 4) / 2 for i in range(ROWS)], 6), pa.decimal128(12, 3)),
            # NaN (every 10th) and null: both are null to the expression language
            "low": pa.array(_nulls([float("nan") if i % 10 == 0 else i % 7 for i in range(ROWS)], 7)),
            "high": pa.array(_nulls([float(i % 5) for i in range(ROWS)], 9)),
            "count": pa.array(_nulls([i % 6 for i in range(ROWS)], 13), pa.int64()),
            "mode": pa.array(_nulls([words[i % 6] for i in range(ROWS)], 8), pa.string_view()),
            "plain": pa.array(_nulls([words[(i * 5) % 6] for i in range(ROWS)], 10), pa.string()),
            "label": pa.array(_nulls([words[i % 4] for i in range(ROWS)], 12), pa.large_string()),
            "status": pa.array(_nulls([words[i % 3] for i in range(ROWS)], 6)).dictionary_encode(),
        }
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("pairs") / "t.parquet"
    pq.write_table(_table(), path, row_group_size=10)
    return path


PUSHED = [
    "commit < receipt",
    "commit >= receipt",
    "receipt == commit",
    "start != end",
    "start <= end and commit > receipt",
    "cost <= price",
    "cost != price",
    "low < high",
    "low != high",
    "low == high",
    "count > high",
    "count <= low",
    "plain < label",
    "plain != label",
    "mode == plain",  # string_view: compared after the scan
    "mode > label and cost < price",
    "commit <= receipt <= date('2024-01-04')",
]
NOT_PUSHED = [
    "commit < start",  # a date and a timestamp: pandas compares them, Arrow would not
    "status == plain",  # dictionary text
    "cost < high",  # a decimal and a float
]


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize("condition", PUSHED + NOT_PUSHED)
def test_comparisons_of_two_columns_keep_the_same_rows(data, condition, mode):
    plan, result = run(data, condition, mode)
    assert result["id"].tolist() == expected_ids(data, condition)
    assert list(result.columns) == _table().column_names


@pytest.mark.parametrize("condition", PUSHED)
def test_comparisons_of_two_columns_are_pushed(data, condition):
    plan, _ = run(data, condition, "in_memory")
    assert plan.steps["kept"].applied_at_source
    assert "filter pushed into reader" in plan.explain()


@pytest.mark.parametrize("condition", NOT_PUSHED)
def test_types_arrow_compares_otherwise_are_left_to_the_filter(data, condition):
    plan, _ = run(data, condition, "in_memory")
    assert plan.steps["rows"].read_filter is None
    assert not plan.steps["kept"].applied_at_source


def test_the_plan_names_both_columns(data):
    plan, _ = run(data, "commit < receipt", "in_memory")
    assert "filter pushed into reader: commit < receipt" in plan.explain()


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_columns_only_the_condition_uses_are_not_read(data, mode):
    """TPC-H Q4's late lines: only the key goes on, so the two dates are tested inside the scan and never
    become pandas columns."""
    f = Flow("late")
    late = f.read_parquet("rows", path=str(data)).filter(
        "late", condition="commit < receipt and mode == plain"
    )
    keys = late.select("keys", columns=["id"])
    plan = f.plan()
    assert plan.steps["rows"].read_columns == ["id"]
    assert plan.steps["late"].applied_at_source
    result = f.run(progress=False, record=False, mode=mode)[keys.id]
    assert result["id"].tolist() == expected_ids(data, "commit < receipt and mode == plain")


@pytest.mark.parametrize(
    ("columns", "found", "whole"),
    [
        (True, [Predicate("a", "<", OtherColumn("b")), Predicate("b", "<=", 2)], True),
        (False, [Predicate("b", "<=", 2)], False),  # a reader that does not compare columns
    ],
)
def test_column_comparisons_are_offered_to_readers_that_take_them(columns, found, whole):
    condition = parse_expression("a < b <= 2")
    assert predicates(condition, {}, columns=columns) == (found, whole)
