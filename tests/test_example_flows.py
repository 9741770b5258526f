"""The example flows in notebooks/flows/ run, through the Python API and the CLI, and agree with pandas.

Each flow reads its data from the `data_dir` parameter (default `data`, next to the flow file), so the
flows are copied into a temporary folder with a small generated sample data set under `data/`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from aqtra_nb import datasets
from aqtra_nb.engine import execute_flow
from aqtra_nb.spec import load_flow

FLOWS_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "flows"
FLOW_NAMES = ["sales_report", "customer_segments", "product_mix"]
SCALE = 0.01  # 10,000 orders, 200 customers, 20 products
CATEGORIES = ["Electronics", "Furniture", "Office Supplies", "Clothing", "Home & Kitchen", "Sports"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("example-flows")
    datasets.write_sales(root / "data", scale=SCALE)
    for name in FLOW_NAMES:
        shutil.copy(FLOWS_DIR / f"{name}.flow.yaml", root)
    return root


@pytest.fixture(scope="module")
def data(workdir) -> dict[str, pd.DataFrame]:
    """The sample tables as plain pandas reads them (CSV and Parquet hold the same data)."""
    return {
        "orders_csv": pd.read_csv(workdir / "data" / "orders.csv", parse_dates=["order_date"]),
        "orders": pd.read_parquet(workdir / "data" / "orders.parquet"),
        "customers": pd.read_csv(workdir / "data" / "customers.csv"),
        "products": pd.read_parquet(workdir / "data" / "products.parquet"),
    }


def normalize(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sorted, fresh index, and one dtype per kind: engine and pandas may pick other string/int/time flavours."""
    frame = frame.sort_values(by, kind="stable").reset_index(drop=True)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_string_dtype(values) or isinstance(values.dtype, pd.StringDtype):
            frame[column] = values.astype(object)
        elif pd.api.types.is_datetime64_any_dtype(values):
            frame[column] = values.astype("datetime64[ns]")
        elif pd.api.types.is_integer_dtype(values):
            assert not values.isna().any(), column
            frame[column] = values.astype("int64")
        elif pd.api.types.is_float_dtype(values):
            frame[column] = values.astype("float64")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def assert_matches(actual: pd.DataFrame, expected: pd.DataFrame, by: list[str]) -> None:
    assert list(actual.columns) == list(expected.columns)
    assert_frame_equal(normalize(actual, by), normalize(expected, by), check_exact=False, rtol=1e-9)


# -- the same computations, written by hand in pandas --------------------------------------------------
# `discount` is missing on about 1% of orders. The spec's sales_report computes `sum(amount * (1 -
# discount))`: the product is NaN there and the sum skips it, exactly as pandas' sum does below. The other
# flows count a missing discount as none (`coalesce(discount, 0)`), i.e. `fillna(0)`.


def expected_sales_report(data, min_amount: float = 100.0) -> pd.DataFrame:
    orders = data["orders_csv"]
    big = orders[orders["amount"] >= min_amount]
    net = big["amount"] * (1 - big["discount"])
    totals = (
        big.assign(net=net).groupby("region").agg(revenue=("net", "sum"), n=("net", "size")).reset_index()
    )
    return totals.sort_values("revenue", ascending=False)


def expected_customer_segments(data, top_n: int = 3) -> dict[str, pd.DataFrame]:
    orders, customers = data["orders"], data["customers"][["customer_id", "name", "segment"]]
    paid = orders[orders["status"].isin(["paid", "shipped"])]
    joined = paid.merge(customers, on="customer_id", how="inner")
    joined["net_amount"] = joined["amount"] * (1 - joined["discount"].fillna(0))
    per_customer = (
        joined.groupby(["region", "customer_id", "name", "segment"])
        .agg(revenue=("net_amount", "sum"), orders=("net_amount", "size"), items=("quantity", "sum"))
        .reset_index()
    )
    per_customer["rank"] = (
        per_customer.groupby("region")["revenue"].rank(method="min", ascending=False).astype("int64")
    )
    top = per_customer[per_customer["rank"] <= top_n]
    segments = (
        per_customer.groupby("segment")
        .agg(
            customers=("revenue", "size"),
            revenue=("revenue", "sum"),
            revenue_per_customer=("revenue", "mean"),
        )
        .reset_index()
    )
    return {"top_customers": top, "segment_report": segments}


def expected_product_mix(data, year: int = 2024) -> pd.DataFrame:
    orders, products = data["orders_csv"], data["products"]
    kept = orders[(orders["order_date"].dt.year == year) & ~orders["status"].isin(["cancelled", "returned"])]
    kept = kept.merge(products[["product_id", "category"]], on="product_id", how="left")
    kept["month"] = kept["order_date"].dt.to_period("M").dt.start_time
    kept["net_amount"] = kept["amount"] * (1 - kept["discount"].fillna(0))
    wide = kept.pivot_table(index="month", columns="category", values="net_amount", aggfunc="sum")
    wide = wide.reindex(columns=CATEGORIES).reset_index()
    wide.columns.name = None
    return wide


