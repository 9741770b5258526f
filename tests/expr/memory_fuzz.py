"""Run by test_limits.py in a subprocess under a memory limit: random expressions with large literals.

Prints "ok N" after N examples when every one evaluated or raised an AqtraError; any other exception
(a MemoryError above all) propagates and the process exits non-zero.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqtra_nb.errors import AqtraError
from aqtra_nb.expr import FUNCTIONS, parse_expression

ROWS = 20_000
FRAME = pd.DataFrame(
    {
        "s": pd.Series(np.resize(["north", "south-east", None, ""], ROWS), dtype="str"),
        "n": np.resize([1, 7, 1000, -3], ROWS),
        "x": np.resize([0.5, np.nan, 1e300], ROWS),
    }
)
LARGE = ["1000000", "123456789", "99999999999", "2 ** 62", "1e308", "10 ** 18", f"'{'x' * 2000}'"]
ATOMS = ["s", "n", "x", "'ab'", "''", "2", "@big", *LARGE]
OPERATORS = ["+", "*", "-", "**", "//", "%"]


def _binary(parts: tuple[str, str, str]) -> str:
    return f"({parts[0]} {parts[1]} {parts[2]})"


def _call(parts: tuple[str, list[str]]) -> str:
    return f"{parts[0]}({', '.join(parts[1])})"


def _arguments(name: str, children: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, list[str]]]:
    function = FUNCTIONS[name]
    arguments = st.lists(children, min_size=function.min_args, max_size=function.max_args or 4)
    return st.tuples(st.just(name), arguments)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    text_functions = ["concat", "replace", "substring", "upper", "len", "coalesce", "if_else", "pow"]
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS), children).map(_binary),
        st.sampled_from(text_functions).flatmap(lambda name: _arguments(name, children)).map(_call),
    )


expressions = st.deferred(lambda: st.sampled_from(ATOMS) | _compound(expressions))
count = 0


@settings(max_examples=int(sys.argv[1]), deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions, st.sampled_from([3, 10**6, 10**12, "yy" * 1000]))
def check(text: str, big: object) -> None:
    global count
    count += 1
    try:
        parse_expression(text).evaluate(FRAME, {"big": big})
    except AqtraError:
        pass


if __name__ == "__main__":
    check()
    print("ok", count)
