"""The dtype worked out without running an expression is the dtype running it gives, and a derive
step's planned schema equals the schema of actually running it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aqtra_nb import Flow
from aqtra_nb.expr import parse_expression
from aqtra_nb.expr.dtypes import static_dtype

FRAME = pd.DataFrame(
    {
        "i": pd.Series([0, 1, -3, 2**40, 7], dtype="int64"),
        "f": pd.Series([0.5, np.nan, -2.0, np.inf, 3.0], dtype="float64"),
        "n": pd.Series([1, None, 3, 4, 5], dtype="Int64"),
        "s": pd.Series(["a", "b", None, "d", "e"], dtype="str"),
        "b": pd.Series([True, False, True, True, False]),
    }
)
PARAMS = {"k": 3, "x": 0.25, "flag": True, "name": "n"}
DTYPES = dict(zip(FRAME.columns, FRAME.dtypes, strict=True))

leaves = st.sampled_from(["i", "f", "n", "s", "b", "2", "0", "1.5", "@k", "@x", "@flag", "true", "-i"])
OPS = ["+", "-", "*", "/", "//", "%", "**", "==", "<"]


def _join(children):
    return st.tuples(children, st.sampled_from(OPS), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")


expressions = st.recursive(
    leaves, lambda children: _join(children) | children.map(lambda e: f"-{e}"), max_leaves=6
)


def _evaluated_dtype(text: str, frame: pd.DataFrame):
    result = parse_expression(text).evaluate(frame, PARAMS)
    return result.dtype if isinstance(result, pd.Series) else None


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_a_known_dtype_is_the_dtype_running_gives(text: str):
    expr = parse_expression(text)
    known = static_dtype(expr.node, DTYPES, PARAMS)
    if known is None:
        return
    try:
        on_data = _evaluated_dtype(text, FRAME)
    except Exception as exc:  # an expression may fail on data; it must not be given a dtype then
        pytest.fail(f"{text!r}: static dtype {known} but running raised {exc!r}")
    assert on_data == known, text
    assert _evaluated_dtype(text, FRAME.iloc[:0]) == known, text


@pytest.mark.parametrize(
    ("text", "dtype"),
    [
        ("i + 1", "int64"),
        ("i * @k - i", "int64"),
        ("i / 2", "float64"),
        ("i + f", "float64"),
        ("-(f * 1.5)", "float64"),
        ("i + @x", "float64"),
    ],
)
def test_numeric_arithmetic_is_known(text: str, dtype: str):
    assert static_dtype(parse_expression(text).node, DTYPES, PARAMS) == np.dtype(dtype)


@pytest.mark.parametrize(
    "text", ["n + 1", "s", "i // 2", "i ** 2", "abs(i)", "i > 1", "1 + 2", "b + 1", "i + @flag"]
)
def test_everything_else_is_left_to_running_it(text: str):
    assert static_dtype(parse_expression(text).node, DTYPES, PARAMS) is None


def test_a_derive_step_plans_the_schema_running_it_gives():
    f = Flow("dtypes", parameters={"k": 3})
    rows = f.from_frame("rows", frame=FRAME)
    derived = rows.derive(
        "derived",
        columns={"twice": "i * 2", "ratio": "i / @k", "mixed": "twice + f", "text": "upper(s)", "i": "i - 1"},
    )
    planned = f.plan().steps[derived.id].schema
    result = f.run(progress=False, record=False)["derived"]
    out = result.dtypes.to_dict()
    assert out["twice"] == np.dtype("int64") and out["ratio"] == np.dtype("float64")
    assert out["mixed"] == np.dtype("float64") and out["i"] == np.dtype("int64")
    assert list(planned.columns) == list(result.columns)
    assert planned.dtypes.to_dict() == out
