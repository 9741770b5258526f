"""Input components (read_csv, read_parquet, read_json, read_excel, from_frame, empty, sample_data) against
pandas' own readers."""

from __future__ import annotations

import datetime as dt
import decimal
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import AqtraError, Flow, FlowValidationError, StepFailed, UnknownColumn, datasets
from aqtra_nb.column_kinds import dtype_of
from aqtra_nb.engine.partitioned import build_frames


def read(component, **params):
    f = Flow("t")
    f.add("read", component, **params)
    return f.run(progress=False)["read"]


def partitions(flow, step):
    return build_frames(flow.plan())[0][step].npartitions


def no_object_columns(frame):
    return [c for c, dtype in frame.dtypes.items() if dtype == np.dtype(object)] == []


# -- read_csv ---------------------------------------------------------------------------------------------


def test_read_csv_sales_in_several_blocks(sales_dir, assert_same):
    path = sales_dir / "orders.csv"
    f = Flow("t")
    f.read_csv("read", path=str(path), parse_dates=["order_date"], blocksize="16kB")
    assert partitions(f, "read") > 3
    out = f.run(progress=False)["read"]
    assert_same(out, pd.read_csv(path, parse_dates=["order_date"]))
    assert out["order_date"].dtype == "datetime64[us]" and out["region"].dtype == "str"


@pytest.mark.filterwarnings("ignore:Unexpected behavior can result from passing skiprows:UserWarning")
def test_read_csv_skip_rows_and_separator_in_several_blocks(sales_dir, tmp_path, assert_same):
    path = tmp_path / "orders.txt"
    text = (sales_dir / "orders.csv").read_text().replace(",", "|")
    path.write_text("report of all orders\n\nexported 2025-01-01\n" + text)
    f = Flow("t")
    f.read_csv(
        "read", path=str(path), separator="|", skip_rows=3, parse_dates=["order_date"], blocksize="20kB"
    )
    assert partitions(f, "read") > 3
    expected = pd.read_csv(path, sep="|", skiprows=3, parse_dates=["order_date"])
    assert_same(f.run(progress=False)["read"], expected)


def test_read_csv_relative_to_the_flow_file(sales_dir, tmp_path, assert_same):
    (tmp_path / "data").mkdir()
    shutil.copy(sales_dir / "regions.csv", tmp_path / "data" / "regions.csv")
    f = Flow("t")
    f.read_csv("read", path="data/regions.csv")
    f.save(tmp_path / "regions.flow.yaml")
    out = Flow.load(tmp_path / "regions.flow.yaml").run(progress=False)["read"]
    assert_same(out, pd.read_csv(sales_dir / "regions.csv"))


@pytest.fixture
def odd_csv(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "exported by a tool\n"
        "second preamble line\n"
        "id;name;when;score;flag\n"
        "1;Anna;2024-01-02;1.5;yes\n"
        "2;Bert;2024-02-03 10:30;;no\n"
        "3;;2024-03-04;2.5;true\n"
        "4;Dora;;7;0\n",
        encoding="utf-8",
    )
    return path


def test_read_csv_separator_skip_rows_parse_dates_and_columns(odd_csv, assert_same):
    out = read(
        "read_csv",
        path=str(odd_csv),
        separator=";",
        skip_rows=2,
        parse_dates=["when"],
        columns=["when", "id"],
    )
    expected = pd.read_csv(odd_csv, sep=";", skiprows=2, usecols=["id", "when"])[["when", "id"]]
    expected["when"] = pd.to_datetime(expected["when"], format="ISO8601")
    assert_same(out, expected)
    assert out["when"].dtype == "datetime64[us]"


def test_read_csv_dtypes(odd_csv, assert_same):
    types = {"id": "number", "name": "string", "when": "date", "score": "number", "flag": "string"}
    out = read("read_csv", path=str(odd_csv), separator=";", skip_rows=2, dtypes=types)
    expected = pd.DataFrame(
        {
            "id": [1.0, 2.0, 3.0, 4.0],
            "name": pd.array(["Anna", "Bert", None, "Dora"], "str"),
            "when": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04", None]).astype("datetime64[s]"),
            "score": [1.5, np.nan, 2.5, 7.0],
            "flag": pd.array(["yes", "no", "true", "0"], "str"),
        }
    )
    assert_same(out, expected)
    assert {c: str(t) for c, t in out.dtypes.items()} == {c: dtype_of(k) for c, k in types.items()}


