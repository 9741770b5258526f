"""The numpy path for arithmetic on int64/float64 columns gives exactly what pandas gives, or steps aside."""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from aqtra_nb.expr import numeric, parse_expression

INDEX = pd.Index([7, 3, 5, 1, 9, 2])
COLUMNS = {
    "int": pd.Series([0, 1, -1, 2**62, -(2**63), 7], index=INDEX, dtype="int64"),
    "int_zeros": pd.Series([0, 0, 3, -3, 1, 0], index=INDEX, dtype="int64"),
    "float": pd.Series([0.0, -0.0, 1.5, np.nan, np.inf, -2.5], index=INDEX, dtype="float64"),
}
SCALARS = [0, 3, -(2**63), 0.0, 2.5, float("nan")]
PANDAS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def operands():
    series = list(COLUMNS.values())
    yield from itertools.product(series, series)
    for column, scalar in itertools.product(series, SCALARS):
        yield column, scalar
        yield scalar, column
    empty = COLUMNS["int"].iloc[:0]
    yield empty, 1.5
    yield empty, COLUMNS["float"].iloc[:0]


@pytest.mark.parametrize("op", list(PANDAS))
def test_arithmetic_equals_pandas(op):
    with np.errstate(all="ignore"):
        for left, right in operands():
            fast = numeric.arithmetic(op, left, right)
            assert fast is not None
            expected = PANDAS[op](left, right)
            pdt.assert_series_equal(fast, expected, check_names=False)


def test_negation_equals_pandas():
    for column in COLUMNS.values():
        pdt.assert_series_equal(numeric.negate(column), -column, check_names=False)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (pd.Series([1, 2], dtype="Int64"), 1),  # nullable
        (pd.Series([1.0, None], dtype="float64[pyarrow]"), 1),  # Arrow
        (pd.Series([True, False]), 1),  # bools
        (pd.Series([1, 2], dtype="int32"), 1),  # other widths keep pandas' rules
        (pd.Series([1, 2]), True),  # a bool scalar
        (pd.Series([1, 2]), np.int64(1)),  # numpy scalars
        (pd.Series([1, 2]), None),
        (pd.Series([1, 2]), pd.Series([1, 2], index=[1, 0])),  # pandas would align
        (1, 2),  # no column at all
    ],
)
def test_other_cases_are_left_to_pandas(left, right):
    assert numeric.arithmetic("+", left, right) is None


def test_floor_division_and_modulo_are_left_to_pandas():
    column = COLUMNS["int_zeros"]
    assert numeric.arithmetic("//", column, 0) is None and numeric.arithmetic("%", column, 0) is None


def test_expressions_use_it_and_keep_the_frame_index(monkeypatch):
    frame = pd.DataFrame({"a": COLUMNS["int"], "b": COLUMNS["float"]})
    fast = []
    original = numeric.arithmetic
    monkeypatch.setattr(numeric, "arithmetic", lambda *args: fast.append(original(*args)) or fast[-1])
    with np.errstate(all="ignore"):
        expected = (frame["a"] * 2 - frame["b"] / 4).rename(None)
    result = parse_expression("a * 2 - b / 4").evaluate(frame)
    pdt.assert_series_equal(result, expected)
    assert result.index.is_(frame.index)
    assert len(fast) == 3 and all(r is not None for r in fast)  # columns of one frame: no alignment
