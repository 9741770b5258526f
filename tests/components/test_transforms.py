"""Row-wise components (select, derive, filter, cast, fill_missing, explode, unpivot) against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aqtra_nb import Flow, FlowValidationError, StepFailed, UnknownColumn
from aqtra_nb.column_kinds import dtype_of
from aqtra_nb.errors import AqtraError


@pytest.fixture
def orders(sales):
    return sales["orders"]


def run_one(partitioned, frame, component, *, parameters=None, npartitions=4, **params):
    """Run `frame -> component` on `npartitions` Dask partitions; the step's output as pandas."""
    f = Flow("t", parameters=parameters)
    source = f.from_frame("source", partitioned(frame, npartitions))
    f.add("step", component, [source], **params)
    return f.run(progress=False)["step"]


# -- select -----------------------------------------------------------------------------------------------


def test_select_list_keeps_columns_in_the_given_order(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "select", columns=["amount", "order_id", "region"])
    assert_same(out, orders[["amount", "order_id", "region"]])


def test_select_mapping_keeps_and_renames(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "select", columns={"order_id": "id", "amount": "value"})
    assert_same(out, orders[["order_id", "amount"]].rename(columns={"order_id": "id", "amount": "value"}))


def test_select_rename_keeps_the_other_columns(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "select", rename={"amount": "gross", "region": "area"})
    assert_same(out, orders.rename(columns={"amount": "gross", "region": "area"}))


def test_select_drop(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "select", drop=["discount", "channel"])
    assert_same(out, orders.drop(columns=["discount", "channel"]))


def test_select_columns_drop_and_rename_together(partitioned, assert_same, orders):
    out = run_one(
        partitioned,
        orders,
        "select",
        columns=["order_id", "amount", "discount"],
        drop=["discount"],
        rename={"amount": "gross"},
    )
    assert_same(out, orders[["order_id", "amount"]].rename(columns={"amount": "gross"}))


# -- derive -----------------------------------------------------------------------------------------------


def test_derive_chained_columns(partitioned, assert_same, orders):
    out = run_one(
        partitioned,
        orders,
        "derive",
        columns={
            "net": "amount * (1 - coalesce(discount, 0))",
            "net_per_item": "net / quantity",
            "size": "if_else(net_per_item > 100, 'big', 'small')",
        },
    )
    expected = orders.copy()
    expected["net"] = orders["amount"] * (1 - orders["discount"].fillna(0))
    expected["net_per_item"] = expected["net"] / orders["quantity"]
    expected["size"] = pd.Series("big", index=orders.index, dtype="str").where(
        expected["net_per_item"] > 100, "small"
    )
    assert_same(out, expected)


def test_derive_overwrites_a_column_in_place(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "derive", columns={"amount": "amount * 2", "doubled": "amount"})
    expected = orders.assign(amount=orders["amount"] * 2)
    expected["doubled"] = expected["amount"]
    assert_same(out, expected)
    assert list(out.columns) == [*orders.columns, "doubled"]


def test_derive_with_a_parameter(partitioned, assert_same, orders):
    out = run_one(
        partitioned, orders, "derive", parameters={"rate": 0.2}, columns={"tax": "round(amount * @rate, 2)"}
    )
    assert_same(out, orders.assign(tax=(orders["amount"] * 0.2).round(2)))


# -- filter -----------------------------------------------------------------------------------------------


def test_filter_with_parameters(partitioned, assert_same, orders):
    out = run_one(
        partitioned,
        orders,
        "filter",
        parameters={"min_amount": 250.0, "statuses": ["paid", "shipped"]},
        condition="amount >= @min_amount and status in (@statuses)",
    )
    expected = orders[(orders["amount"] >= 250) & orders["status"].isin(["paid", "shipped"])]
    assert 0 < len(expected) < len(orders)
    assert_same(out, expected)