def test_read_csv_integer_boolean_and_datetime_dtypes(tmp_path, assert_same):
    path = tmp_path / "typed.csv"
    path.write_text("n,ok,at\n1,true,2024-01-02 10:30:00\n,false,2024-01-03\n3,,\n")
    out = read("read_csv", path=str(path), dtypes={"n": "integer", "ok": "boolean", "at": "datetime"})
    expected = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], "Int64"),
            "ok": pd.array([True, False, None], "boolean"),
            "at": pd.to_datetime(["2024-01-02 10:30", "2024-01-03", None], format="ISO8601").astype(
                "datetime64[us]"
            ),
        }
    )
    assert_same(out, expected)


def test_read_csv_dates_that_do_not_parse_fail_the_step(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,when\n1,2024-01-02\n2,someday\n")
    f = Flow("t")
    f.read_csv("dates", path=str(path), parse_dates=["when"])
    with pytest.raises(StepFailed) as info:
        f.run(progress=False)
    assert info.value.step == "dates" and "someday" in str(info.value)


def test_read_csv_glob_of_files(tmp_path, assert_same, sales):
    regions = sales["regions"]
    for i in range(3):
        regions.iloc[i::3].to_csv(tmp_path / f"part-{i}.csv", index=False)
    out = read("read_csv", path=str(tmp_path / "part-*.csv"))
    assert_same(out, regions, sort_by="region")


def test_read_csv_missing_file(tmp_path, plan_error):
    f = Flow("t")
    f.read_csv("read", path=str(tmp_path / "nope.csv"))
    error = plan_error(f)
    assert error.step == "read" and error.field == "path"


# -- read_parquet -----------------------------------------------------------------------------------------


def test_read_parquet_sales(sales_dir, sales, assert_same):
    out = read("read_parquet", path=str(sales_dir / "orders.parquet"))
    assert_same(out, sales["orders"])
    assert_same(out, pd.read_parquet(sales_dir / "orders.parquet"))


def test_read_parquet_columns(sales_dir, sales, assert_same):
    out = read("read_parquet", path=str(sales_dir / "customers.parquet"), columns=["segment", "customer_id"])
    assert_same(out, sales["customers"][["segment", "customer_id"]])


def test_read_parquet_row_groups_are_partitions(tmp_path, sales, assert_same, monkeypatch):
    from aqtra_nb.components import inputs

    path = tmp_path / "orders.parquet"
    pq.write_table(pa.Table.from_pandas(sales["orders"], preserve_index=False), path, row_group_size=300)
    f = Flow("t")
    f.read_parquet("read", path=str(path)).filter("big", condition="amount > 500 and region == 'North'")
    assert partitions(f, "read") == 1  # 2,000 rows: one partition
    monkeypatch.setattr(inputs, "ROWS_PER_PARTITION", 600)
    assert partitions(f, "read") == 4  # consecutive row groups of 300 rows, two by two
    monkeypatch.setattr(inputs, "ROWS_PER_PARTITION", 300)
    assert partitions(f, "read") == 7
    out = f.run(progress=False)["big"]
    orders = sales["orders"]
    assert_same(out, orders[(orders["amount"] > 500) & (orders["region"] == "North")])


def test_read_parquet_hive_partitioned_directory(tmp_path, sales, assert_same):
    orders = sales["orders"]
    pq.write_to_dataset(
        pa.Table.from_pandas(orders, preserve_index=False), tmp_path / "by_region", partition_cols=["region"]
    )
    columns = [c for c in orders.columns if c != "region"] + ["region"]
    out = read("read_parquet", path=str(tmp_path / "by_region"))
    assert_same(out, orders[columns], sort_by="order_id")
    assert out["region"].dtype == "str"

    f = Flow("t")  # the filter on the partition column is pushed into the reader
    f.read_parquet("read", path=str(tmp_path / "by_region")).filter("north", condition="region == 'North'")
    assert f.plan().steps["read"].read_filter is not None
    out = f.run(progress=False)["north"]
    assert_same(out, orders.loc[orders["region"] == "North", columns], sort_by="order_id")


@pytest.fixture
def arrow_types_file(tmp_path):
    path = tmp_path / "types.parquet"
    table = pa.table(
        {
            "price": pa.array(
                [decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(10, 2)
            ),
            "code": pa.array(["a", "b", None], pa.string_view()),
            "note": pa.array(["x", None, "z"], pa.large_string()),
            "text": pa.array(["p", "q", "r"], pa.string()),
            "day": pa.array([dt.date(2024, 1, 2), None, dt.date(2024, 3, 1)], pa.date32()),
            "at": pa.array(
                [dt.datetime(2024, 1, 2, 9, 30), None, dt.datetime(2024, 7, 1, 12)],
                pa.timestamp("us", tz="Europe/Berlin"),
            ),
            "n": pa.array([1, 2, 3], pa.int32()),
        }
    )
    pq.write_table(table, path, row_group_size=2)
    return path


def test_read_parquet_arrow_types_become_plain_pandas_dtypes(arrow_types_file, assert_same):
    f = Flow("t")
    f.read_parquet("read", path=str(arrow_types_file))
    planned = f.plan().steps["read"].schema
    out = f.run(progress=False)["read"]
    expected_dtypes = {
        "price": "float64",
        "code": "str",
        "note": "str",
        "text": "str",
        "day": "datetime64[s]",
        "at": "datetime64[us, Europe/Berlin]",
        "n": "int32",
    }
    assert {c: str(t) for c, t in out.dtypes.items()} == expected_dtypes
    pd.testing.assert_series_equal(out.dtypes, planned.dtypes)
    assert no_object_columns(out)
    expected = pd.DataFrame(
        {
            "price": [1.25, np.nan, -3.5],
            "code": pd.array(["a", "b", None], "str"),
            "note": pd.array(["x", None, "z"], "str"),
            "text": pd.array(["p", "q", "r"], "str"),
            "day": pd.to_datetime(["2024-01-02", None, "2024-03-01"]).astype("datetime64[s]"),
            "at": pd.to_datetime(["2024-01-02 09:30", None, "2024-07-01 12:00"])
            .tz_localize("UTC")
            .tz_convert("Europe/Berlin")
            .astype("datetime64[us, Europe/Berlin]"),
            "n": np.array([1, 2, 3], dtype="int32"),
        }
    )
    assert_same(out, expected)


def test_read_parquet_arrow_types_work_downstream(arrow_types_file):
    f = Flow("t")
    source = f.read_parquet("read", path=str(arrow_types_file))
    source.filter("recent", condition="day >= date('2024-02-01') and price < 0 and is_null(code)")
    source.derive("derived", columns={"month": "month(at)", "upper": "upper(note)"})
    result = f.run(progress=False)
    assert len(result["recent"]) == 1
    pd.testing.assert_series_equal(
        result["derived"]["month"], pd.Series([1, None, 7], dtype="Int64", name="month")
    )
    assert result["derived"]["upper"].tolist()[0] == "X"


def test_read_parquet_missing_path(tmp_path, plan_error):
    f = Flow("t")
    f.read_parquet("read", path=str(tmp_path / "nope.parquet"))
    error = plan_error(f)
    assert error.step == "read" and error.field == "path"


# -- read_json --------------------------------------------------------------------------------------------


def test_read_json_records(tmp_path, sales, assert_same):
    customers = sales["customers"]
    path = tmp_path / "customers.json"
    customers.to_json(path, orient="records", date_format="iso")
    out = read("read_json", path=str(path))
    assert_same(out, pd.read_json(path, orient="records"))
    assert out["name"].dtype == "str" and out["customer_id"].dtype == "int64"
    assert out["customer_id"].tolist() == customers["customer_id"].tolist()


def test_read_json_lines_and_columns(tmp_path, sales, assert_same):
    regions = sales["regions"]
    path = tmp_path / "regions.jsonl"
    regions.to_json(path, orient="records", lines=True)
    out = read("read_json", path=str(path), lines=True, columns=["manager", "region"])
    assert_same(out, regions[["manager", "region"]])


# -- read_excel -------------------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path, sales):
    path = tmp_path / "sales.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        sales["regions"].to_excel(writer, sheet_name="regions", index=False)
        sales["products"].to_excel(writer, sheet_name="products", index=False, startrow=2)
    return path


def test_read_excel_first_sheet(workbook, sales, assert_same):
    out = read("read_excel", path=str(workbook))
    assert_same(out, pd.read_excel(workbook))
    assert out["region"].tolist() == sales["regions"]["region"].tolist()


def test_read_excel_sheet_by_name_with_skip_rows_and_columns(workbook, sales, assert_same):
    out = read(
        "read_excel", path=str(workbook), sheet="products", skip_rows=2, columns=["product_id", "unit_price"]
    )
    assert_same(out, sales["products"][["product_id", "unit_price"]])


def test_read_excel_unknown_sheet(workbook, plan_error):
    f = Flow("t")
    f.read_excel("read", path=str(workbook), sheet="nope")
    error = plan_error(f)
    assert error.step == "read" and error.field == "path"


# -- from_frame, empty, sample_data -----------------------------------------------------------------------


def test_from_frame_pandas_and_dask(partitioned, sales, assert_same):
    orders = sales["orders"]
    f = Flow("t")
    f.from_frame("plain", orders)
    f.from_frame("dask", partitioned(orders, 5))
    result = f.run(progress=False)
    assert_same(result["plain"], orders)
    assert_same(result["dask"], orders)


def test_from_frame_passed_at_run_time(sales, assert_same):
    f = Flow("t")
    f.from_frame("orders", name="orders_frame").select("ids", columns=["order_id"])
    out = f.run(progress=False, frames={"orders_frame": sales["orders"]})["ids"]
    assert_same(out, sales["orders"][["order_id"]])


def test_from_frame_not_passed(plan_error):
    f = Flow("t")
    f.from_frame("orders", name="orders_frame")
    error = plan_error(f, FlowValidationError)
    assert error.step == "orders" and error.field == "name" and "orders_frame" in str(error)


def test_from_frame_not_a_frame(plan_error):
    f = Flow("t")
    f.from_frame("orders", name="things")
    error = plan_error(f, frames={"things": [1, 2, 3]})
    assert error.step == "orders" and "list" in str(error)


def test_from_frame_dask_series_is_not_a_frame(partitioned, plan_error):
    f = Flow("t")
    f.from_frame("orders", name="amounts")
    series = partitioned(pd.DataFrame({"amount": [1.0, 2.0]}), 2)["amount"]
    error = plan_error(f, frames={"amounts": series})
    assert error.step == "orders" and error.field == "name" and "Series, not a DataFrame" in str(error)


def test_empty_has_typed_columns_and_no_rows():
    columns = {"s": "string", "i": "integer", "n": "number", "b": "boolean", "d": "date", "t": "datetime"}
    out = read("empty", columns=columns)
    assert len(out) == 0
    assert {c: str(t) for c, t in out.dtypes.items()} == {c: dtype_of(k) for c, k in columns.items()}


@pytest.mark.parametrize("table", datasets.TABLES)
def test_sample_data(assert_same, table):
    out = read("sample_data", table=table, scale=0.001, seed=7)
    assert_same(out, datasets.sales(scale=0.001, seed=7)[table])


# -- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"columns": ["amout"]}, "columns"),
        ({"columns": ["order_id", "amout"]}, "columns"),
        ({"parse_dates": ["amout"]}, "parse_dates"),
        ({"dtypes": {"amout": "number"}}, "dtypes"),
    ],
)
def test_read_csv_unknown_column(sales_dir, plan_error, params, field):
    f = Flow("t")
    f.read_csv("misspelt", path=str(sales_dir / "orders.csv"), **params)
    error = plan_error(f, UnknownColumn)
    assert error.step == "misspelt" and error.field == field
    assert f"step 'misspelt', field '{field}'" in str(error) and "Did you mean 'amount'?" in str(error)


