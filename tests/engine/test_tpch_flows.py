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


def _tables(rng) -> dict[str, pa.Table]:
    customers, parts, orders, lines = 60, 40, 300, 1500
    text = lambda values: pa.array(values, pa.string_view())  # noqa: E731
    money = lambda values: pa.array([Decimal(f"{v:.2f}") for v in values], MONEY)  # noqa: E731
    ship = _days(rng, lines)
    commit = [d + dt.timedelta(days=int(k)) for d, k in zip(ship, rng.integers(-30, 60, lines), strict=True)]
    receipt = [d + dt.timedelta(days=int(k)) for d, k in zip(ship, rng.integers(1, 30, lines), strict=True)]
    return {
        "customer": pa.table(
            {
                "c_custkey": pa.array(range(1, customers + 1), pa.int64()),
                "c_mktsegment": text(rng.choice(["BUILDING", "MACHINERY", "AUTOMOBILE"], customers)),
            }
        ),
        "part": pa.table(
            {
                "p_partkey": pa.array(range(1, parts + 1), pa.int64()),
                "p_type": text(
                    rng.choice(["PROMO BRUSHED TIN", "STANDARD POLISHED", "ECONOMY ANODIZED"], parts)
                ),
            }
        ),
        "orders": pa.table(
            {
                "o_orderkey": pa.array(range(1, orders + 1), pa.int64()),
                "o_custkey": pa.array(rng.integers(1, customers + 1, orders), pa.int64()),
                "o_orderdate": pa.array(_days(rng, orders, 900, 1300), pa.date32()),
                "o_orderpriority": text(rng.choice(["1-URGENT", "2-HIGH", "3-MEDIUM", "5-LOW"], orders)),
                "o_shippriority": pa.array(np.zeros(orders, dtype="int32")),
            }
        ),
        "lineitem": pa.table(
            {
                "l_orderkey": pa.array(rng.integers(1, orders + 1, lines), pa.int64()),
                "l_partkey": pa.array(rng.integers(1, parts + 1, lines), pa.int64()),
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


QUERIES = {"q1": _q1, "q3": _q3, "q6": _q6, "q12": _q12, "q14": _q14}


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
