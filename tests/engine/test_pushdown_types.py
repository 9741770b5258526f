"""Filters on the column types other tools write (dates, timestamps with and without a zone, decimals,
dictionary-encoded and string_view text, floats with NaN) are pushed into the Parquet reader, with values
folded from literals and parameters (`add_days(date('…'), -90)`), null tests (`is_null`, `not_null`, under
`not`) and chained comparisons (`a <= x <= b`, SQL's BETWEEN): the plan shows it, row groups are skipped on
sorted data, and the rows kept are those the expression language keeps on the same data (nulls included),
in both execution modes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from pushdown_helpers import expected_ids, run

from aqtra_nb import Flow
from aqtra_nb.components.base import Predicate
from aqtra_nb.engine.pushdown import predicates
from aqtra_nb.expr import parse_expression

ROWS = 40


def _table() -> pa.Table:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(ROWS)]  # sorted: row groups prune
    null_every = lambda values, n: [None if i % n == 3 else v for i, v in enumerate(values)]  # noqa: E731
    moments = [dt.datetime(2024, 1, 1, 6) + dt.timedelta(hours=12 * i) for i in range(ROWS)]
    text = ["paid", "shipped", "returned", "open"]
    return pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "day": pa.array(null_every(days, 7), pa.date32()),
            "moment": pa.array(null_every(moments, 9), pa.timestamp("us")),
            "zoned": pa.array(null_every(moments, 11), pa.timestamp("ms", tz="Europe/Berlin")),
            "price": pa.array(
                null_every([Decimal(f"{i * 1.25:.2f}") for i in range(ROWS)], 5), pa.decimal128(10, 2)
            ),
            "status": pa.array(null_every([text[i % 4] for i in range(ROWS)], 6)).dictionary_encode(),
            "mode": pa.array(null_every([text[(i + 1) % 4] for i in range(ROWS)], 8), pa.string_view()),
            # NaN (every 10th) and null (every 7th): both are null to the expression language
            "ratio": pa.array(null_every([float("nan") if i % 10 == 0 else i / 4 for i in range(ROWS)], 7)),
        }
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("types") / "t.parquet"
    pq.write_table(_table(), path, row_group_size=8)
    return path


PARAMS = {
    "start": dt.date(2024, 1, 10),
    "low": 10,
    "modes": ["paid", "open"],
    "days": [dt.date(2024, 1, 5), dt.date(2024, 1, 31)],
}
FULLY = [
    "day >= date('2024-01-10') and day < date('2024-01-20')",
    "day <= add_days(date('2024-02-05'), -10)",
    "day > @start",
    "day in @days",
    "moment >= date('2024-01-05') and moment < date('2024-01-10 12:00')",
    "moment > add_days(date('2024-01-10'), 2)",
    "zoned >= date('2024-01-12')",
    "zoned < date('2024-01-03')",
    "price >= 10 and price <= 20.5",
    "price == 12.5 or price == 12.5",  # an `or`: not pushed (checked below), same rows
    "price in (5, 6.25, 7.5)",
    "status == 'paid'",
    "status in ('shipped', 'open') and price > @low",
    "mode != 'paid'",
    "mode in @modes and day < date('2024-02-01')",
    "is_null(day)",
    "not_null(price) and price < 20",
    "not is_null(zoned)",
    "not not_null(status)",
    "is_null(mode)",
    "not_null(mode) and mode != 'paid'",
    "is_null(ratio)",
    "not_null(ratio) and ratio > 3",
    "ratio != 2.5",  # NaN != 2.5 holds in Arrow, but NaN is null to the expression language
    "date('2024-01-05') <= day <= date('2024-01-20')",
    "10 <= price < 20.5",
    "add_days(date('2024-01-03'), 1) < moment <= add_days(date('2024-01-03'), 9)",
]
NOT_PUSHED = {"price == 12.5 or price == 12.5"}


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize("condition", FULLY)
def test_filters_on_real_types_keep_the_same_rows(data, condition, mode):
    plan, result = run(data, condition, mode, PARAMS)
    want = expected_ids(data, condition, PARAMS)
    assert result["id"].tolist() == want
    assert list(result.columns) == ["id", "day", "moment", "zoned", "price", "status", "mode", "ratio"]


@pytest.mark.parametrize("condition", [c for c in FULLY if c not in NOT_PUSHED])
def test_the_plan_shows_the_pushed_filter(data, condition):
    plan, _ = run(data, condition, "in_memory", PARAMS)
    assert plan.steps["rows"].read_filter is not None
    assert plan.steps["kept"].applied_at_source
    assert "filter pushed into reader" in plan.explain()


def test_a_folded_date_is_shown_as_a_value(data):
    plan, _ = run(data, "day <= add_days(date('2024-02-05'), -10)", "in_memory", PARAMS)
    assert "day <= '2024-01-26T00:00:00'" in plan.explain()


def test_null_tests_and_chained_comparisons_are_shown_in_the_plan(data):
    plan, _ = run(
        data, "not is_null(day) and date('2024-01-05') <= day < date('2024-01-20')", "in_memory", PARAMS
    )
    assert (
        "filter pushed into reader: not_null(day) and day >= '2024-01-05T00:00:00' and "
        "day < '2024-01-20T00:00:00'"
    ) in plan.explain()


@pytest.mark.parametrize(
    ("condition", "null_tests", "found", "whole"),
    [
        ("is_null(a) and b > 1", True, [Predicate("a", "is_null", None), Predicate("b", ">", 1)], True),
        ("is_null(a) and b > 1", False, [Predicate("b", ">", 1)], False),  # a reader without null tests
        ("not not_null(a)", True, [Predicate("a", "is_null", None)], True),
        ("is_null(lower(a))", True, [], False),
        ("1 < a < b", True, [Predicate("a", ">", 1)], False),  # the link between two columns stays
        ("1 < a <= 2", True, [Predicate("a", ">", 1), Predicate("a", "<=", 2)], True),
    ],
)
def test_which_conjuncts_are_offered_to_a_reader(condition, null_tests, found, whole):
    assert predicates(parse_expression(condition), {}, null_tests=null_tests) == (found, whole)


def test_row_groups_without_nulls_are_skipped_by_is_null(tmp_path):
    """Arrow skips the row groups whose statistics count no nulls."""
    path = tmp_path / "nulls.parquet"
    values = [None if i >= 36 else i for i in range(ROWS)]
    pq.write_table(
        pa.table({"id": range(ROWS), "value": pa.array(values, pa.int64())}), path, row_group_size=4
    )
    f = Flow("nulls")
    kept = f.read_parquet("rows", path=str(path)).filter("kept", condition="is_null(value)")
    scan = f.plan().steps["rows"].read_filter.scan
    fragment = next(iter(pads.dataset(path).get_fragments()))
    assert len(fragment.split_by_row_group(filter=scan)) == 1
    assert f.run(progress=False, record=False)[kept.id]["id"].tolist() == [36, 37, 38, 39]


def test_row_groups_outside_a_date_range_are_skipped(tmp_path):
    """On sorted dates (without nulls: Arrow keeps a row group with nulls), only the groups that may hold
    rows of the range are read."""
    path = tmp_path / "sorted.parquet"
    pq.write_table(_table().drop_columns(["moment", "mode"]).drop_null(), path, row_group_size=4)
    f = Flow("sorted")
    f.read_parquet("rows", path=str(path)).filter("kept", condition="day >= date('2024-01-10')")
    scan = f.plan().steps["rows"].read_filter.scan
    fragment = next(iter(pads.dataset(path).get_fragments()))
    kept = fragment.split_by_row_group(filter=scan)
    assert 0 < len(kept) < fragment.metadata.num_row_groups


def test_values_the_column_cannot_hold_exactly_are_left_to_the_filter(data):
    """A decimal with more places than the column's scale, a time of day on a date column: evaluated by
    the filter step, with the same rows as pandas."""
    for condition in ["price > 12.501", "day > date('2024-01-10 12:00')"]:
        plan, result = run(data, condition, "in_memory", PARAMS)
        assert result["id"].tolist() == expected_ids(data, condition, PARAMS)
        assert not plan.steps["kept"].applied_at_source
