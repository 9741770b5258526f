"""A synthetic, seeded sales star schema for examples, tests and benchmarks.

``sales(scale, seed)`` returns four pandas DataFrames (``orders``, ``customers``, ``products``,
``regions``); ``write_sales(directory, ...)`` writes them as Parquet and/or CSV files;
``ensure_sales(directory, ...)`` writes them only when some are missing (examples call it on first use). Everything is
generated with vectorized numpy (no per-row Python), so ``scale=1`` (one million orders) takes about a
second, and the result depends only on ``(scale, seed)``.

Shape of the data:

* ``orders`` is the fact table, sorted by ``order_date`` (``order_id`` grows with the date). Dates cover
  2022-01-01..2024-12-31 with a weekday pattern (busy Fridays/Saturdays, quiet Sundays), a seasonal
  pattern (peak in November/December) and slow growth. Customer and product popularity is Zipf-like,
  so a few customers and products account for a large share of orders. ``region`` is the customer's
  region, copied onto the order so flows can group by it without a join. ``amount`` is the gross
  ``quantity * unit_price`` rounded to cents (``discount`` is *not* applied), except for about 2% of
  orders with a manual price override (x0.85..x1.15) and about 1% with a shipping surcharge. About 1%
  of orders have a missing ``discount`` and about 0.5% a missing ``channel``.
* ``customers`` each sign up before (or on the day of) their first order.
* ``products`` belong to one of six categories, each with a few subcategories and its own price level.
* ``regions`` is a fixed list of eight regions.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = ["FORMATS", "TABLES", "ensure_sales", "sales", "sizes", "sample_file", "write_sales"]

TABLES: tuple[str, ...] = ("orders", "customers", "products", "regions")
FORMATS: tuple[str, ...] = ("parquet", "csv")

PARQUET_ROW_GROUP_SIZE = 131_072
PARQUET_COMPRESSION = "snappy"

ORDERS_PER_SCALE = 1_000_000
CUSTOMERS_PER_SCALE = 20_000
PRODUCTS_PER_SCALE = 2_000

FIRST_ORDER_DAY = np.datetime64("2022-01-01", "D")
LAST_ORDER_DAY = np.datetime64("2024-12-31", "D")
FIRST_SIGNUP_DAY = np.datetime64("2018-01-01", "D")

# region, country, manager, share of customers
_REGIONS = (
    ("North", "Sweden", "Astrid Lindqvist", 0.17),
    ("South", "Italy", "Marco Bellini", 0.15),
    ("East", "Poland", "Katarzyna Nowak", 0.14),
    ("West", "Portugal", "Joao Ferreira", 0.14),
    ("Central", "Germany", "Lukas Becker", 0.16),
    ("North-East", "Finland", "Aino Virtanen", 0.09),
    ("South-West", "Spain", "Lucia Moreno", 0.10),
    ("Islands", "Iceland", "Gudrun Sigurdardottir", 0.05),
)

_SEGMENTS = ("consumer", "corporate", "home office")
_SEGMENT_P = (0.52, 0.30, 0.18)

# category, share of products, ((subcategory, typical unit price), ...)
_CATEGORIES = (
    ("Electronics", 0.20, (("Laptops", 900.0), ("Phones", 550.0), ("Monitors", 240.0), ("Cables", 30.0))),
    ("Furniture", 0.14, (("Chairs", 170.0), ("Desks", 330.0), ("Bookcases", 210.0), ("Tables", 280.0))),
    ("Office Supplies", 0.22, (("Paper", 12.0), ("Binders", 8.0), ("Pens", 4.0), ("Storage", 40.0))),
    ("Clothing", 0.16, (("Shirts", 35.0), ("Jackets", 110.0), ("Shoes", 80.0))),
    ("Home & Kitchen", 0.16, (("Cookware", 60.0), ("Appliances", 150.0), ("Decor", 35.0))),
    ("Sports", 0.12, (("Fitness", 70.0), ("Outdoor", 120.0), ("Cycling", 420.0))),
)

_STATUSES = ("paid", "shipped", "pending", "cancelled", "returned")
_STATUS_P = (0.55, 0.25, 0.12, 0.05, 0.03)

_CHANNELS = ("web", "store", "phone", "partner")
_CHANNEL_P = (0.46, 0.30, 0.09, 0.15)

_DISCOUNT_LEVELS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
_DISCOUNT_LEVEL_P = (0.34, 0.28, 0.16, 0.11, 0.07, 0.04)
_DISCOUNTED_SHARE = 0.22

_QUANTITY_MAX = 10
_QUANTITY_DECAY = 0.55  # P(quantity = k) is proportional to decay ** (k - 1)

_MISSING_DISCOUNT_SHARE = 0.01
_MISSING_CHANNEL_SHARE = 0.005
_PRICE_OVERRIDE_SHARE = 0.02
_SURCHARGE_SHARE = 0.01
_SURCHARGES = (4.99, 9.99, 14.99)

_WEEKDAY_FACTOR = (0.95, 0.97, 1.0, 1.03, 1.15, 1.25, 0.70)  # Monday .. Sunday
_MONTH_FACTOR = (0.82, 0.80, 0.92, 0.95, 0.98, 0.93, 0.88, 0.90, 0.98, 1.05, 1.35, 1.50)  # Jan .. Dec
_YEARLY_GROWTH = 0.15

_CUSTOMER_ZIPF = (0.9, 10.0)  # exponent, rank offset: weight of rank r is 1 / (r + offset) ** exponent
_PRODUCT_ZIPF = (1.05, 5.0)


def sizes(scale: float = 1) -> dict[str, int]:
    """Row counts of each table for ``scale`` (1 means one million orders)."""
    scale = _check_scale(scale)
    return {
        "orders": max(10, round(ORDERS_PER_SCALE * scale)),
        "customers": max(50, round(CUSTOMERS_PER_SCALE * scale)),
        "products": min(10_000, max(20, round(PRODUCTS_PER_SCALE * scale))),
        "regions": len(_REGIONS),
    }


def sales(scale: float = 1, seed: int | None = 42) -> dict[str, pd.DataFrame]:
    """Generate the sales star schema: ``{"orders", "customers", "products", "regions"}`` DataFrames.

    ``scale=1`` gives 1,000,000 orders, ~20,000 customers and 2,000 products; ``scale=0.01`` gives 10,000
    orders. The same ``(scale, seed)`` always gives the same frames.
    """
    n = sizes(scale)
    rng_customers, rng_products, rng_orders, rng_signup = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )

    regions = _regions_frame()
    region_names = pa.array([r[0] for r in _REGIONS], pa.large_string())

    # Customer attributes that orders depend on.
    n_customers = n["customers"]
    region_p = np.array([r[3] for r in _REGIONS])
    customer_region = rng_customers.choice(len(_REGIONS), size=n_customers, p=region_p / region_p.sum())
    customer_segment = rng_customers.choice(len(_SEGMENTS), size=n_customers, p=_SEGMENT_P)

    products, unit_price = _products_frame(n["products"], rng_products)
    orders = _orders_frame(n["orders"], n_customers, unit_price, customer_region, region_names, rng_orders)

    # Signup dates: on or before the customer's first order; customers without orders sign up any time.
    order_day = orders["order_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    first_order = np.full(n_customers, LAST_ORDER_DAY.astype(np.int64), dtype=np.int64)
    np.minimum.at(first_order, orders["customer_id"].to_numpy() - 1, order_day)
    first_signup = FIRST_SIGNUP_DAY.astype(np.int64)
    span = first_order - first_signup + 1
    signup_day = first_signup + np.floor(rng_signup.random(n_customers) * span).astype(np.int64)

    customer_id = np.arange(1, n_customers + 1, dtype=np.int64)
    customers = pd.DataFrame(
        {
            "customer_id": customer_id,
            "name": _strings(_join("Customer ", _zero_padded(customer_id, 6))),
            "segment": _categorical_strings(_SEGMENTS, customer_segment),
            "region": _strings(region_names.take(pa.array(customer_region))),
            "signup_date": signup_day.astype("datetime64[D]").astype("datetime64[ms]"),
        }
    )
    return {"orders": orders, "customers": customers, "products": products, "regions": regions}


def write_sales(
    directory: str | Path,
    scale: float = 1,
    seed: int | None = 42,
    formats: Iterable[str] | str = FORMATS,
) -> dict[str, dict[str, Path]]:
    """Generate ``sales(scale, seed)`` and write each table as ``<directory>/<table>.<format>``.

    Parquet files use row groups of 131,072 rows and snappy compression, so readers can split them into
    partitions by row group. CSV files have a header, no index, and ``YYYY-MM-DD`` dates; missing values are
    empty fields. The directory is created if needed. Returns ``{table: {format: path}}``.
    """
    fmts = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = [f for f in fmts if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown!r} for write_sales; use any of {list(FORMATS)!r}")
    if not fmts:
        raise ValueError(f"write_sales needs at least one format; use any of {list(FORMATS)!r}")
    fmts = tuple(dict.fromkeys(fmts))

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tables = sales(scale=scale, seed=seed)
    paths: dict[str, dict[str, Path]] = {}
    for name in TABLES:
        table = pa.Table.from_pandas(tables[name], preserve_index=False)
        paths[name] = {}
        if "parquet" in fmts:
            path = out / f"{name}.parquet"
            pq.write_table(
                table, path, row_group_size=PARQUET_ROW_GROUP_SIZE, compression=PARQUET_COMPRESSION
            )
            paths[name]["parquet"] = path
        if "csv" in fmts:
            path = out / f"{name}.csv"
            pa_csv.write_csv(_dates_as_days(table), path)
            paths[name]["csv"] = path
    return paths


def ensure_sales(
    directory: str | Path,
    scale: float = 1,
    seed: int | None = 42,
    formats: Iterable[str] | str = ("parquet",),
) -> bool:
    """Write the sample tables into ``directory`` unless every one of them is there; True if it wrote.

    Each file is generated in a temporary folder beside ``directory`` and moved into place by a rename, so
    a reader (or a second kernel doing the same at the same time) sees a whole file or none.
    """
    fmts = (formats,) if isinstance(formats, str) else tuple(formats)
    out = Path(directory)
    if all((out / f"{name}.{fmt}").is_file() for name in TABLES for fmt in fmts):
        return False
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-data-", dir=out))
    try:
        written = write_sales(staging, scale=scale, seed=seed, formats=fmts)
        for files in written.values():
            for path in files.values():
                target = out / path.name
                if not target.is_file():  # a file already there (another writer's) is kept
                    os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def sample_file(path: str | Path) -> bool:
    """Whether ``path`` names one of the sample tables (``orders.parquet``, ``customers.csv``, ...)."""
    name = Path(path).name
    return any(name == f"{table}.{fmt}" for table in TABLES for fmt in FORMATS)


# -- tables ------------------------------------------------------------------------------------------


def _regions_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": pd.array([r[0] for r in _REGIONS], dtype="str"),
            "country": pd.array([r[1] for r in _REGIONS], dtype="str"),
            "manager": pd.array([r[2] for r in _REGIONS], dtype="str"),
        }
    )


def _products_frame(n_products: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """The products frame and its unit prices (indexed by ``product_id - 1``)."""
    sub_names, sub_category, sub_price, sub_p = [], [], [], []
    for c, (_, share, subs) in enumerate(_CATEGORIES):
        for sub_name, price in subs:
            sub_names.append(sub_name)
            sub_category.append(c)
            sub_price.append(price)
            sub_p.append(share / len(subs))
    sub = rng.choice(len(sub_names), size=n_products, p=np.array(sub_p) / sum(sub_p))
    typical = np.array(sub_price)[sub]
    # Shelf prices like 179.99: log-normal around the subcategory's typical price, at least 0.99.
    raw = typical * rng.lognormal(mean=0.0, sigma=0.45, size=n_products)
    unit_price = np.round(np.maximum(np.round(raw) - 0.01, 0.99), 2)

    product_id = np.arange(1, n_products + 1, dtype=np.int64)
    sub_arr = pa.array(sub_names, pa.large_string()).take(pa.array(sub))
    products = pd.DataFrame(
        {
            "product_id": product_id,
            "name": _strings(_join(sub_arr, " ", _zero_padded(product_id, 5))),
            "category": _categorical_strings([c[0] for c in _CATEGORIES], np.array(sub_category)[sub]),
            "subcategory": _strings(sub_arr),
            "unit_price": unit_price,
        }
    )
    return products, unit_price


def _orders_frame(
    n_orders: int,
    n_customers: int,
    unit_price: np.ndarray,
    customer_region: np.ndarray,
    region_names: pa.Array,
    rng: np.random.Generator,
) -> pd.DataFrame:
    # Dates: how many orders each day gets (multinomial over day weights); repeating days keeps them sorted.
    days = np.arange(FIRST_ORDER_DAY, LAST_ORDER_DAY + 1)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    years = (days - FIRST_ORDER_DAY).astype(np.int64) / 365.25
    weight = (
        np.array(_WEEKDAY_FACTOR)[weekday]
        * np.array(_MONTH_FACTOR)[month]
        * (1 + _YEARLY_GROWTH) ** years
        * rng.lognormal(0.0, 0.08, size=len(days))
    )
    per_day = rng.multinomial(n_orders, weight / weight.sum())
    order_date = np.repeat(days, per_day).astype("datetime64[ms]")

    customer_idx = _zipf_choice(rng, n_customers, n_orders, *_CUSTOMER_ZIPF)
    product_idx = _zipf_choice(rng, len(unit_price), n_orders, *_PRODUCT_ZIPF)

    status = rng.choice(len(_STATUSES), size=n_orders, p=_STATUS_P)
    q_p = _QUANTITY_DECAY ** np.arange(_QUANTITY_MAX)
    quantity = rng.choice(_QUANTITY_MAX, size=n_orders, p=q_p / q_p.sum()).astype(np.int64) + 1

    amount = quantity * unit_price[product_idx]
    override = rng.random(n_orders) < _PRICE_OVERRIDE_SHARE
    amount[override] *= rng.uniform(0.85, 1.15, size=int(override.sum()))
    surcharge = rng.random(n_orders) < _SURCHARGE_SHARE
    amount[surcharge] += rng.choice(_SURCHARGES, size=int(surcharge.sum()))
    amount = np.maximum(np.round(amount, 2), 0.01)

    discounted = rng.random(n_orders) < _DISCOUNTED_SHARE
    level = rng.choice(len(_DISCOUNT_LEVELS), size=n_orders, p=_DISCOUNT_LEVEL_P)
    discount = np.where(discounted, np.array(_DISCOUNT_LEVELS)[level], 0.0)
    discount[rng.random(n_orders) < _MISSING_DISCOUNT_SHARE] = np.nan

    channel = rng.choice(len(_CHANNELS), size=n_orders, p=_CHANNEL_P)
    channel_missing = rng.random(n_orders) < _MISSING_CHANNEL_SHARE

    return pd.DataFrame(
        {
            "order_id": np.arange(1, n_orders + 1, dtype=np.int64),
            "order_date": order_date,
            "customer_id": customer_idx.astype(np.int64) + 1,
            "product_id": product_idx.astype(np.int64) + 1,
            "region": _strings(region_names.take(pa.array(customer_region[customer_idx]))),
            "status": _categorical_strings(_STATUSES, status),
            "quantity": quantity,
            "amount": amount,
            "discount": discount,
            "channel": _categorical_strings(_CHANNELS, channel, missing=channel_missing),
        }
    )


# -- helpers -----------------------------------------------------------------------------------------


def _check_scale(scale: float) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"scale must be a positive number (1 = one million orders), got {scale!r}")
    value = float(scale)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"scale must be a positive number (1 = one million orders), got {scale!r}")
    return value


def _zipf_choice(rng: np.random.Generator, n: int, size: int, exponent: float, offset: float) -> np.ndarray:
    """``size`` draws from ``range(n)`` with Zipf-like popularity; popular items are spread over the range."""
    weight = 1.0 / (np.arange(n) + offset) ** exponent
    popularity = np.empty(n)
    popularity[rng.permutation(n)] = weight
    return rng.choice(n, size=size, p=popularity / popularity.sum())


def _join(*parts: str | pa.Array) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    parts_ = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*parts_, pa.scalar("", pa.large_string()))


def _zero_padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.large_string()), width=width, padding="0")


def _strings(array: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """An Arrow string array as pandas' default ``str`` dtype."""
    return pd.array(array, dtype="str")


def _categorical_strings(
    categories: Iterable[str], codes: np.ndarray, missing: np.ndarray | None = None
) -> pd.api.extensions.ExtensionArray:
    """``categories[codes]`` as a ``str`` array, null where ``missing`` is true (built in Arrow, no loop)."""
    indices = pa.array(codes, mask=missing)
    return _strings(pa.array(list(categories), pa.large_string()).take(indices))


def _dates_as_days(table: pa.Table) -> pa.Table:
    """Timestamps as dates, so CSV has ``YYYY-MM-DD`` rather than ``YYYY-MM-DD 00:00:00.000``."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, pa.field(field.name, pa.date32()), table.column(i).cast(pa.date32()))
    return table