def test_filter_parameter_value_given_at_run_time(partitioned, assert_same, orders):
    f = Flow("t", parameters={"min_amount": 250.0})
    f.from_frame("source", partitioned(orders)).filter("big", condition="amount >= @min_amount")
    out = f.run(progress=False, min_amount=1000)["big"]
    assert_same(out, orders[orders["amount"] >= 1000])


@pytest.mark.parametrize(
    ("condition", "keep"),
    [
        ("discount > 0.1", lambda o: o["discount"] > 0.1),
        ("channel == 'web'", lambda o: o["channel"] == "web"),
        ("discount > 0.1 or channel == 'web'", lambda o: (o["discount"] > 0.1) | (o["channel"] == "web")),
        ("discount > 0.1 and channel == 'web'", lambda o: (o["discount"] > 0.1) & (o["channel"] == "web")),
        ("not (discount > 0.1)", lambda o: o["discount"] <= 0.1),
        ("channel != 'web'", lambda o: o["channel"].notna() & (o["channel"] != "web")),
        (
            "not (channel in ('web', 'store'))",
            lambda o: o["channel"].notna() & ~o["channel"].isin(["web", "store"]),
        ),
    ],
)
def test_filter_nulls_count_as_false(partitioned, assert_same, orders, condition, keep):
    assert orders["discount"].isna().any() and orders["channel"].isna().any()
    out = run_one(partitioned, orders, "filter", condition=condition)
    assert_same(out, orders[keep(orders)])


def test_filter_on_a_nullable_boolean_column(partitioned, assert_same):
    frame = pd.DataFrame({"id": range(6), "flag": pd.array([True, None, False, True, None, True], "boolean")})
    out = run_one(partitioned, frame, "filter", npartitions=3, condition="flag")
    assert_same(out, frame[frame["flag"].fillna(False)])


@pytest.mark.parametrize(("flag", "rows"), [(True, 2000), (False, 0)])
def test_filter_on_a_parameter_alone(partitioned, orders, flag, rows):
    out = run_one(partitioned, orders, "filter", parameters={"flag": flag}, condition="@flag")
    assert len(out) == rows
    assert list(out.columns) == list(orders.columns)


# -- cast -------------------------------------------------------------------------------------------------


@pytest.fixture
def texts():
    return pd.DataFrame(
        {
            "i": pd.array(["1", "22", None, "-4", "5", "6"], "str"),
            "n": pd.array(["1.5", "2", None, "-0.25", "1e3", "7"], "str"),
            "b": pd.array(["true", "No", None, "1", "YES", "false"], "str"),
            "d": pd.array(
                ["2024-01-02", "2024-02-03 10:30", None, "2023-12-31", "2024-03-01", "2024-01-01"], "str"
            ),
            "t": pd.array(
                ["2024-01-02 10:30:15", "2024-02-03", None, "2023-12-31T23:59", "2024-03-01", "2024-01-01"],
                "str",
            ),
            "x": [1.5, 2.0, np.nan, 4.0, 5.0, 6.0],
        }
    )


def test_cast_each_type(partitioned, assert_same, texts):
    types = {"i": "integer", "n": "number", "b": "boolean", "d": "date", "t": "datetime", "x": "string"}
    out = run_one(partitioned, texts, "cast", npartitions=3, types=types)
    expected = pd.DataFrame(
        {
            "i": pd.array([1, 22, None, -4, 5, 6], "Int64"),
            "n": [1.5, 2.0, np.nan, -0.25, 1000.0, 7.0],
            "b": pd.array([True, False, None, True, True, False], "boolean"),
            "d": pd.to_datetime(["2024-01-02", "2024-02-03", None, "2023-12-31", "2024-03-01", "2024-01-01"]),
            "t": pd.to_datetime(
                ["2024-01-02 10:30:15", "2024-02-03", None, "2023-12-31 23:59", "2024-03-01", "2024-01-01"],
                format="ISO8601",
            ),
            "x": pd.array(["1.5", "2.0", None, "4.0", "5.0", "6.0"], "str"),
        }
    )
    expected["d"] = expected["d"].astype(dtype_of("date"))
    expected["t"] = expected["t"].astype(dtype_of("datetime"))
    assert_same(out, expected)
    assert {c: str(t) for c, t in out.dtypes.items()} == {c: dtype_of(k) for c, k in types.items()}