# -- through the Python API ------------------------------------------------------------------------------


def test_sales_report_matches_pandas(workdir, data):
    spec = load_flow(workdir / "sales_report.flow.yaml")
    result = execute_flow(spec, progress=False)
    assert result.status == "succeeded"
    expected = expected_sales_report(data)
    assert len(expected) == 8  # every region has large orders
    assert_matches(result["totals"], expected, ["region"])
    assert list(result["report"]["revenue"]) == sorted(result["report"]["revenue"], reverse=True)
    assert_matches(result["report"], expected, ["region"])
    written = pd.read_parquet(workdir / "out" / "report.parquet")
    assert_matches(written, expected, ["region"])
    assert result.steps["orders"].rows == len(data["orders_csv"])
    assert result.steps["big"].rows == int((data["orders_csv"]["amount"] >= 100).sum())
    assert result.steps["save"].rows == 8


def test_sales_report_min_amount_parameter(workdir, data):
    result = execute_flow(load_flow(workdir / "sales_report.flow.yaml"), {"min_amount": 500}, progress=False)
    assert_matches(result["report"], expected_sales_report(data, 500.0), ["region"])


def test_customer_segments_matches_pandas(workdir, data):
    spec = load_flow(workdir / "customer_segments.flow.yaml")
    result = execute_flow(spec, outputs=["top_customers", "segment_report"], progress=False)
    assert result.status == "succeeded"
    expected = expected_customer_segments(data)
    assert_matches(result["top_customers"], expected["top_customers"], ["region", "rank", "customer_id"])
    ranks = result["top_customers"].groupby("region")["rank"].apply(list)
    assert all(r == sorted(r) and r[0] == 1 and len(r) == 3 for r in ranks)  # no ties in this data
    assert_matches(result["segment_report"], expected["segment_report"], ["segment"])
    assert list(result["segment_report"]["revenue"]) == sorted(
        result["segment_report"]["revenue"], reverse=True
    )
    written = pd.read_csv(workdir / "out" / "top_customers.csv")
    assert_matches(written, expected["top_customers"], ["region", "rank", "customer_id"])


def test_product_mix_matches_pandas(workdir, data):
    spec = load_flow(workdir / "product_mix.flow.yaml")
    result = execute_flow(spec, progress=False)
    assert result.status == "succeeded"
    expected = expected_product_mix(data)
    assert len(expected) == 12
    assert_matches(result["report"], expected, ["month"])
    written = pd.read_csv(workdir / "out" / "product_mix.csv", parse_dates=["month"])
    assert_matches(written, expected, ["month"])


# -- through the CLI ----------------------------------------------------------------------------------

CLI_CASES = {
    "sales_report": ("min_amount=50", "out/report.parquet"),
    "customer_segments": ("top_n=5", "out/top_customers.csv"),
    "product_mix": ("year=2023", "out/product_mix.csv"),
}


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("aqtra-nb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aqtra_nb.cli"]


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_cli_run_json(workdir, data, name):
    assignment, output = CLI_CASES[name]
    done = subprocess.run(
        [*_cli(), "run", f"{name}.flow.yaml", "-p", assignment, "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded"
    assert record["flow"] == name
    spec = load_flow(workdir / f"{name}.flow.yaml")
    assert set(record["steps"]) == {s.id for s in spec.steps}
    for step in record["steps"].values():
        assert step["status"] == "succeeded"
        # a step that did not run (what came after it was in the step cache) may not know its rows
        assert (isinstance(step["rows"], int) and step["rows"] >= 0) or (
            step["rows"] is None and step["cached"]
        )
        assert isinstance(step["seconds"], float) and step["seconds"] >= 0

    path = workdir / output
    written = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if name == "sales_report":
        assert record["parameters"]["min_amount"] == 50.0
        assert record["steps"]["big"]["rows"] == int((data["orders_csv"]["amount"] >= 50).sum())
        assert_matches(written, expected_sales_report(data, 50.0), ["region"])
    elif name == "customer_segments":
        expected = expected_customer_segments(data, top_n=5)["top_customers"]
        assert_matches(written, expected, ["region", "rank", "customer_id"])
    else:
        written["month"] = pd.to_datetime(written["month"])
        assert_matches(written, expected_product_mix(data, 2023), ["month"])


def test_cli_unknown_parameter_is_a_usage_error(workdir):
    done = subprocess.run(
        [*_cli(), "run", "sales_report.flow.yaml", "-p", "min_amout=50", "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert json.loads(done.stdout)["status"] == "failed"
    assert "min_amount" in done.stderr  # did-you-mean hint
