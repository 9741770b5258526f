from __future__ import annotations

import datetime
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import aqtra_nb.expr
from aqtra_nb.errors import ExpressionError, UnknownColumn
from aqtra_nb.expr import parse_expression

NA = pd.NA


def arrow(values: list, type_: pa.DataType) -> pd.Series:
    return pd.Series(pa.array(values, type_), dtype=pd.ArrowDtype(type_))


@pytest.fixture
def frame() -> pd.DataFrame:
    """Three rows over the dtypes pandas 3 users meet; the index is not 0..n-1 on purpose."""
    index = pd.Index([10, 20, 30])
    data = {
        "amount": [10.0, 25.5, np.nan],
        "qty": np.array([1, 2, 3], dtype="int64"),
        "discount": pd.array([0.1, None, 0.0], dtype="Float64"),
        "units": pd.array([5, None, 7], dtype="Int64"),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "ok": [True, False, True],
        "status": pd.array(["paid", "new", None], dtype="str"),
        "name": pd.array(["  Ann ", "bob", "Cy"], dtype="str"),
        "order total": [1, 2, 3],
        "day": pd.to_datetime(["1998-09-02", "1998-12-31 13:45", None], format="ISO8601"),
        "zoned": pd.to_datetime(["2024-03-31 00:30", "2024-10-27 12:00", "2024-01-01 00:00"]).tz_localize(
            "Europe/Berlin"
        ),
        "a_text": arrow(["x", None, "Zed"], pa.string()),
        "a_int": arrow([1, None, 3], pa.int64()),
        "a_float": arrow([1.5, None, -2.5], pa.float64()),
        "a_ts": arrow(
            [datetime.datetime(1998, 9, 2), None, datetime.datetime(2001, 1, 1)], pa.timestamp("us")
        ),
        "a_date": arrow([datetime.date(1998, 9, 2), None, datetime.date(2001, 1, 1)], pa.date32()),
        "a_bool": arrow([True, None, False], pa.bool_()),
    }
    return pd.DataFrame(
        {k: v.set_axis(index) if isinstance(v, pd.Series) else v for k, v in data.items()}, index
    )


def run(text: str, frame: pd.DataFrame, **params: object) -> object:
    return parse_expression(text).evaluate(frame, params)


def values(result: object) -> list:
    """The Series' values with every kind of null as None."""
    assert isinstance(result, pd.Series)
    return [
        None if (v is NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))) else v for v in result
    ]


def assert_values(result: object, expected: list) -> None:
    assert values(result) == [pytest.approx(v) if isinstance(v, float) else v for v in expected]


# --- shape of the result -----------------------------------------------------------------------------


def test_the_documented_example(frame: pd.DataFrame) -> None:
    result = run("amount >= @min_amount and status in ('paid', 'shipped')", frame, min_amount=5)
    assert values(result) == [True, False, None]
    assert list(result.index) == [10, 20, 30]


def test_no_column_gives_a_scalar(frame: pd.DataFrame) -> None:
    assert run("1 + 2", frame) == 3
    assert type(run("1 + 2", frame)) is int
    assert run("7 / 2", frame) == 3.5
    assert run("@a * 2", frame, a=21) == 42
    assert run("upper('abc')", frame) == "ABC"
    assert run("date('1998-09-02')", frame) == pd.Timestamp("1998-09-02")
    assert run("1 < 2 <= 2", frame) is True
    assert run("null", frame) is None


def test_scalars_broadcast_when_columns_are_involved(frame: pd.DataFrame) -> None:
    result = run("if_else(ok, 1, 0)", frame)
    assert isinstance(result, pd.Series)
    assert list(result) == [1, 0, 1]
    assert result.dtype == "int64"
    assert list(result.index) == [10, 20, 30]
    coalesced = run("coalesce(1, amount)", frame)
    assert isinstance(coalesced, pd.Series) and list(coalesced) == [1, 1, 1]


def test_result_is_unnamed(frame: pd.DataFrame) -> None:
    assert run("amount", frame).name is None


def test_duplicate_index_labels_stay_aligned(frame: pd.DataFrame) -> None:
    frame = frame.set_axis([1, 1, 2])
    assert values(run("if_else(qty > 1, amount, 0.0) + qty", frame)) == [1.0, 27.5, None]