def test_cast_the_planned_schema_matches_the_result(partitioned, texts):
    types = {"i": "integer", "n": "number", "b": "boolean", "d": "date", "t": "datetime", "x": "string"}
    f = Flow("t")
    f.from_frame("source", partitioned(texts, 3)).cast("step", types=types)
    planned = f.plan().steps["step"].schema.dtypes
    pd.testing.assert_series_equal(f.run(progress=False)["step"].dtypes, planned)


def test_cast_numbers_and_booleans_from_numbers(partitioned, assert_same):
    frame = pd.DataFrame({"a": [1, 0, 1, 0], "f": [1.0, 2.0, np.nan, 4.0], "s": [3, 4, 5, 6]})
    out = run_one(
        partitioned, frame, "cast", npartitions=2, types={"a": "boolean", "f": "integer", "s": "number"}
    )
    expected = pd.DataFrame(
        {
            "a": pd.array([True, False, True, False], "boolean"),
            "f": pd.array([1, 2, None, 4], "Int64"),
            "s": [3.0, 4.0, 5.0, 6.0],
        }
    )
    assert_same(out, expected)


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("integer", ["1", "two", "3"]),
        ("integer", ["1", "2.5", "3"]),
        ("number", ["1", "x", "3"]),
        ("boolean", ["true", "maybe", "false"]),
        ("boolean", [1, 2, 0]),
        ("date", ["2024-01-01", "not a date", "2024-01-03"]),
        ("datetime", ["2024-01-01", "2024-13-45", "2024-01-03"]),
    ],
)
def test_cast_bad_values_raise_or_become_null(partitioned, kind, values):
    frame = pd.DataFrame(
        {"v": pd.array(values, None if isinstance(values[0], int) else "str"), "k": [1, 2, 3]}
    )
    f = Flow("t")
    f.from_frame("source", partitioned(frame, 2)).cast("convert", types={"v": kind})
    with pytest.raises(StepFailed) as info:
        f.run(progress=False)
    assert info.value.step == "convert"

    f = Flow("t")
    f.from_frame("source", partitioned(frame, 2)).cast("convert", types={"v": kind}, errors="null")
    out = f.run(progress=False)["convert"]
    assert out["v"].isna().tolist() == [False, True, False]
    assert str(out["v"].dtype) == dtype_of(kind)
    assert out["k"].tolist() == [1, 2, 3]


def test_cast_a_tz_aware_column_to_date_and_datetime(partitioned, assert_same):
    stamps = pd.to_datetime(["2024-01-02 10:30", "2024-06-03 23:15"]).tz_localize("Europe/Berlin")
    frame = pd.DataFrame({"d": stamps, "t": stamps})
    out = run_one(partitioned, frame, "cast", npartitions=2, types={"d": "date", "t": "datetime"})
    expected = pd.DataFrame({"d": stamps.normalize().as_unit("s"), "t": stamps.as_unit("us")})
    assert_same(out, expected)


# -- fill_missing -----------------------------------------------------------------------------------------


def test_fill_missing_values_per_column(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "fill_missing", values={"discount": 0.0, "channel": "unknown"})
    assert_same(out, orders.fillna({"discount": 0.0, "channel": "unknown"}))
    assert not out[["discount", "channel"]].isna().any().any()


def test_fill_missing_one_value_for_named_columns(partitioned, assert_same):
    frame = pd.DataFrame(
        {"a": [1.0, np.nan, 3.0, np.nan], "b": [np.nan, 2.0, np.nan, 4.0], "c": [np.nan] * 4}
    )
    out = run_one(partitioned, frame, "fill_missing", npartitions=2, value=-1, columns=["a", "b"])
    assert_same(out, frame.fillna({"a": -1, "b": -1}))


