"""Large tables are cast to the normal schema chunk by chunk on several threads; the frame is the one a
single `cast` gives (values, nulls, dtypes, chunk boundaries)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa

from aqtra_nb.components import arrow


def _chunk(start: int, rows: int) -> pa.RecordBatch:
    ids = range(start, start + rows)
    return pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "price": pa.array(
                [None if i % 97 == 0 else Decimal(i % 10_000) / 100 for i in ids], pa.decimal128(12, 2)
            ),
            "day": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i % 1000) for i in ids], pa.date32()),
            "text": pa.array([f"t{i % 7}" for i in ids], pa.string_view()),
        }
    )


def test_a_large_table_casts_in_parallel_to_the_same_frame():
    rows = arrow.PARALLEL_CAST_ROWS // 3 + 1
    table = pa.Table.from_batches([_chunk(k * rows, rows) for k in range(4)])
    assert table.num_rows >= arrow.PARALLEL_CAST_ROWS and table.column("price").num_chunks == 4
    got = arrow.to_pandas(table)
    want = table.cast(arrow.normal_schema(table.schema)).to_pandas(ignore_metadata=True)
    pd.testing.assert_frame_equal(got, want)
    assert got["price"].dtype == "float64" and got["day"].dtype == "datetime64[s]"
    assert got["price"].isna().sum() == sum(1 for i in range(table.num_rows) if i % 97 == 0)