# --- operators ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount * 2", [20.0, 51.0, None]),
        ("qty + `order total`", [2, 4, 6]),
        ("qty / 2", [0.5, 1.0, 1.5]),
        ("qty // 2", [0, 1, 1]),
        ("qty % 2", [1, 0, 1]),
        ("qty ** 2", [1.0, 4.0, 9.0]),
        ("qty ** -1", [1.0, 0.5, 1 / 3]),
        ("-qty", [-1, -2, -3]),
        ("units * discount", [0.5, None, 0.0]),
        ("a_int + 1", [2, None, 4]),
        ("a_float * a_int", [1.5, None, -7.5]),
        ("status + '!'", ["paid!", "new!", None]),
        ("a_text + '?'", ["x?", None, "Zed?"]),
    ],
)
def test_arithmetic(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert_values(run(text, frame), expected)


def test_scalar_arithmetic_follows_the_vectorized_rules(frame: pd.DataFrame) -> None:
    assert run("1 / 0", frame) == math.inf
    assert run("2 ** -1", frame) == 0.5
    assert run("-(3)", frame) == -3
    assert math.isnan(run("0.0 / 0", frame))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status == 'paid'", [True, False, None]),
        ("status != 'paid'", [False, True, None]),
        ("'b' < name", [False, True, False]),
        ("a_text == 'x'", [True, None, False]),
        ("amount > 20", [False, True, None]),
        ("1 < qty <= 2", [False, True, False]),
        ("qty < units < 6", [True, None, False]),
        ("day < date('1998-10-01')", [True, False, None]),
        ("day >= '1998-12-01'", [False, True, None]),
        ("zoned >= date('2024-03-31')", [True, True, False]),
        ("a_ts == date('1998-09-02')", [True, None, False]),
        ("a_date == date('1998-09-02')", [True, None, False]),
        ("a_date < day", [False, None, None]),
        ("day == @when", [True, False, None]),
    ],
)
def test_comparisons(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert values(run(text, frame, when=datetime.date(1998, 9, 2))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not (amount > 20)", [True, False, None]),
        ("not (status == 'paid')", [False, True, None]),
        ("status != 'paid' or amount > 20", [False, True, None]),
        ("qty == @nothing", [None, None, None]),
        ("units in (5, 6)", [True, None, False]),
    ],
)
def test_comparing_with_null_is_unknown_as_in_sql(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert values(run(text, frame, nothing=None)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok and qty > 1", [False, False, True]),
        ("ok or flag", [True, None, True]),
        ("flag and false", [False, False, False]),
        ("flag or true", [True, True, True]),
        ("flag and a_bool", [True, None, False]),
        ("not flag", [False, None, True]),
        ("not ok", [False, True, False]),
        ("not a_bool", [False, None, True]),
        ("ok and null", [None, False, None]),
        ("true and ok", [True, False, True]),
    ],
)
def test_logic_treats_null_as_unknown(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert values(run(text, frame)) == expected


def test_scalar_logic(frame: pd.DataFrame) -> None:
    assert run("true and not false", frame) is True
    assert run("null or false", frame) is NA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status in ('paid', 'shipped')", [True, False, None]),
        ("status not in ('paid', 'shipped')", [False, True, None]),
        ("qty in [1, 3]", [True, False, True]),
        ("qty in (-1, 2)", [False, True, False]),
        ("status in @choices", [False, True, None]),
        ("status in (@one, 'paid')", [True, True, None]),
        ("status in ('paid')", [True, False, None]),
        ("qty in ()", [False, False, False]),
        ("a_text in ('Zed',)", [False, None, True]),
    ],
)
def test_in(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert values(run(text, frame, choices=["new"], one="new")) == expected


# --- functions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is_null(amount)", [False, False, True]),
        ("not_null(status)", [True, True, False]),
        ("is_null(a_int)", [False, True, False]),
        ("coalesce(amount, 0)", [10.0, 25.5, 0.0]),
        ("coalesce(status, a_text, 'none')", ["paid", "new", "Zed"]),
        ("coalesce(null, units, qty)", [5, 2, 7]),
        ("if_else(flag, 'y', 'n')", ["y", "n", "n"]),
        ("if_else(amount > 20, amount, null)", [None, 25.5, None]),
        ("if_else(ok, null, qty)", [None, 2, None]),
        ("case(qty == 1, 'one', qty == 2, 'two', 'many')", ["one", "two", "many"]),
        ("case(qty == 1, 'one', qty == 2, 'two')", ["one", "two", None]),
        ("case(flag, 1, true, 2)", [1, 2, 2]),
        ("lower(name)", ["  ann ", "bob", "cy"]),
        ("upper(a_text)", ["X", None, "ZED"]),
        ("strip(name)", ["Ann", "bob", "Cy"]),
        ("len(status)", [4, 3, None]),
        ("contains(name, 'o')", [False, True, False]),
        ("contains(name, '.')", [False, False, False]),
        ("startswith(status, 'pa')", [True, False, False]),
        ("endswith(name, 'y')", [False, False, True]),
        ("replace(name, ' ', '_')", ["__Ann_", "bob", "Cy"]),
        ("concat(status, '-', qty)", ["paid-1", "new-2", None]),
        ("concat(`order total`, amount)", ["110.0", "225.5", None]),
        ("substring(name, 3, 2)", ["An", "b", ""]),
        ("substring(status, 2)", ["aid", "ew", None]),
        ("abs(a_float)", [1.5, None, 2.5]),
        ("round(amount / 3, 1)", [3.3, 8.5, None]),
        ("round(a_float)", [2.0, None, -2.0]),
        ("floor(a_float)", [1.0, None, -3.0]),
        ("ceil(discount)", [1.0, None, 0.0]),
        ("sqrt(qty * 4)", [2.0, math.sqrt(8), math.sqrt(12)]),
        ("log(exp(qty))", [1.0, 2.0, 3.0]),
        ("pow(qty, 2)", [1.0, 4.0, 9.0]),
        ("year(day)", [1998, 1998, None]),
        ("month(a_date)", [9, None, 1]),
        ("day(a_ts)", [2, None, 1]),
        ("weekday(day)", [2, 3, None]),
        ("year(zoned)", [2024, 2024, 2024]),
        ("days_between(day, date('1999-01-01'))", [121, 0, None]),
        ("days_between(date('1999-01-01'), day)", [-121, 0, None]),
        ("days_between(a_date, a_ts)", [0, None, 0]),
    ],
)
def test_functions(frame: pd.DataFrame, text: str, expected: list) -> None:
    assert_values(run(text, frame), expected)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("day", ["1998-09-02", "1998-12-31", None]),
        ("week", ["1998-08-31", "1998-12-28", None]),
        ("month", ["1998-09-01", "1998-12-01", None]),
        ("quarter", ["1998-07-01", "1998-10-01", None]),
        ("year", ["1998-01-01", "1998-01-01", None]),
    ],
)
def test_date_trunc(frame: pd.DataFrame, unit: str, expected: list) -> None:
    result = run(f"date_trunc('{unit}', day)", frame)
    assert result.dtype == frame["day"].dtype
    assert values(result) == [None if e is None else pd.Timestamp(e) for e in expected]


