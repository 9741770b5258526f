"""Readers say what is wrong with a file in plain words: not found (with the closest name), a folder, a
glob matching nothing; naming step, field and path, and nothing of Dask's dispatch (#15, #18)."""

from __future__ import annotations

import pandas as pd
import pytest

from aqtra_nb import AqtraError, Flow


def failure(tmp_path, component: str, path: str) -> str:
    f = Flow("files")
    getattr(f, component)("data", path=path)
    f.spec.located(str(tmp_path / "files.flow.yaml"), tmp_path)
    with pytest.raises(AqtraError) as info:
        f.run(record=False, progress=False)
    assert (info.value.step, info.value.field) == ("data", "path")
    text = str(info.value)
    assert "backend" not in text and "Original Message" not in text and "Errno" not in text
    return text


@pytest.mark.parametrize(
    ("component", "kind"),
    [("read_csv", "CSV"), ("read_parquet", "Parquet"), ("read_json", "JSON"), ("read_excel", "Excel")],
)
def test_a_missing_file_is_not_found(tmp_path, component, kind):
    text = failure(tmp_path, component, "nowhere.data")
    assert f"{kind} file not found: {tmp_path / 'nowhere.data'}." in text


def test_a_missing_parquet_file_by_absolute_path_says_not_found(tmp_path):
    text = failure(tmp_path, "read_parquet", "/p/x.parquet")
    assert "Parquet file not found: /p/x.parquet" in text


def test_a_misspelt_name_gets_the_closest_file_of_its_folder(tmp_path):
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "orders.json").write_text("[]")
    text = failure(tmp_path, "read_csv", "ordres.csv")
    assert text.endswith("Did you mean 'orders.csv'?")


def test_a_glob_matching_nothing_and_a_folder(tmp_path):
    assert f"no file matches {tmp_path / 'orders-*.csv'}" in failure(tmp_path, "read_csv", "orders-*.csv")
    (tmp_path / "folder").mkdir()
    assert "folder is a folder, not a CSV file" in failure(tmp_path, "read_csv", "folder")


def test_a_step_failure_from_a_dask_dispatch_error_shows_the_original():
    from aqtra_nb.components.base import step_failed

    try:
        try:
            raise ValueError("bad value")
        except ValueError as inner:
            raise ValueError(
                "An error occurred while calling the read_csv method registered to the pandas backend.\n"
                "Original Message: bad value"
            ) from inner
    except ValueError as wrapped:
        error = step_failed(wrapped, "orders", "read_csv")
    assert str(error) == "step 'orders': read_csv failed: ValueError: bad value"


def test_a_missing_sample_table_names_the_command_that_makes_it(tmp_path):
    text = failure(tmp_path, "read_parquet", "data/orders.parquet")
    assert text.endswith(
        f"It is one of the sample tables: make them with `aqtra-nb sample-data {tmp_path / 'data'} "
        "--format parquet`."
    )
    assert "sample-data" not in failure(tmp_path, "read_csv", "data/invoices.csv")


def test_a_value_further_down_a_csv_than_its_guessed_types_names_step_column_and_fix(tmp_path):
    """Dask guesses a CSV's types from its first block and fails in a later block's own read task: the
    error is the reader step's, with the column, a value and the `dtypes` that fixes it."""
    rows = pd.DataFrame({"code": [str(i) for i in range(200_000)], "amount": 1.5})
    rows.loc[len(rows) - 3, "code"] = "X-17"
    rows.to_csv(tmp_path / "codes.csv", index=False)
    f = Flow("codes")
    f.read_csv("codes", path=str(tmp_path / "codes.csv"), blocksize="256KB").derive(
        "d", columns={"y": "amount"}
    )
    with pytest.raises(AqtraError) as info:
        f.run(record=False, progress=False, mode="partitioned", cache=False)
    assert (info.value.step, info.value.field) == ("codes", "dtypes")
    text = str(info.value)
    assert "column 'code' was read as whole numbers but holds text (such as 'X-17')" in text
    assert "codes.csv" in text and "dtypes: {code: string}" in text and "Mismatched" not in text
    fixed = Flow("codes")
    fixed.read_csv("codes", path=str(tmp_path / "codes.csv"), blocksize="256KB", dtypes={"code": "string"})
    assert (
        fixed.run(record=False, progress=False, mode="partitioned", cache=False)["codes"]["code"].iloc[-3]
        == "X-17"
    )
