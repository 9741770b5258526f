"""Text columns a file keeps dictionary-encoded with a small dictionary (flags, codes, categories) are
scanned as Arrow dictionaries, which is several times faster than decoding each value; the frames are the
same as reading the text plainly: pandas' `str` dtype, nulls kept, filters (pushed into the scan, after it
for string_view, against another column) and group-bys giving pandas' rows, in both modes."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow
from aqtra_nb.expr import parse_expression
from aqtra_nb.expr.functions import as_mask

ROWS = 3000
FLAGS = ["A", "N", "R", None]
TEXT = ("flag", "mode", "other", "comment")


def _table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "flag": pa.array([FLAGS[i % 4] for i in range(ROWS)], pa.string_view()),
            "mode": pa.array([["AIR", "MAIL", "SHIP"][i % 3] for i in range(ROWS)], pa.string()),
            "other": pa.array([["A", "MAIL", "N"][i % 3] for i in range(ROWS)], pa.large_string()),
            "comment": pa.array([f"line {i} of the file" for i in range(ROWS)], pa.string_view()),
            "amount": pa.array([float(i % 17) for i in range(ROWS)]),
        }
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("dictionary") / "t.parquet"
    pq.write_table(_table(), path, row_group_size=1000)  # pyarrow writes dictionary pages for all text
    return path


def _plain(data) -> pd.DataFrame:
    """The file as pandas reads its text without dictionaries."""
    schema = _table().schema
    text = pa.schema([f.with_type(pa.large_string()) if f.name in TEXT else f for f in schema])
    return pq.read_table(data).cast(text).to_pandas()


def test_only_text_with_a_small_dictionary_is_scanned_as_dictionaries(data):
    f = Flow("read")
    f.read_parquet("rows", path=str(data))
    scanned = f.plan().steps["rows"].component.dataset.schema
    dictionaries = [field.name for field in scanned if pa.types.is_dictionary(field.type)]
    assert dictionaries == ["flag", "mode", "other"]  # not the comment: one distinct value per row


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_the_frame_is_the_same_as_reading_text_plainly(data, mode):
    f = Flow("read")
    rows = f.read_parquet("rows", path=str(data))
    frame = f.run(progress=False, record=False, mode=mode)[rows.id].reset_index(drop=True)
    assert [str(t) for t in frame.dtypes] == ["int64", "str", "str", "str", "str", "float64"]
    pd.testing.assert_frame_equal(frame, _plain(data), check_dtype=False)
    assert frame["flag"].isna().sum() == ROWS // 4


CONDITIONS = [
    "flag == 'N'",
    "flag in ('A', 'R') and mode != 'MAIL'",
    "mode > 'AIR'",
    "is_null(flag)",
    "flag == other",
    "mode < other and amount > 3",
]


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize("condition", CONDITIONS)
def test_filters_on_dictionary_text_keep_pandas_rows(data, condition, mode):
    f = Flow("filter")
    kept = f.read_parquet("rows", path=str(data)).filter("kept", condition=condition)
    result = f.run(progress=False, record=False, mode=mode)[kept.id]
    frame = _plain(data)
    want = frame.loc[as_mask(parse_expression(condition).evaluate(frame, {})), "id"].tolist()
    assert result["id"].tolist() == want


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_group_by_dictionary_text(data, mode):
    f = Flow("groups")
    sums = f.read_parquet("rows", path=str(data)).aggregate(
        "sums", by=["flag", "mode"], aggregations={"total": "sum(amount)", "n": "count()"}
    )
    result = f.run(progress=False, record=False, mode=mode)[sums.id]
    got = result.sort_values(["flag", "mode"], na_position="last", ignore_index=True)
    frame = _plain(data)
    want = (
        frame.groupby(["flag", "mode"], dropna=False)
        .agg(total=("amount", "sum"), n=("amount", "size"))
        .reset_index()
        .sort_values(["flag", "mode"], na_position="last", ignore_index=True)
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
