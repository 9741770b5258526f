"""The TPC-H flow files of `benchmarks/tpch/` on small tables of the same types as `tpchgen-cli` writes
(decimal128 money, date32 dates, string_view text, several row groups), in both execution modes: each
result equals the query computed in plain pandas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow

FLOWS = Path(__file__).resolve().parents[2] / "benchmarks" / "tpch"
MONEY = pa.decimal128(15, 2)
START = dt.date(1992, 1, 1)


def _days(rng, n: int, low: int = 0, high: int = 2500) -> list[dt.date]:
    return [START + dt.timedelta(days=int(d)) for d in rng.integers(low, high, n)]


NATIONS = [("FRANCE", 0), ("GERMANY", 0), ("CHINA", 1), ("JAPAN", 1), ("BRAZIL", 2), ("CANADA", 2)]


def _tables(rng) -> dict[str, pa.Table]:
    customers, parts, suppliers, orders, lines = 60, 40, 12, 300, 1500
    offers = 4  # suppliers per part
    text = lambda values: pa.array(values, pa.string_view())  # noqa: E731
    money = lambda values: pa.array([Decimal(f"{v:.2f}") for v in values], MONEY)  # noqa: E731
    ship = _days(rng, lines)
    commit = [d + dt.timedelta(days=int(k)) for d, k in zip(ship, rng.integers(-30, 60, lines), strict=True)]
    receipt = [d + dt.timedelta(days=int(k)) for d, k in zip(ship, rng.integers(1, 30, lines), strict=True)]
    nation_keys = lambda n: pa.array(rng.integers(0, len(NATIONS), n), pa.int64())  # noqa: E731
    return {
        "region": pa.table(
            {
                "r_regionkey": pa.array(range(3), pa.int64()),
                "r_name": text(["EUROPE", "ASIA", "AMERICA"]),
            }
        ),
        "nation": pa.table(
            {
                "n_nationkey": pa.array(range(len(NATIONS)), pa.int64()),
                "n_name": text([name for name, _ in NATIONS]),
                "n_regionkey": pa.array([region for _, region in NATIONS], pa.int64()),
            }
        ),
        "supplier": pa.table(
            {
                "s_suppkey": pa.array(range(1, suppliers + 1), pa.int64()),
                "s_name": text([f"Supplier#{k:09d}" for k in range(1, suppliers + 1)]),
                "s_address": text([f"{k} Main Street" for k in range(1, suppliers + 1)]),
                "s_nationkey": nation_keys(suppliers),
                "s_phone": text([f"33-{k:03d}-555" for k in range(1, suppliers + 1)]),
                "s_acctbal": money(rng.uniform(-999, 9999, suppliers)),
                "s_comment": text(rng.choice(["quickly", "slyly", "carefully"], suppliers)),
            }
        ),
        "customer": pa.table(
            {
                "c_custkey": pa.array(range(1, customers + 1), pa.int64()),
                "c_nationkey": nation_keys(customers),
                "c_mktsegment": text(rng.choice(["BUILDING", "MACHINERY", "AUTOMOBILE"], customers)),
            }
        ),
        "part": pa.table(
            {
                "p_partkey": pa.array(range(1, parts + 1), pa.int64()),
                "p_mfgr": text(rng.choice(["Manufacturer#1", "Manufacturer#2"], parts)),
                "p_type": text(
                    rng.choice(
                        ["PROMO BRUSHED TIN", "STANDARD POLISHED BRASS", "ECONOMY ANODIZED BRASS"], parts
                    )
                ),
                "p_size": pa.array(rng.choice([15, 20], parts), pa.int32()),
            }
        ),
        "partsupp": pa.table(
            {
                "ps_partkey": pa.array(np.repeat(np.arange(1, parts + 1), offers), pa.int64()),
                "ps_suppkey": pa.array(
                    np.concatenate([rng.choice(suppliers, offers, replace=False) + 1 for _ in range(parts)]),
                    pa.int64(),
                ),
                "ps_supplycost": money(rng.integers(100, 120, parts * offers)),  # ties for the minimum
            }
        ),
        "orders": pa.table(
            {
                "o_orderkey": pa.array(range(1, orders + 1), pa.int64()),
                "o_custkey": pa.array(rng.integers(1, customers + 1, orders), pa.int64()),
                "o_orderdate": pa.array(_days(rng, orders, 400, 1300), pa.date32()),
                "o_orderpriority": text(rng.choice(["1-URGENT", "2-HIGH", "3-MEDIUM", "5-LOW"], orders)),
                "o_shippriority": pa.array(np.zeros(orders, dtype="int32")),
            }
        ),
        "lineitem": pa.table(
            {
                "l_orderkey": pa.array(rng.integers(1, orders + 1, lines), pa.int64()),
                "l_partkey": pa.array(rng.integers(1, parts + 1, lines), pa.int64()),
                "l_suppkey": pa.array(rng.integers(1, suppliers + 1, lines), pa.int64()),
                "l_quantity": money(rng.integers(1, 51, lines)),
                "l_extendedprice": money(rng.uniform(900, 100_000, lines)),
                "l_discount": money(rng.integers(0, 11, lines) / 100),
                "l_tax": money(rng.integers(0, 9, lines) / 100),
                "l_returnflag": text(rng.choice(["A", "N", "R"], lines)),
                "l_linestatus": text(rng.choice(["F", "O"], lines)),
                "l_shipdate": pa.array(ship, pa.date32()),
                "l_commitdate": pa.array(commit, pa.date32()),
                "l_receiptdate": pa.array(receipt, pa.date32()),
                "l_shipmode": text(rng.choice(["MAIL", "SHIP", "AIR", "RAIL"], lines)),
            }
        ),
    }


@pytest.fixture(scope="module")
def tpch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tpch")
    frames = {}
    for name, table in _tables(np.random.default_rng(13)).items():
        pq.write_table(table, folder / f"{name}.parquet", row_group_size=200)
        frame = table.to_pandas()
        for column, kind in zip(table.column_names, table.schema.types, strict=True):
            if pa.types.is_decimal(kind):
                frame[column] = frame[column].astype("float64")
            elif pa.types.is_date(kind):
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
        frames[name] = frame
    return folder, frames


def _q1(t):
    li = t["lineitem"]
    li = li[li.l_shipdate <= pd.Timestamp("1998-09-02")]
    disc = li.l_extendedprice * (1 - li.l_discount)
    li = li.assign(disc=disc, charge=disc * (1 + li.l_tax))
    out = li.groupby(["l_returnflag", "l_linestatus"]).agg(
        sum_qty=("l_quantity", "sum"),
        sum_base_price=("l_extendedprice", "sum"),
        sum_disc_price=("disc", "sum"),
        sum_charge=("charge", "sum"),
        avg_qty=("l_quantity", "mean"),
        avg_price=("l_extendedprice", "mean"),
        avg_disc=("l_discount", "mean"),
        count_order=("l_quantity", "size"),
    )
    return out.reset_index()


def _q6(t):
    li = t["lineitem"]
    keep = (
        (li.l_shipdate >= pd.Timestamp("1994-01-01"))
        & (li.l_shipdate < pd.Timestamp("1995-01-01"))
        & li.l_discount.between(0.05, 0.07)
        & (li.l_quantity < 24)
    )
    return pd.DataFrame({"revenue": [(li.l_extendedprice * li.l_discount)[keep].sum()]})


def _q3(t):
    day = pd.Timestamp("1995-03-15")
    c = t["customer"][t["customer"].c_mktsegment == "BUILDING"]
    o = t["orders"][t["orders"].o_orderdate < day].merge(c, left_on="o_custkey", right_on="c_custkey")
    li = t["lineitem"][t["lineitem"].l_shipdate > day].merge(o, left_on="l_orderkey", right_on="o_orderkey")
    li = li.assign(revenue=li.l_extendedprice * (1 - li.l_discount))
    out = li.groupby(["l_orderkey", "o_orderdate", "o_shippriority"]).revenue.sum().reset_index()
    return out.sort_values(["revenue", "o_orderdate"], ascending=[False, True]).head(10)


def _q12(t):
    li = t["lineitem"]
    li = li[
        li.l_shipmode.isin(["MAIL", "SHIP"])
        & (li.l_receiptdate >= pd.Timestamp("1994-01-01"))
        & (li.l_receiptdate < pd.Timestamp("1995-01-01"))
        & (li.l_commitdate < li.l_receiptdate)
        & (li.l_shipdate < li.l_commitdate)
    ].merge(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
    high = li.o_orderpriority.isin(["1-URGENT", "2-HIGH"]).astype("int64")
    out = li.assign(high_line_count=high, low_line_count=1 - high).groupby("l_shipmode")
    return out[["high_line_count", "low_line_count"]].sum().reset_index()


def _q14(t):
    li = t["lineitem"]
    li = li[(li.l_shipdate >= pd.Timestamp("1995-09-01")) & (li.l_shipdate < pd.Timestamp("1995-10-01"))]
    li = li.merge(t["part"], left_on="l_partkey", right_on="p_partkey")
    revenue = li.l_extendedprice * (1 - li.l_discount)
    promo = revenue.where(li.p_type.str.startswith("PROMO"), 0.0).sum()
    total = revenue.sum()
    return pd.DataFrame({"promo": [promo], "total": [total], "promo_revenue": [100 * promo / total]})


def _q2(t):
    region = t["region"][t["region"].r_name == "EUROPE"]
    nation = t["nation"].merge(region, left_on="n_regionkey", right_on="r_regionkey")
    supplier = t["supplier"].merge(nation, left_on="s_nationkey", right_on="n_nationkey")
    offers = t["partsupp"].merge(supplier, left_on="ps_suppkey", right_on="s_suppkey")
    part = t["part"][(t["part"].p_size == 15) & t["part"].p_type.str.endswith("BRASS")]
    offers = part.merge(offers, left_on="p_partkey", right_on="ps_partkey")
    best = offers[offers.ps_supplycost == offers.groupby("p_partkey").ps_supplycost.transform("min")]
    columns = ["s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment"]
    order = ["s_acctbal", "n_name", "s_name", "p_partkey"]
    return best[columns].sort_values(order, ascending=[False, True, True, True]).head(100)


def _q4(t):
    o, li = t["orders"], t["lineitem"]
    o = o[(o.o_orderdate >= pd.Timestamp("1993-07-01")) & (o.o_orderdate < pd.Timestamp("1993-10-01"))]
    late = set(li.l_orderkey[li.l_commitdate < li.l_receiptdate])
    o = o[[key in late for key in o.o_orderkey]]
    return o.groupby("o_orderpriority").size().rename("order_count").reset_index()


def _q5(t):
    region = t["region"][t["region"].r_name == "ASIA"]
    nation = t["nation"].merge(region, left_on="n_regionkey", right_on="r_regionkey")
    customer = t["customer"].merge(nation, left_on="c_nationkey", right_on="n_nationkey")
    o = t["orders"]
    o = o[(o.o_orderdate >= pd.Timestamp("1994-01-01")) & (o.o_orderdate < pd.Timestamp("1995-01-01"))]
    li = t["lineitem"].merge(
        o.merge(customer, left_on="o_custkey", right_on="c_custkey"),
        left_on="l_orderkey",
        right_on="o_orderkey",
    )
    li = li.merge(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
    li = li[li.c_nationkey == li.s_nationkey]
    li = li.assign(revenue=li.l_extendedprice * (1 - li.l_discount))
    return li.groupby("n_name").revenue.sum().reset_index().sort_values("revenue", ascending=False)


def _q7(t):
    names = t["nation"].set_index("n_nationkey").n_name
    s = t["supplier"].assign(supp_nation=t["supplier"].s_nationkey.map(names))
    c = t["customer"].assign(cust_nation=t["customer"].c_nationkey.map(names))
    li = t["lineitem"]
    li = li[(li.l_shipdate >= pd.Timestamp("1995-01-01")) & (li.l_shipdate <= pd.Timestamp("1996-12-31"))]
    li = li.merge(s, left_on="l_suppkey", right_on="s_suppkey").merge(
        t["orders"], left_on="l_orderkey", right_on="o_orderkey"
    )
    li = li.merge(c, left_on="o_custkey", right_on="c_custkey")
    pairs = {("FRANCE", "GERMANY"), ("GERMANY", "FRANCE")}
    li = li[[pair in pairs for pair in zip(li.supp_nation, li.cust_nation, strict=True)]]
    li = li.assign(l_year=li.l_shipdate.dt.year, volume=li.l_extendedprice * (1 - li.l_discount))
    keys = ["supp_nation", "cust_nation", "l_year"]
    return li.groupby(keys).volume.sum().rename("revenue").reset_index()


QUERIES = {
    "q1": _q1,
    "q2": _q2,
    "q3": _q3,
    "q4": _q4,
    "q5": _q5,
    "q6": _q6,
    "q7": _q7,
    "q12": _q12,
    "q14": _q14,
}


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize("query", list(QUERIES))
def test_tpch_flow_equals_pandas(tpch, query, mode):
    folder, frames = tpch
    flow = Flow.load(FLOWS / f"{query}.flow.yaml")
    got = flow.run(progress=False, record=False, mode=mode, data=str(folder)).outputs["report"]
    want = QUERIES[query](frames)
    assert len(want) > 0 and not want.isna().any().any()
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False, rtol=1e-9
    )
