"""In-memory runs read a Parquet input as chunks of row groups on several threads (each chunk filtered and
cast on its own thread, then one table): the frame is the one a single whole-file read gives, for every
column type, pushed filter (string_view conditions applied after the scan), pandas-written nullable
dtypes and hive directories, in the files' row order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow
from aqtra_nb.components import arrow, inputs

ROWS = 60


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """Decimals, dates, zoned timestamps, dictionary and string_view text and floats, with nulls, in row
    groups of 6 rows."""
    rng = np.random.default_rng(3)
    null = lambda values, n: [None if i % n == 2 else v for i, v in enumerate(values)]  # noqa: E731
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 90, ROWS)]
    moments = [dt.datetime(2024, 3, 1) + dt.timedelta(hours=int(h)) for h in rng.integers(0, 900, ROWS)]
    words = ["paid", "open", "shipped"]
    table = pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "price": pa.array(
                null([Decimal(f"{v:.2f}") for v in rng.uniform(0, 50, ROWS)], 5), pa.decimal128(9, 2)
            ),
            "day": pa.array(null(days, 7), pa.date32()),
            "at": pa.array(null(moments, 4), pa.timestamp("ms", tz="Europe/Berlin")),
            "status": pa.array(null([words[i % 3] for i in range(ROWS)], 6)).dictionary_encode(),
            "mode": pa.array(null([words[(i * 7) % 3] for i in range(ROWS)], 8), pa.string_view()),
            "ratio": pa.array(null(list(rng.normal(size=ROWS)), 9)),
        }
    )
    path = tmp_path_factory.mktemp("chunks") / "typed.parquet"
    pq.write_table(table, path, row_group_size=6)
    return path


@pytest.fixture
def chunked(monkeypatch):
    """Chunks of one or two row groups; the sizes of the thread maps run are recorded."""
    monkeypatch.setattr(inputs, "ROWS_PER_CHUNK", 10)
    sizes: list[int] = []
    mapped = arrow.thread_map

    def recording(function, items):
        sizes.append(len(items))
        return mapped(function, items)

    monkeypatch.setattr(arrow, "thread_map", recording)
    return sizes


def _run(path, condition: str | None, **options) -> pd.DataFrame:
    f = Flow("chunks")
    step = f.read_parquet("rows", path=str(path), **options)
    if condition is not None:
        step = step.filter("kept", condition=condition)
    return f.run(progress=False, record=False, mode="in_memory", cache=False)[step.id]


CONDITIONS = [
    None,
    "price >= 10 and price < 30",
    "day >= date('2024-02-01') and not_null(at)",
    "mode == 'open'",  # string_view: applied to each chunk after its scan
    "status in ('paid', 'shipped') and mode != 'paid' and ratio > 0",
    "id >= 1000",  # no row group left
]


@pytest.mark.parametrize("condition", CONDITIONS)
def test_a_chunked_read_equals_a_whole_read(typed, condition, chunked, monkeypatch):
    got = _run(typed, condition)
    monkeypatch.setattr(inputs, "ROWS_PER_CHUNK", 10**9)
    whole = _run(typed, condition)
    pd.testing.assert_frame_equal(got, whole)
    if condition is None:
        assert max(chunked) == 5  # 10 row groups of 6 rows, two by two
        assert got["id"].tolist() == list(range(ROWS))  # in the file's order


def test_pandas_written_dtypes_come_back_from_chunks(tmp_path, chunked):
    """Nullable integers and booleans and dates pandas wrote (its schema metadata) survive the chunks'
    casts."""
    frame = pd.DataFrame(
        {
            "n": pd.array([i if i % 4 else None for i in range(40)], "Int64"),
            "ok": pd.array([bool(i % 3) if i % 5 else None for i in range(40)], "boolean"),
            "day": pd.date_range("2024-01-01", periods=40).astype("datetime64[s]"),
            "price": np.arange(40) / 4,
        }
    )
    path = tmp_path / "pandas.parquet"
    frame.to_parquet(path, row_group_size=7, index=False)
    got = _run(path, "price > 1")
    assert max(chunked) > 1
    pd.testing.assert_frame_equal(got, frame[frame["price"] > 1].reset_index(drop=True))


def test_a_hive_directory_is_read_in_chunks(tmp_path, chunked):
    table = pa.table({"id": range(30), "region": [("North", "South", "East")[i % 3] for i in range(30)]})
    pq.write_to_dataset(table, tmp_path / "by_region", partition_cols=["region"], row_group_size=4)
    got = _run(tmp_path / "by_region", "region != 'East'")
    assert max(chunked) > 1
    expected = table.to_pandas()
    expected = expected[expected["region"] != "East"].sort_values("id", ignore_index=True)
    assert sorted(got["id"]) == expected["id"].tolist()
    pd.testing.assert_frame_equal(got.sort_values("id", ignore_index=True), expected, check_dtype=False)
    assert got["region"].dtype == "str"