@pytest.mark.parametrize(
    ("component", "path"),
    [("read_parquet", "orders.parquet"), ("read_json", "orders.json"), ("read_excel", "orders.xlsx")],
)
def test_unknown_column(sales_dir, sales, tmp_path, plan_error, component, path):
    if component == "read_json":
        sales["orders"].head(20).to_json(tmp_path / path, orient="records", date_format="iso")
    if component == "read_excel":
        sales["orders"].head(20).to_excel(tmp_path / path, index=False)
    directory = sales_dir if component == "read_parquet" else tmp_path
    f = Flow("t")
    f.add("misspelt", component, path=str(directory / path), columns=["order_id", "amout"])
    error = plan_error(f, UnknownColumn)
    assert error.step == "misspelt" and error.field == "columns"
    assert "step 'misspelt', field 'columns'" in str(error) and "Did you mean 'amount'?" in str(error)


@pytest.mark.parametrize(
    ("component", "params", "bad"),
    [
        ("read_csv", {"path": "x.csv", "sep": ";"}, "sep"),
        ("read_csv", {"path": "x.csv", "dtypes": {"a": "float"}}, "dtypes.a"),
        ("read_parquet", {"path": "x.parquet", "filter": "a > 1"}, "filter"),
        ("read_json", {"path": "x.json", "line": True}, "line"),
        ("read_excel", {"path": "x.xlsx", "sheet_name": "a"}, "sheet_name"),
        ("from_frame", {"name": "x", "frames": "y"}, "frames"),
        ("empty", {"columns": {"a": "number"}, "rows": 3}, "rows"),
        ("sample_data", {"table": "orders", "size": 3}, "size"),
        ("sample_data", {"table": "invoices"}, "table"),
    ],
)
def test_unknown_parameter(component, params, bad):
    f = Flow("t")
    with pytest.raises(FlowValidationError) as info:
        f.add("step", component, **params)
    assert info.value.step == "step" and info.value.field == f"with.{bad}"
    assert f"field 'with.{bad}'" in str(info.value)


def test_input_errors_are_aqtra_errors(tmp_path, plan_error):
    (tmp_path / "broken.json").write_text("{not json")
    f = Flow("t")
    f.read_json("read", path=str(tmp_path / "broken.json"))
    error = plan_error(f, AqtraError)
    assert error.step == "read" and error.field == "path"
