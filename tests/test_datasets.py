from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from aqtra_nb import datasets

SCALE = 0.05  # 50,000 orders

SCHEMAS = {
    "regions": {"region": "str", "country": "str", "manager": "str"},
    "customers": {
        "customer_id": "int64",
        "name": "str",
        "segment": "str",
        "region": "str",
        "signup_date": "datetime64[ms]",
    },
    "products": {
        "product_id": "int64",
        "name": "str",
        "category": "str",
        "subcategory": "str",
        "unit_price": "float64",
    },
    "orders": {
        "order_id": "int64",
        "order_date": "datetime64[ms]",
        "customer_id": "int64",
        "product_id": "int64",
        "region": "str",
        "status": "str",
        "quantity": "int64",
        "amount": "float64",
        "discount": "float64",
        "channel": "str",
    },
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return datasets.sales(scale=SCALE, seed=42)


def test_tables_and_sizes(tables):
    assert datasets.TABLES == ("orders", "customers", "products", "regions")
    assert tuple(tables) == datasets.TABLES
    assert len(tables["orders"]) == 50_000
    assert len(tables["customers"]) == 1_000
    assert len(tables["products"]) == 100
    assert len(tables["regions"]) == 8


def test_sizes_follow_scale():
    assert datasets.sizes(1) == {"orders": 1_000_000, "customers": 20_000, "products": 2_000, "regions": 8}
    assert datasets.sizes(0.01)["orders"] == 10_000
    assert datasets.sizes(1e-9) == {"orders": 10, "customers": 50, "products": 20, "regions": 8}
    assert datasets.sizes(100)["products"] == 10_000


def test_tiny_scale_is_valid():
    t = datasets.sales(scale=1e-9, seed=3)
    assert [len(t[name]) for name in datasets.TABLES] == [10, 50, 20, 8]
    assert t["orders"]["customer_id"].isin(t["customers"]["customer_id"]).all()


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_bad_scale_is_rejected(bad):
    with pytest.raises(ValueError, match="scale"):
        datasets.sales(scale=bad)


def test_bad_scale_type_is_rejected():
    with pytest.raises(TypeError, match="scale"):
        datasets.sales(scale="1")


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_schema_and_dtypes(tables, name):
    frame = tables[name]
    assert list(frame.columns) == list(SCHEMAS[name])
    for column, dtype in SCHEMAS[name].items():
        assert frame[column].dtype == pd.api.types.pandas_dtype(dtype), (name, column, frame[column].dtype)
    assert isinstance(frame.index, pd.RangeIndex)


def test_determinism(tables):
    again = datasets.sales(scale=SCALE, seed=42)
    for name in datasets.TABLES:
        pd.testing.assert_frame_equal(tables[name], again[name])
    other = datasets.sales(scale=SCALE, seed=43)
    for name in ("orders", "customers", "products"):
        assert not tables[name].equals(other[name]), name
    pd.testing.assert_frame_equal(tables["regions"], other["regions"])


def test_keys_are_unique_and_dense(tables):
    for name, key in (("orders", "order_id"), ("customers", "customer_id"), ("products", "product_id")):
        ids = tables[name][key].to_numpy()
        np.testing.assert_array_equal(ids, np.arange(1, len(ids) + 1))
    assert tables["regions"]["region"].is_unique


def test_referential_integrity(tables):
    orders, customers = tables["orders"], tables["customers"]
    assert orders["customer_id"].isin(customers["customer_id"]).all()
    assert orders["product_id"].isin(tables["products"]["product_id"]).all()
    assert customers["region"].isin(tables["regions"]["region"]).all()
    customer_region = customers.set_index("customer_id")["region"]
    expected = customer_region.loc[orders["customer_id"]].to_numpy()
    assert (orders["region"].to_numpy() == expected).all()


def test_order_dates(tables):
    orders = tables["orders"]
    dates = orders["order_date"]
    assert dates.min() >= pd.Timestamp("2022-01-01")
    assert dates.max() <= pd.Timestamp("2024-12-31")
    assert (dates == dates.dt.normalize()).all()
    assert dates.is_monotonic_increasing  # order ids grow with the date
    assert dates.dt.year.nunique() == 3
    by_month = dates.dt.month.value_counts()
    assert by_month[12] > 1.3 * by_month[2]  # seasonal peak
    by_weekday = dates.dt.day_of_week.value_counts()
    assert by_weekday[5] > 1.4 * by_weekday[6]  # busy Saturdays, quiet Sundays


def test_signup_before_first_order(tables):
    customers = tables["customers"].set_index("customer_id")
    first_order = tables["orders"].groupby("customer_id")["order_date"].min()
    assert (customers.loc[first_order.index, "signup_date"] <= first_order).all()
    assert customers["signup_date"].min() >= pd.Timestamp("2018-01-01")


def test_proportions(tables):
    orders = tables["orders"]
    status = orders["status"].value_counts(normalize=True)
    expected = {"paid": 0.55, "shipped": 0.25, "pending": 0.12, "cancelled": 0.05, "returned": 0.03}
    assert set(status.index) == set(expected)
    for value, share in expected.items():
        assert status[value] == pytest.approx(share, abs=0.015), value
    assert set(orders["channel"].dropna()) == {"web", "store", "phone", "partner"}
    assert orders["channel"].isna().mean() == pytest.approx(0.005, abs=0.002)
    assert orders["discount"].isna().mean() == pytest.approx(0.01, abs=0.003)
    assert set(tables["customers"]["segment"]) == {"consumer", "corporate", "home office"}
    assert tables["products"]["category"].nunique() == 6


def test_values(tables):
    orders, products = tables["orders"], tables["products"]
    quantity = orders["quantity"]
    assert quantity.between(1, 10).all()
    assert (quantity == 1).mean() > 0.35 and (quantity <= 3).mean() > 0.75  # skewed to small
    discount = orders["discount"].dropna()
    assert discount.between(0, 0.3).all()
    assert (discount == 0).mean() > 0.6
    np.testing.assert_array_equal(discount, discount.round(2))
    price = products["unit_price"]
    assert (price > 0).all()
    np.testing.assert_array_equal(price, price.round(2))
    assert (orders["amount"] > 0).all()
    np.testing.assert_array_equal(orders["amount"], orders["amount"].round(2))
    gross = (quantity * price.to_numpy()[orders["product_id"].to_numpy() - 1]).round(2)
    exact = (orders["amount"] == gross).mean()
    assert 0.95 < exact < 0.995  # a few order-level adjustments


def test_popularity_is_skewed(tables):
    orders = tables["orders"]
    top_customers = orders["customer_id"].value_counts().head(10).sum() / len(orders)
    top_products = orders["product_id"].value_counts().head(5).sum() / len(orders)
    assert top_customers > 0.05  # 1% of customers
    assert top_products > 0.15  # 5% of products
    # Popular ids are spread out, not just the smallest ones.
    assert orders["customer_id"].value_counts().idxmax() != 1


def test_write_sales_round_trip(tmp_path):
    scale, seed = 0.002, 7
    tables = datasets.sales(scale=scale, seed=seed)
    paths = datasets.write_sales(tmp_path / "out", scale=scale, seed=seed)
    assert set(paths) == set(datasets.TABLES)
    for name in datasets.TABLES:
        assert paths[name] == {
            "parquet": tmp_path / "out" / f"{name}.parquet",
            "csv": tmp_path / "out" / f"{name}.csv",
        }
        expected = tables[name]
        pd.testing.assert_frame_equal(pd.read_parquet(paths[name]["parquet"]), expected)

        dates = [c for c, dtype in SCHEMAS[name].items() if dtype.startswith("datetime")]
        from_csv = pd.read_csv(paths[name]["csv"], parse_dates=dates)
        from_csv = from_csv.astype({c: SCHEMAS[name][c] for c in from_csv.columns})
        pd.testing.assert_frame_equal(from_csv, expected)


def test_write_sales_csv_format(tmp_path):
    paths = datasets.write_sales(tmp_path, scale=0.001, seed=1, formats=("csv",))
    assert all(set(p) == {"csv"} for p in paths.values())
    assert not list(tmp_path.glob("*.parquet"))
    lines = paths["orders"]["csv"].read_text().splitlines()
    assert lines[0].replace('"', "").split(",") == list(SCHEMAS["orders"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", lines[1].split(",")[1])  # no time part
    signup = paths["customers"]["csv"].read_text().splitlines()[1].split(",")[-1]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", signup)


def test_write_sales_parquet_row_groups(tmp_path):
    paths = datasets.write_sales(tmp_path, scale=0.3, seed=1, formats="parquet")
    assert all(set(p) == {"parquet"} for p in paths.values())
    meta = pq.ParquetFile(paths["orders"]["parquet"]).metadata
    assert meta.num_rows == 300_000
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [131_072, 131_072, 37_856]
    assert meta.row_group(0).column(0).compression == "SNAPPY"


def test_write_sales_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="xlsx"):
        datasets.write_sales(tmp_path, scale=0.001, formats=("parquet", "xlsx"))
    with pytest.raises(ValueError, match="at least one"):
        datasets.write_sales(tmp_path, scale=0.001, formats=())


def test_ensure_sales_writes_only_what_is_missing(tmp_path):
    folder = tmp_path / "data"
    assert datasets.ensure_sales(folder, scale=0.001, formats="parquet") is True
    written = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert sorted(written) == sorted(f"{t}.parquet" for t in datasets.TABLES)
    assert datasets.ensure_sales(folder, scale=0.001, formats="parquet") is False
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == written
    (folder / "orders.parquet").unlink()
    assert datasets.ensure_sales(folder, scale=0.001, formats=["parquet"]) is True
    assert len(pd.read_parquet(folder / "orders.parquet")) == datasets.sizes(0.001)["orders"]


def test_ensure_sales_from_two_threads_at_once_leaves_whole_files(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path / "data"
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: datasets.ensure_sales(folder, scale=0.01, formats="parquet"), range(2)))
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in datasets.TABLES)
    assert len(pd.read_parquet(folder / "orders.parquet")) == 10_000
