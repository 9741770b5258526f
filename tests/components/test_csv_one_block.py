"""`read_csv` of one small local file reads it with pandas alone (no `dask.dataframe`, #18 item 10); what it
plans and reads must be exactly what Dask's `read_csv` gives (dtypes from the first 10 rows, one block)."""

from __future__ import annotations

import pandas as pd
import pytest

from aqtra_nb.components.base import InputComponent, StepContext, dask_settings
from aqtra_nb.components.inputs import ReadCsv

CASES = {
    "plain": ("region,amount,qty\nnorth,10.5,2\nsouth,20.0,3\n", {}),
    "nulls": ("a,b,c\n1,,x\n2,3.5,\n,4,z\n", {}),
    "forced types and dates": (
        "id,day,at,flag,n\n1,2024-01-02,2024-01-02 10:30,true,3\n2,2024-02-03,2024-02-03,false,\n",
        {"dtypes": {"id": "string", "flag": "boolean", "n": "integer", "day": "date"}, "parse_dates": ["at"]},
    ),
    "separator and skipped lines": ("junk\nmore junk\nx;y\n1;a\n2;b\n", {"separator": ";", "skip_rows": 2}),
    "columns": ("a,b,c\n1,2,3\n4,5,6\n", {"columns": ["c", "a"]}),
    "header only": ("a,b\n", {}),
    # an integer column for 10 rows, then a float: Dask casts to the head's int64 and refuses the block
    "type changes after the sample": ("n\n" + "1\n" * 10 + "1.5\n", {}),
}


def component(folder, text: str, params: dict, blocksize: str = "64MB") -> ReadCsv:
    (folder / "data.csv").write_text(text)
    ctx = StepContext(step_id="read", component="read_csv", base_dir=folder)
    return ReadCsv(ReadCsv.Params(path="data.csv", blocksize=blocksize, **params), ctx)


def by_dask(reader: ReadCsv) -> tuple[pd.DataFrame, pd.DataFrame | str]:
    """The schema and the frame (or the error's type) as the Dask path gives them (with the engine's Dask
    settings)."""
    with dask_settings():
        return _by_dask(reader)


def _by_dask(reader: ReadCsv) -> tuple[pd.DataFrame, pd.DataFrame | str]:
    schema = reader._frame(reader.params.columns)._meta
    try:
        frame = InputComponent.read_pandas(reader, None)
    except Exception as exc:
        frame = type(exc).__name__
    return schema, frame


@pytest.mark.parametrize("case", list(CASES))
def test_one_small_file_is_read_as_dask_reads_it(tmp_path, case):
    text, params = CASES[case]
    reader = component(tmp_path, text, params)
    assert reader._one_block() is not None
    schema, frame = by_dask(reader)
    pd.testing.assert_frame_equal(reader.read_schema(), schema)
    if isinstance(frame, str):
        with pytest.raises(Exception) as raised:
            reader.read_pandas(None)
        assert type(raised.value).__name__ == frame
    else:
        pd.testing.assert_frame_equal(reader.read_pandas(None), frame)
        pd.testing.assert_frame_equal(
            reader.read_pandas(["b"] if "b" in frame else None), frame[["b"]] if "b" in frame else frame
        )


def test_files_dask_reads_in_blocks_or_by_glob_go_through_dask(tmp_path):
    assert component(tmp_path, "a\n" + "1\n" * 100, {}, blocksize="100B")._one_block() is None
    (tmp_path / "other.csv").write_text("a\n1\n")
    reader = component(tmp_path, "a\n2\n", {})
    reader.params.path = "*.csv"
    assert reader._one_block() is None
    assert sorted(reader.read_pandas(None)["a"]) == [1, 2]


def test_a_missing_file_says_so_as_before(tmp_path):
    ctx = StepContext(step_id="read", component="read_csv", base_dir=tmp_path)
    reader = ReadCsv(ReadCsv.Params(path="nope.csv"), ctx)
    with pytest.raises(Exception, match="not found"):
        reader.read_schema()
