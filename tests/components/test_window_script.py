"""`window` (functions within ordered groups) and `script` (Python functions) against pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aqtra_nb import AqtraError, Flow, FlowValidationError, StepFailed, UnknownColumn


@pytest.fixture
def orders(sales):
    return sales["orders"]


def run_one(partitioned, frame, component, *, npartitions=4, **params):
    f = Flow("t")
    source = f.from_frame("source", partitioned(frame, npartitions))
    f.add("step", component, [source], **params)
    return f.run(progress=False)["step"]


# -- window -----------------------------------------------------------------------------------------------

WINDOW = {
    "running": "cumsum(amount)",
    "most": "cummax(quantity)",
    "least": "cummin(amount)",
    "before": "cumcount()",
    "number": "row_number()",
    "rank": "rank(quantity)",
    "dense": "dense_rank(quantity)",
    "previous": "lag(amount)",
    "two_back": "lag(amount, 2)",
    "next": "lead(amount, 1)",
    "avg3": "rolling_mean(amount, 3)",
    "sum2": "rolling_sum(quantity, 2)",
}


def expected_window(frame, by, order, descending=False):
    keys = by or ["__all"]
    data = frame.assign(__all=0).sort_values(
        [*keys, *order], ascending=[True] * len(keys) + [not descending] * len(order), kind="stable"
    )
    grouped = data.groupby(keys, dropna=False, sort=False)
    out = data.copy()
    out["running"] = grouped["amount"].cumsum()
    out["most"] = grouped["quantity"].cummax()
    out["least"] = grouped["amount"].cummin()
    out["before"] = grouped.cumcount()
    out["number"] = grouped.cumcount() + 1
    out["rank"] = grouped["quantity"].rank(method="min", ascending=not descending).astype("Int64")
    out["dense"] = grouped["quantity"].rank(method="dense", ascending=not descending).astype("Int64")
    out["previous"] = grouped["amount"].shift(1)
    out["two_back"] = grouped["amount"].shift(2)
    out["next"] = grouped["amount"].shift(-1)
    levels = list(range(len(keys)))
    out["avg3"] = grouped["amount"].rolling(3, min_periods=1).mean().reset_index(level=levels, drop=True)
    out["sum2"] = grouped["quantity"].rolling(2, min_periods=1).sum().reset_index(level=levels, drop=True)
    return out.drop(columns="__all")


@pytest.mark.parametrize(
    ("by", "order", "descending"),
    [
        (["region"], ["order_date", "order_id"], False),
        (["region"], ["order_id"], True),
        (["channel"], ["order_id"], False),  # null group keys form a group
        (["region", "status"], ["amount", "order_id"], False),
        ([], ["order_id"], False),
        (["region"], [], False),  # the input's order
        (["region", "channel"], ["order_date"], True),  # ties keep the input's order
    ],
    ids=["region", "descending", "nulls", "two-keys", "no-groups", "input-order", "ties"],
)
def test_window_functions_within_groups(partitioned, assert_same, orders, by, order, descending):
    orders = orders.sample(frac=1.0, random_state=5)
    out = run_one(
        partitioned, orders, "window", partition_by=by, order_by=order, descending=descending, columns=WINDOW
    )
    expected = expected_window(orders, by, order, descending)
    assert list(out.columns) == list(expected.columns)
    assert_same(out, expected, sort_by="order_id", check_exact=False, rtol=1e-9)


def test_window_running_total_restarts_per_group(partitioned, orders):
    out = run_one(
        partitioned,
        orders,
        "window",
        partition_by=["region"],
        order_by=["order_id"],
        columns={"t": "cumsum(amount)"},
    )
    last = out.sort_values("order_id").groupby("region")["t"].last()
    pd.testing.assert_series_equal(last, orders.groupby("region")["amount"].sum().rename("t"), rtol=1e-9)


def test_window_after_steps_that_repeat_index_labels(partitioned, assert_same, orders):
    """Union and explode give rows equal index labels; the window must still line rows up."""
    first, second = orders.iloc[:1000], orders.iloc[1000:]
    f = Flow("t")
    both = f.union(
        "both", f.from_frame("a", partitioned(first, 2)), f.from_frame("b", partitioned(second, 2))
    )
    both.window(
        "w",
        partition_by=["region"],
        order_by=["order_id"],
        columns={"avg": "rolling_mean(amount, 4)", "n": "row_number()"},
    )
    out = f.run(progress=False)["w"]
    data = orders.sort_values(["region", "order_id"])
    grouped = data.groupby("region", sort=False)
    expected = data.assign(
        avg=grouped["amount"].rolling(4, min_periods=1).mean().reset_index(level=0, drop=True),
        n=grouped.cumcount() + 1,
    )
    assert_same(out, expected, sort_by="order_id")


# -- script -----------------------------------------------------------------------------------------------


@pytest.fixture
def scripts_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


@pytest.mark.parametrize("path", ["flow_scripts:net_amount", "flow_scripts.net_amount"])
def test_script_by_dotted_path(partitioned, assert_same, orders, scripts_on_path, path):
    out = run_one(partitioned, orders, "script", function=path, params={"rate": 0.1})
    expected = orders.assign(net=orders["amount"] * (1 - orders["discount"].fillna(0)) * 1.1)
    assert_same(out, expected)


def test_script_function_passed_from_python(partitioned, assert_same, orders):
    def big_orders(df: pd.DataFrame, minimum: float) -> pd.DataFrame:
        return df[df["amount"] >= minimum].assign(size=lambda d: d["quantity"] * 2)

    f = Flow("t")
    f.from_frame("source", partitioned(orders)).script("step", function=big_orders, params={"minimum": 500})
    out = f.run(progress=False)["step"]
    expected = orders[orders["amount"] >= 500].assign(size=lambda d: d["quantity"] * 2)
    assert_same(out, expected)
    assert f.spec.step("step").with_["function"] == "big_orders"


def test_script_function_given_by_name_at_run_time(partitioned, assert_same, orders):
    f = Flow("t")
    f.from_frame("source", partitioned(orders)).script("step", function="halve")
    out = f.run(progress=False, frames={"halve": lambda df: df.assign(amount=df["amount"] / 2)})["step"]
    assert_same(out, orders.assign(amount=orders["amount"] / 2))


def test_script_that_raises_fails_its_step(partitioned, orders, scripts_on_path):
    f = Flow("t")
    f.from_frame("source", partitioned(orders)).script("guard", function="flow_scripts:fail_on_web")
    with pytest.raises(StepFailed) as info:
        f.run(progress=False)
    assert info.value.step == "guard"
    assert "web orders are not allowed" in str(info.value)


def test_script_must_return_a_frame(partitioned, orders, scripts_on_path):
    f = Flow("t")
    f.from_frame("source", partitioned(orders)).script("columns", function="flow_scripts:not_a_frame")
    with pytest.raises(StepFailed) as info:
        f.run(progress=False)
    assert info.value.step == "columns" and "must return a pandas DataFrame" in str(info.value)


@pytest.mark.parametrize(
    "function", ["no_such_module_here:f", "flow_scripts:missing", "flow_scripts:CONSTANT", "nodots"]
)
def test_script_function_that_cannot_be_found(plan_error, orders, scripts_on_path, function):
    f = Flow("t")
    f.from_frame("source", orders).script("step", function=function)
    error = plan_error(f)
    assert error.step == "step" and error.field == "function"


# -- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"partition_by": ["regoin"], "columns": {"n": "row_number()"}}, "partition_by"),
        ({"order_by": ["amout"], "columns": {"n": "row_number()"}}, "order_by"),
        ({"columns": {"total": "cumsum(amout)"}}, "columns.total"),
        ({"columns": {"previous": "lag(amout, 2)"}}, "columns.previous"),
    ],
)
def test_window_unknown_column(sales, plan_error, params, field):
    f = Flow("t")
    f.from_frame("source", sales["orders"]).window("misspelt", **params)
    error = plan_error(f, UnknownColumn)
    assert error.step == "misspelt" and error.field == field
    assert f"step 'misspelt', field '{field}'" in str(error)
    assert "Did you mean" in str(error)


@pytest.mark.parametrize(
    "call",
    ["sum(amount)", "cumsum()", "lag(amount, two)", "rolling_mean(amount)", "row_number(amount)", "amount"],
)
def test_window_bad_function_call(sales, plan_error, call):
    f = Flow("t")
    f.from_frame("source", sales["orders"]).window("w", columns={"x": call})
    error = plan_error(f)
    assert error.step == "w" and error.field == "columns.x"


@pytest.mark.parametrize(
    ("component", "params", "bad"),
    [
        ("window", {"columns": {"n": "row_number()"}, "group_by": ["a"]}, "group_by"),
        ("script", {"function": "f", "kwargs": {}}, "kwargs"),
    ],
)
def test_unknown_parameter(component, params, bad):
    f = Flow("t")
    source = f.empty("source", columns={"a": "number"})
    with pytest.raises(FlowValidationError) as info:
        f.add("step", component, [source], **params)
    assert info.value.field == f"with.{bad}"


def test_script_error_is_an_aqtra_error(plan_error, orders):
    f = Flow("t")
    f.from_frame("source", orders).script("step", function="not_passed")
    assert isinstance(plan_error(f), AqtraError)


def test_script_that_changes_its_frame_in_place_leaves_its_input_alone():
    """The function gets a shallow copy: adding a column in place changes neither the step before (its
    output is collected here) nor that step's planned schema."""

    def add_in_place(df: pd.DataFrame) -> pd.DataFrame:
        df["added"] = 1
        return df

    f = Flow("t")
    f.from_frame("source", pd.DataFrame({"x": [1, 2]})).derive("before", columns={"y": "x * 2"}).script(
        "step", function=add_in_place
    )
    plan = f.plan()
    result = f.run(progress=False, outputs=["before", "step"], record=False)
    assert list(plan.steps["before"].schema.columns) == ["x", "y"]
    assert list(result["before"].columns) == ["x", "y"]
    assert list(result["step"].columns) == ["x", "y", "added"]
