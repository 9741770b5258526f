"""Plan-time type checks of aggregations, windows and pivots (#18 item 6): `mean(region)` on a text column,
a window's `cumsum(status)`, a pivot of text into number cells fail `validate` with the step, the field
and the column's kind; expressions inside aggregations are checked like derive's; what pandas accepts
(`count(region)`, `min`/`max`/`first`/`last` of text, `median` of dates) still plans."""

from __future__ import annotations

import pytest

from aqtra_nb.errors import AqtraError
from aqtra_nb.flow import Flow


@pytest.fixture
def validate(validate_typed):
    def run(with_: str, component: str = "aggregate") -> tuple[int, str]:
        return validate_typed(with_, component)

    return run


def _aggregations(text: str) -> str:
    return f'{{by: [channel], aggregations: {{total: "{text}"}}}}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mean(region)", "mean() takes number, boolean or date, not column 'region' (text)"),
        ("sum(region)", "sum() takes number or boolean, not column 'region' (text)"),
        ("sum(order_date)", "sum() takes number or boolean, not column 'order_date' (date)"),
        ("median(status)", "median() takes number, boolean or date, not column 'status' (text)"),
        ("std(lower(region))", "std() takes number, boolean or date, not lower(...) (text)"),
        ("sum(amount * (1 - region))", "cannot compute 1 (number) - column 'region' (text)"),
        ("sum(amount * (1 - discount) + status)", "column 'status' (text)"),
        ("mean(year(amount))", "year() takes date as its argument 'd', not column 'amount' (number)"),
        ("count(region > 5)", "column 'region' (text) cannot be ordered against 5 (number)"),
    ],
)
def test_mismatched_aggregations_fail_validate_with_step_field_and_kind(validate, text, expected):
    code, err = validate(_aggregations(text))
    assert code == 2, err
    assert "step 'pick', field 'aggregations.total'" in err and expected in err
    assert f"of {text!r}" in err  # the position points into the whole aggregation


@pytest.mark.parametrize(
    "text",
    [
        "sum(amount * (1 - discount))",
        "count(region)",
        "count()",
        "count_distinct(status)",
        "min(region)",
        "max(status)",
        "first(region)",
        "last(order_date)",
        "min(order_date)",
        "median(order_date)",
        "sum(amount > @limit)",
        "mean(quantity)",
        "std(amount)",
        "max(concat(region, '-', status))",
        "sum(case(amount > 100, 1, 0))",
    ],
)
def test_what_pandas_accepts_still_plans(validate, text):
    code, err = validate(_aggregations(text))
    assert code == 0, err


def test_flow_plan_raises_the_same_error(typed_orders, typed_flow):
    flow = Flow.from_yaml(
        typed_flow.format(path=typed_orders, component="aggregate", with_=_aggregations("mean(region)"))
    )
    with pytest.raises(AqtraError) as caught:
        flow.plan()
    assert caught.value.step == "pick" and caught.value.field == "aggregations.total"
    assert "column 'region' (text)" in str(caught.value)
    good = Flow.from_yaml(
        typed_flow.format(path=typed_orders, component="aggregate", with_=_aggregations("max(region)"))
    )
    assert good.plan() is not None


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("rolling_mean(region, 3)", "rolling_mean() takes number or boolean, not column 'region' (text)"),
        (
            "rolling_sum(order_date, 2)",
            "rolling_sum() takes number or boolean, not column 'order_date' (date)",
        ),
        ("cumsum(status)", "cumsum() takes number or boolean, not column 'status' (text)"),
        ("cummax(region)", "cummax() takes number, boolean or date, not column 'region' (text)"),
    ],
)
def test_window_functions_check_their_column_kind(validate, function, expected):
    code, err = validate(
        f'{{partition_by: [channel], order_by: [order_date], columns: {{w: "{function}"}}}}', "window"
    )
    assert code == 2, err
    assert "step 'pick', field 'columns.w'" in err and expected in err


@pytest.mark.parametrize(
    "function", ["rank(region)", "lag(status, 2)", "lead(order_date)", "cummax(order_date)", "cumsum(amount)"]
)
def test_window_functions_pandas_accepts_still_plan(validate, function):
    code, err = validate(
        f'{{partition_by: [channel], order_by: [order_date], columns: {{w: "{function}"}}}}', "window"
    )
    assert code == 0, err


def test_pivot_cells_are_numbers(validate):
    pivot = "{{index: [channel], columns: status, values: {values}, aggregation: {aggregation}, column_values: [paid]}}"
    code, err = validate(pivot.format(values="region", aggregation="first"), "pivot")
    assert code == 2, err
    assert "step 'pick', field 'values'" in err and "column 'region' (text) is not a number" in err
    for values, aggregation in (("region", "count"), ("amount", "sum"), ("quantity", "max")):
        code, err = validate(pivot.format(values=values, aggregation=aggregation), "pivot")
        assert code == 0, err


def test_case_conditions_are_true_or_false(validate):
    code, err = validate('{columns: {grade: "case(region, 1, 0)"}}', "derive")
    assert code == 2, err
    assert "case() takes true/false conditions, not column 'region' (text)" in err
    code, err = validate("{columns: {grade: \"case(amount > 100, 'big', 'small') + '!'\"}}", "derive")
    assert code == 0, err
