"""Decimal columns become float64 holding the double nearest each decimal (what `float(Decimal(…))` and
pandas' parsing of the text give), so a condition on the value holds whether it is pushed into the reader
(compared in decimals) or evaluated in pandas. Arrow's own cast is one ulp off for about one value in
seven (32986.52 → 32986.520000000004)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow
from aqtra_nb.components import arrow

PRICES = ["32986.52", "6476.15", "-62105.20", None, "0.07", "82746.18", "-0.01", "40675.95"]


@pytest.mark.parametrize(("precision", "scale"), [(15, 2), (12, 5), (9, 0), (15, 15), (4, 4)])
def test_decimals_become_the_nearest_double(precision, scale):
    rng = np.random.default_rng(precision * 100 + scale)
    integers = rng.integers(-(10**precision) + 1, 10**precision, 5000)
    values = [None if i % 11 == 0 else Decimal(int(n)).scaleb(-scale) for i, n in enumerate(integers)]
    array = pa.array(values, pa.decimal128(precision, scale)).slice(7, 4000)  # an offset, nulls
    got = arrow._cast_chunk(array, pa.float64())
    assert got.to_pylist() == [None if v is None else float(v) for v in values[7:4007]]


def test_wider_decimals_are_left_to_arrow():
    array = pa.array([Decimal("1234567890123456.5")], pa.decimal128(17, 1))
    assert arrow._decimal_as_float(array) is None
    assert arrow._cast_chunk(array, pa.float64()).to_pylist() == [1234567890123456.5]


@pytest.fixture
def prices(tmp_path):
    path = tmp_path / "prices.parquet"
    table = pa.table(
        {
            "id": range(len(PRICES)),
            "price": pa.array([None if p is None else Decimal(p) for p in PRICES], pa.decimal128(15, 2)),
        }
    )
    pq.write_table(table, path, row_group_size=3)
    return path


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_a_read_decimal_equals_its_literal_pushed_or_not(prices, mode):
    f = Flow("prices")
    rows = f.read_parquet("rows", path=str(prices))
    pushed = rows.filter("pushed", condition="price == 32986.52")  # compared in decimals by Arrow
    in_pandas = rows.filter("in_pandas", condition="price == 32986.52 or price == 40675.95")  # (an `or`)
    result = f.run(progress=False, record=False, mode=mode, cache=False)
    assert result[rows.id]["price"].tolist()[:3] == [32986.52, 6476.15, -62105.2]
    assert f.plan().steps["in_pandas"].applied_at_source is False
    assert result[pushed.id]["id"].tolist() == [0]
    assert result[in_pandas.id]["id"].tolist() == [0, 7]