def test_date_trunc_keeps_the_time_zone_and_wall_time(frame: pd.DataFrame) -> None:
    result = run("date_trunc(@unit, zoned)", frame, unit="month")
    assert result.dtype == frame["zoned"].dtype
    assert [t.isoformat() for t in result] == [
        "2024-03-01T00:00:00+01:00",
        "2024-10-01T00:00:00+02:00",
        "2024-01-01T00:00:00+01:00",
    ]


def test_add_days_counts_calendar_days_in_the_local_zone(frame: pd.DataFrame) -> None:
    result = run("add_days(zoned, 1)", frame)
    assert [t.isoformat() for t in result] == [
        "2024-04-01T00:30:00+02:00",
        "2024-10-28T12:00:00+01:00",
        "2024-01-02T00:00:00+01:00",
    ]
    assert values(run("add_days(day, units)", frame)) == [pd.Timestamp("1998-09-07"), None, None]
    assert values(run("add_days(a_date, -1)", frame))[0] == pd.Timestamp("1998-09-01")


def test_date_parses_a_text_column(frame: pd.DataFrame) -> None:
    text = frame.assign(when=pd.array(["2020-01-02", None, "2020-03-04T05:06"], dtype="str"))
    assert values(run("date(when)", text)) == [
        pd.Timestamp("2020-01-02"),
        None,
        pd.Timestamp("2020-03-04 05:06"),
    ]


# --- empty frames: the engine infers output dtypes from them ------------------------------------------


@pytest.mark.parametrize(
    ("text", "dtype"),
    [
        ("amount * 2", "float64"),
        ("qty + 1", "int64"),
        ("units + 1", "Int64"),
        ("status == 'paid'", "boolean"),
        ("qty == 2", "bool"),
        ("ok and amount > 1", "boolean"),
        ("ok and qty > 1", "bool"),
        ("flag or ok", "boolean"),
        ("status in ('a', 'b')", "boolean"),
        ("qty in (1, 2)", "bool"),
        ("lower(status)", "str"),
        ("concat(status, qty)", "str"),
        ("if_else(ok, 1, 0)", "int64"),
        ("if_else(ok, 'a', 'b')", "str"),
        ("case(ok, 1.5, 2)", "float64"),
        ("coalesce(amount, 0)", "float64"),
        ("len(name)", "Int64"),
        ("year(day)", "Int64"),
        ("weekday(a_ts)", "Int64"),
        ("days_between(day, day)", "Int64"),
        ("date_trunc('month', day)", "datetime64[us]"),
        ("add_days(zoned, 2)", "datetime64[us, Europe/Berlin]"),
        ("a_int * 2", "int64[pyarrow]"),
        ("day > date('2000-01-01')", "boolean"),
        ("@p + amount", "float64"),
        ("7", "int64"),
    ],
)
def test_empty_frame_gives_an_empty_series_of_the_right_dtype(
    frame: pd.DataFrame, text: str, dtype: str
) -> None:
    empty = frame.iloc[:0]
    result = parse_expression(text).evaluate(empty, {"p": 1})
    if parse_expression(text).columns:
        assert isinstance(result, pd.Series)
        assert len(result) == 0
        assert str(result.dtype) == dtype
        assert str(run(text, frame, p=1).dtype) == dtype  # the same dtype as on data
    else:
        assert result == 7