def test_fill_missing_one_value_for_every_column(partitioned, assert_same):
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, np.nan], "b": [np.nan, 2.0, np.nan, 4.0]})
    out = run_one(partitioned, frame, "fill_missing", npartitions=2, value=0)
    assert_same(out, frame.fillna(0))


def test_fill_missing_needs_something_to_fill():
    f = Flow("t")
    source = f.empty("source", columns={"a": "number"})
    with pytest.raises(FlowValidationError):
        source.fill_missing("fill", columns=["a"])


# -- explode ----------------------------------------------------------------------------------------------


def test_explode_a_list_column(partitioned, assert_same):
    frame = pd.DataFrame(
        {"id": [1, 2, 3, 4, 5, 6], "tags": [["a", "b"], [], None, ["c"], ["d", "e", "f"], ["g"]]}
    )
    out = run_one(partitioned, frame, "explode", npartitions=3, column="tags")
    assert_same(out, frame.explode("tags", ignore_index=True))
    assert len(out) == 9


def test_explode_text_with_a_separator(partitioned, assert_same):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "tags": pd.array(["a, b,c", "d", None, "e ,f"], "str"),
            "n": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = run_one(partitioned, frame, "explode", npartitions=2, column="tags", separator=",")
    expected = frame.assign(tags=frame["tags"].str.split(",")).explode("tags", ignore_index=True)
    expected["tags"] = expected["tags"].str.strip().astype("str")
    assert_same(out, expected)
    assert out["tags"].tolist()[:5] == ["a", "b", "c", "d", out["tags"][4]]


def test_explode_then_a_row_wise_step(partitioned, assert_same):
    """Exploding repeats index labels; later steps must still line up rows."""
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "tags": pd.array(["a,b", "c", "d,e,f", "g"], "str")})
    f = Flow("t")
    exploded = f.from_frame("source", partitioned(frame, 2)).explode("exploded", column="tags", separator=",")
    exploded.derive("derived", columns={"label": "concat(tags, '-', id)"}).filter(
        "filtered", condition="tags != 'e'"
    )
    out = f.run(progress=False)["filtered"]
    expected = frame.assign(tags=frame["tags"].str.split(",")).explode("tags", ignore_index=True)
    expected["tags"] = expected["tags"].astype("str")
    expected["label"] = expected["tags"] + "-" + expected["id"].astype("str")
    assert_same(out, expected[expected["tags"] != "e"])


# -- unpivot ----------------------------------------------------------------------------------------------


def test_unpivot_named_value_columns(partitioned, assert_same, orders):
    out = run_one(
        partitioned,
        orders,
        "unpivot",
        id_columns=["order_id", "region"],
        value_columns=["amount", "discount"],
        variable_name="measure",
        value_name="number",
    )
    expected = orders.melt(
        id_vars=["order_id", "region"],
        value_vars=["amount", "discount"],
        var_name="measure",
        value_name="number",
    )
    assert len(out) == 2 * len(orders)
    assert_same(out, expected, sort_by=["order_id", "measure"])


def test_unpivot_all_other_columns(partitioned, assert_same):
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "q1": [1.0, 2.0, 3.0, 4.0], "q2": [5.0, np.nan, 7.0, 8.0]})
    out = run_one(partitioned, frame, "unpivot", npartitions=2, id_columns=["id"])
    assert_same(out, frame.melt(id_vars=["id"]), sort_by=["id", "variable"])


