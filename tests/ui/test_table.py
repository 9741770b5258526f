"""Server-side filtering, sorting and paging agree with pandas, and a page touches only its rows."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from aqtra_nb.ui import DataGrid
from aqtra_nb.ui.table import FilterError, TableQuery, sort_key, sorted_positions


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 5_000
    values = rng.integers(0, 50, n).astype(float)  # many ties
    values[rng.random(n) < 0.05] = np.nan  # and nulls
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "value": values,
            "region": pd.Series(rng.choice(["North", "South", "East", None], n), dtype="str"),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"]),
            "day": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
        }
    )


@pytest.mark.parametrize("column", ["value", "region", "size", "day", "id"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("k", [None, 1, 37, 1_000])
def test_sorted_positions_are_pandas_stable_sort(frame, column, descending, k):
    expected = frame[column].sort_values(ascending=not descending, kind="stable", na_position="last").index
    got = sorted_positions(sort_key(frame[column]), descending, k)
    assert list(got) == list(expected[: len(got)])
    assert len(got) == (len(frame) if k is None else k)


def test_query_filters_sorts_and_pages_like_pandas(frame):
    query = TableQuery(frame)
    query.set_filters(["value > @low", "region != 'East'"], {"low": 10})
    query.set_sort("value", descending=True)
    # the expression language's null semantics: a comparison with null is unknown, so the row is left out
    expected = frame[(frame["value"] > 10) & frame["region"].notna() & (frame["region"] != "East")]
    expected = expected.sort_values("value", ascending=False, kind="stable")
    assert query.total == len(expected)
    for start in (0, 20, query.total - 7):
        page, positions = query.page(start, start + 20)
        assert list(positions) == list(expected.index[start : start + 20])
        pd.testing.assert_frame_equal(page, expected.iloc[start : start + 20])


def test_a_bad_filter_raises_and_keeps_the_previous_one(frame):
    query = TableQuery(frame)
    query.set_filters(["value >= 40"])
    before = query.total
    with pytest.raises(FilterError, match="unknown column 'valeu'.*Did you mean 'value'"):
        query.set_filters(["valeu > 1"])
    with pytest.raises(FilterError):
        query.set_filters(["__import__('os')"])
    assert query.total == before


def test_grid_sends_only_the_page(frame):
    grid = DataGrid(frame, page_size=25)
    assert len(grid.rows) == 25 and grid.total_rows == len(frame) and grid.source_rows == len(frame)
    assert grid.row_ids == list(range(25))
    assert [c["name"] for c in grid.columns] == list(frame.columns)
    assert {c["name"]: c["kind"] for c in grid.columns}["value"] == "number"
    grid.page = 3
    assert grid.row_ids == list(range(75, 100))
    assert grid.rows[0][0] == "75"
    grid.page = 10_000  # past the end: the last page
    assert grid.page == grid.pages - 1 == 199 and grid.row_ids == list(range(4975, 5000))


def test_grid_sort_filter_selection(frame):
    grid = DataGrid(frame, page_size=10, filters=["region == 'North'"])
    north = frame[frame["region"] == "North"]
    assert grid.total_rows == len(north)
    grid.sort_by, grid.sort_descending = "value", True
    expected = north.sort_values("value", ascending=False, kind="stable")
    assert grid.row_ids == list(expected.index[:10])
    pd.testing.assert_frame_equal(grid.page_frame, expected.iloc[:10])
    grid.page = 2
    grid.filter = "value < 5"  # a user's filter: back to the first page
    both = expected[expected["value"] < 5]
    assert grid.page == 0 and grid.total_rows == len(both) and grid.row_ids == list(both.index[:10])
    grid.filter = "value <"
    assert "value <" in grid.filter_error or "invalid" in grid.filter_error.lower()
    assert grid.total_rows == len(both)  # the last good filter stays
    grid.filter = ""
    assert grid.filter_error == "" and grid.total_rows == len(north)
    grid.selection = [int(north.index[0]), int(north.index[3])]
    pd.testing.assert_frame_equal(grid.selected, frame.take(grid.selection))


def test_grid_params_and_new_data(frame):
    grid = DataGrid(frame, filters=["value >= @minimum"], params={"minimum": 45})
    assert grid.total_rows == int((frame["value"] >= 45).sum())
    grid.params = {"minimum": 0}
    assert grid.total_rows == int(frame["value"].notna().sum())
    grid.sort_by = "region"
    grid.data = frame[["id", "value"]].head(3)  # the sort column went away: unsorted
    assert grid.sort_by == "" and grid.total_rows == 3 and grid.source_rows == 3


def test_cells_are_display_text():
    grid = DataGrid(
        pd.DataFrame(
            {
                "amount": [1234.5, None],
                "n": pd.array([3, None], dtype="Int64"),
                "day": pd.to_datetime(["2024-05-01", None]),
                "name": ["a", None],
            }
        ),
        formats={"amount": "{:.1f}"},
    )
    assert grid.rows == [["1234.5", "3", "2024-05-01", "a"], [None, None, None, None]]


def test_million_rows_stay_responsive():
    n = 1_000_000
    rng = np.random.default_rng(1)
    big = pd.DataFrame({"x": rng.random(n), "g": rng.integers(0, 10, n)})
    started = time.perf_counter()
    grid = DataGrid(big, page_size=50)
    grid.sort_by = "x"
    grid.page = 5
    grid.filter = "g == 3"
    elapsed = time.perf_counter() - started
    expected = big[big["g"] == 3].sort_values("x", kind="stable")
    assert grid.row_ids == list(expected.index[:50])
    assert elapsed < 5, f"took {elapsed:.2f} s"  # typically well under a second