# --- errors ------------------------------------------------------------------------------------------


def test_missing_parameter(frame: pd.DataFrame) -> None:
    with pytest.raises(ExpressionError) as info:
        run("amount > @min_amont", frame, min_amount=1)
    assert info.value.position == 10
    assert "no value given for parameter @min_amont. Did you mean 'min_amount'?" in info.value.message


def test_list_parameter_outside_in(frame: pd.DataFrame) -> None:
    with pytest.raises(ExpressionError, match="only allowed after 'in'"):
        run("qty + @xs", frame, xs=[1, 2])


def test_unknown_column_at_evaluation(frame: pd.DataFrame) -> None:
    with pytest.raises(UnknownColumn, match="unknown column 'amont'"):
        run("amont + 1", frame)


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("qty + status", 1, "operator '+' failed"),
        ("1 + (status * 1.5)", 6, "operator '*' failed"),
        ("status < 3", 1, "comparison '<' failed"),
        ("lower(qty)", 1, "lower() failed: expected text, got int64"),
        ("sqrt(status)", 1, "expected numbers, got str"),
        ("year(qty)", 1, "expected dates, got int64"),
        ("qty and ok", 1, "expected true/false values, got int64"),
        ("not amount", 1, "expected true/false values"),
        ("if_else(qty, 1, 2)", 1, "expected true/false values"),
        ("substring(name, 0, 2)", 1, "start is 1-based"),
        ("substring(name, 1, -2)", 1, "must not be negative"),
        ("round(amount, 1.5)", 1, "digits must be an integer"),
        ("contains(name, @n)", 1, "sub must be text"),
        ("date_trunc('hour', day)", 1, "unit must be one of"),
        ("date('1998-13-45')", 1, "date() failed"),
        ("days_between(zoned, day)", 1, "days_between() failed"),
        ("2 + -name", 5, "negation '-' failed"),
    ],
)
def test_data_errors_are_expression_errors_with_position(
    frame: pd.DataFrame, text: str, position: int, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as info:
        run(text, frame, n=3)
    assert fragment in info.value.message
    assert info.value.position == position
    assert info.value.source == text


def test_duplicate_column_in_data(frame: pd.DataFrame) -> None:
    doubled = pd.concat([frame[["qty"]], frame[["qty"]]], axis=1)
    with pytest.raises(ExpressionError, match="appears more than once"):
        run("qty + 1", doubled)


def test_no_runtime_warnings(frame: pd.DataFrame) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run("sqrt(amount - 20) + log(qty - 2) + qty / 0", frame)


def test_the_implementation_never_runs_python_per_row_or_generated_code() -> None:
    package = Path(aqtra_nb.expr.__file__).parent
    for path in package.glob("*.py"):
        source = path.read_text()
        assert not re.search(r"\b(eval|exec|compile)\(|\.apply\(|\.map\(|\.agg\(|np\.vectorize", source), path


@pytest.mark.parametrize("value", [0, 2, 0.5, "none", True, pd.Timestamp("2021-01-01")])
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore:.*not supported as a fill value")
def test_coalesce_with_a_scalar_is_coalesce_with_a_column_of_it(frame, value):
    """coalesce fills with a scalar directly where pandas gives the same as with a column of that scalar
    (numpy dtypes, text with text): same values, same dtype, or an error as well, for every column type."""
    for column in frame.columns:
        series = frame[column]
        try:
            expected = series.fillna(pd.Series(value, index=frame.index)).rename(None)
        except Exception:  # noqa: BLE001 - then the scalar path must fail as well
            with pytest.raises(ExpressionError, match="coalesce"):
                run(f"coalesce(`{column}`, @v)", frame, v=value)
            continue
        result = run(f"coalesce(`{column}`, @v)", frame, v=value)
        pd.testing.assert_series_equal(result, expected, obj=f"coalesce({column}, {value!r})")
