from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqtra_nb.errors import AqtraError
from aqtra_nb.expr import FUNCTIONS, parse_aggregation, parse_expression

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FRAME = pd.DataFrame(
    {
        "a": [1.5, -2.0, 0.0, np.nan],
        "b": pd.array([3, None, 0, -1], dtype="Int64"),
        "s": pd.array(["x", None, "Yz", ""], dtype="str"),
        "d": pd.to_datetime(["2020-01-01", None, "1999-12-31", "2020-02-29"]),
        "s p": [True, False, True, False],
    }
)
PARAMS = {"p": 2, "q": ["x", "y"], "t": "2020-01-01"}

# pieces of the language, of Python beyond it, and of plain junk
TOKENS = [
    *"a b s d `a` ` @p @q @t @ @zz 1 0 2.5 -1 1e3 'x' \"Yz\" '2020-01-01' ' \" '''".split(),
    *"True False None true null + - * / // % ** == != < <= > >= = := and or not in is if else".split(),
    *"lambda for import yield ( ) [ ] { } , : . ; # \\ ~ & | ^ __class__ __import__ _ é ﬁ f' b'".split(),
    *"*args **kw x=1 lower is_null coalesce if_else case concat substring contains round pow".split(),
    *"date year date_trunc add_days days_between sum count count_distinct lowr".split(),
    *["`s p`", "not in", "\n", "\t", "\x00"],
]
token_soup = st.lists(st.tuples(st.sampled_from(["", " "]), st.sampled_from(TOKENS)), max_size=25).map(
    lambda pairs: "".join(gap + token for gap, token in pairs)
)

# well-formed but type-careless expressions: every function, with arguments of any kind
ATOMS = [*"a b s d @p @q @t 1 0 -2.5 'x' '2020-01-01' 'week' true null".split(), "`s p`"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", ">=", "and", "or"]


def _binary(parts: tuple[str, str, str]) -> str:
    return f"({parts[0]} {parts[1]} {parts[2]})"


def _membership(parts: tuple[str, list[str]]) -> str:
    return f"({parts[0]} in [{', '.join(parts[1])}])"


def _call(parts: tuple[str, list[str]]) -> str:
    return f"{parts[0]}({', '.join(parts[1])})"


def _arguments(name: str, children: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, list[str]]]:
    function = FUNCTIONS[name]
    arguments = st.lists(children, min_size=function.min_args, max_size=function.max_args or 4)
    return st.tuples(st.just(name), arguments)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS), children).map(_binary),
        st.tuples(st.sampled_from(["not", "-"]), st.just(""), children).map(_binary),
        st.tuples(children, st.lists(st.sampled_from(ATOMS), max_size=3)).map(_membership),
        st.sampled_from(sorted(FUNCTIONS)).flatmap(lambda name: _arguments(name, children)).map(_call),
    )


ast_like = st.deferred(lambda: st.sampled_from(ATOMS) | st.sampled_from(ATOMS) | _compound(ast_like))


def only_aqtra_errors(parse: Callable[[str], Any], text: str) -> Any:
    """The parse result, or None when it raised an AqtraError; any other exception fails the test."""
    try:
        return parse(text)
    except AqtraError:
        return None


@FUZZ
@given(st.text(max_size=200))
def test_random_text_raises_only_aqtra_errors(text: str) -> None:
    only_aqtra_errors(parse_expression, text)
    only_aqtra_errors(parse_aggregation, text)


@FUZZ
@given(token_soup)
def test_random_token_soup_raises_only_aqtra_errors(text: str) -> None:
    only_aqtra_errors(parse_aggregation, text)
    expr = only_aqtra_errors(parse_expression, text)
    if expr is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = expr.evaluate(FRAME, PARAMS)
            except AqtraError:
                return
        if expr.columns:
            assert isinstance(result, pd.Series) and result.index.equals(FRAME.index)


@FUZZ
@given(ast_like)
def test_random_well_formed_expressions_evaluate_or_raise_aqtra_errors(text: str) -> None:
    expr = only_aqtra_errors(parse_expression, text)  # a column where a literal must be fails here
    if expr is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for frame in (FRAME, FRAME.iloc[:0]):
            try:
                result = expr.evaluate(frame, PARAMS)
            except AqtraError:
                continue
            if expr.columns:
                assert isinstance(result, pd.Series) and result.index.equals(frame.index)
            else:
                assert not isinstance(result, pd.Series | pd.DataFrame)
    only_aqtra_errors(parse_aggregation, f"mean({text})")


@settings(FUZZ, max_examples=100)
@given(st.lists(st.sampled_from(["(", "-", "not ", "lower(", "[", "`x` + "]), min_size=50, max_size=400))
def test_deep_nesting_never_overflows_the_stack(prefix: list[str]) -> None:
    text = "".join(prefix) + "a"
    only_aqtra_errors(parse_expression, text)
    only_aqtra_errors(parse_aggregation, f"sum({text})")


# --- arithmetic against a numpy reference ----------------------------------------------------------------

NUMBERS = pd.DataFrame({"x": [0.0, -1.5, 2.0, np.nan, 1e300, -0.0], "y": [3.0, 0.0, -2.25, 4.0, 1e-300, 7.0]})
ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}

# a tree is ("column", name) | ("number", value) | ("-", tree) | (op, left, right)
leaves = st.one_of(
    st.sampled_from(["x", "y"]).map(lambda name: ("column", name)),
    st.floats(-100, 100, allow_nan=False).map(lambda value: ("number", value)),
)
trees = st.recursive(
    leaves,
    lambda children: (
        st.tuples(st.sampled_from(sorted(ARITHMETIC)), children, children) | st.tuples(st.just("-"), children)
    ),
    max_leaves=16,
)


def render(tree: tuple) -> str:
    """Fully parenthesised text, so that precedence cannot differ from the reference."""
    match tree:
        case ("column", name):
            return name
        case ("number", value):
            return f"({value!r})"
        case ("-", operand):
            return f"(-{render(operand)})"
        case (op, left, right):
            return f"({render(left)} {op} {render(right)})"
    raise AssertionError(tree)


def reference(tree: tuple) -> object:
    match tree:
        case ("column", name):
            return NUMBERS[name].to_numpy()
        case ("number", value):
            return np.float64(value)
        case ("-", operand):
            return -reference(operand)
        case (op, left, right):
            return ARITHMETIC[op](reference(left), reference(right))
    raise AssertionError(tree)


@FUZZ
@given(trees)
def test_arithmetic_matches_numpy(tree: tuple) -> None:
    with np.errstate(all="ignore"):
        expected = reference(tree)
    expr = parse_expression(render(tree))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = expr.evaluate(NUMBERS, {})
    # `**` may differ in the last bit: numpy's array power may use a vectorized pow, its scalar one libm's
    if expr.columns:
        assert result.dtype == "float64"
        np.testing.assert_allclose(result.to_numpy(), expected, rtol=1e-14, atol=0)
    else:
        np.testing.assert_allclose(np.float64(result), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "text", ["2 ** 3 ** 2", "-2 ** 2", "7 - 2 - 1", "2 * 3 + 4 / 8", "(1 + 2) * -(3 - 5)"]
)
def test_precedence_follows_python(text: str) -> None:
    expected = {"2 ** 3 ** 2": 512.0, "-2 ** 2": -4.0, "7 - 2 - 1": 4, "2 * 3 + 4 / 8": 6.5}
    expected["(1 + 2) * -(3 - 5)"] = 6
    assert parse_expression(text).evaluate(NUMBERS, {}) == expected[text]