# -- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "params", "field"),
    [
        ("select", {"columns": ["order_id", "amout"]}, "columns"),
        ("select", {"columns": {"amout": "x"}}, "columns"),
        ("select", {"rename": {"amout": "x"}}, "rename"),
        ("select", {"drop": ["amout"]}, "drop"),
        ("derive", {"columns": {"net": "amout * 2"}}, "columns.net"),
        ("filter", {"condition": "amout > 3"}, "condition"),
        ("cast", {"types": {"amout": "integer"}}, "types"),
        ("fill_missing", {"values": {"amout": 0}}, "values"),
        ("fill_missing", {"value": 0, "columns": ["amout"]}, "columns"),
        ("explode", {"column": "amout"}, "column"),
        ("unpivot", {"id_columns": ["amout"]}, "id_columns"),
        ("unpivot", {"id_columns": ["order_id"], "value_columns": ["amout"]}, "value_columns"),
    ],
)
def test_unknown_column(sales, plan_error, component, params, field):
    f = Flow("t")
    source = f.from_frame("source", sales["orders"])
    f.add("misspelt", component, [source], **params)
    error = plan_error(f, UnknownColumn)
    message = str(error)
    assert error.step == "misspelt" and error.field == field
    assert "step 'misspelt'" in message and f"field '{field}'" in message
    assert "Did you mean 'amount'?" in message


@pytest.mark.parametrize(
    ("component", "params", "bad"),
    [
        ("select", {"colums": ["a"]}, "colums"),
        ("derive", {"columns": {"b": "a"}, "column": "x"}, "column"),
        ("filter", {"condition": "a > 1", "where": "x"}, "where"),
        ("cast", {"types": {"a": "integer"}, "error": "null"}, "error"),
        ("fill_missing", {"values": {"a": 0}, "valu": 1}, "valu"),
        ("explode", {"column": "a", "sep": ","}, "sep"),
        ("unpivot", {"id_columns": ["a"], "value_column": ["b"]}, "value_column"),
    ],
)
def test_unknown_parameter(component, params, bad):
    f = Flow("t")
    source = f.empty("source", columns={"a": "number", "b": "string"})
    with pytest.raises(FlowValidationError) as info:
        f.add("step", component, [source], **params)
    assert info.value.step == "step" and info.value.field == f"with.{bad}"
    assert f"field 'with.{bad}'" in str(info.value)


def test_cast_rejects_an_unknown_type():
    f = Flow("t")
    source = f.empty("source", columns={"a": "number"})
    with pytest.raises(FlowValidationError) as info:
        source.cast("step", types={"a": "float"})
    assert info.value.field == "with.types.a"


def test_filter_that_keeps_every_row_returns_its_input_unchanged():
    frame = pd.DataFrame({"x": [1, 2, 3]}, index=[5, 3, 9])
    f = Flow("t")
    f.from_frame("src", frame).filter("all", condition="x > 0").filter("some", condition="x > 1")
    result = f.run(progress=False, record=False, outputs=["all", "some"])
    pd.testing.assert_frame_equal(result["all"], frame.reset_index(drop=True))
    assert list(result["some"].x) == [2, 3]


def test_expression_types_are_checked_in_planning_not_again_on_the_data(monkeypatch):
    """A type error is found on the empty frames of planning; a step run on data does not check again."""
    from aqtra_nb.components import expressions

    checked: list[object] = []
    real = expressions.check_types
    monkeypatch.setattr(expressions, "check_types", lambda node, *a: checked.append(node) or real(node, *a))
    frame = pd.DataFrame({"x": np.arange(5), "name": list("abcde")})
    f = Flow("types")
    f.from_frame("source", frame).derive("more", columns={"y": "x + 1"}).filter("kept", condition="y > 2")
    plan = f.plan()
    for step, data in (("more", frame), ("kept", frame.assign(y=frame.x + 1))):
        component = plan.steps[step].component
        checked.clear()
        out = component.transform([data])
        assert checked == [] and len(out) == {"more": 5, "kept": 3}[step]
        component.transform([data.iloc[:0]])  # the empty frames planning runs on
        assert len(checked) == 1
    bad = Flow("types")
    bad.from_frame("source", frame).derive("more", columns={"y": "name + 1"})
    with pytest.raises(AqtraError, match="cannot compute column 'name'"):
        bad.plan()
