"""Plan-time type checks (#18 item 6): comparisons, arithmetic and function arguments whose operands'
types cannot go together fail `validate` with the step, the field and both types, before any data is
read; what pandas accepts (dates against ISO text, numbers against booleans, text + text) still plans."""

from __future__ import annotations

import pytest


@pytest.fixture
def validate(validate_typed):
    def run(with_: str, component: str = "filter") -> tuple[int, str]:
        return validate_typed(with_, component)

    return run


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("region >= 5", "column 'region' (text) cannot be ordered against 5 (number)"),
        ("region == 5", "column 'region' (text) is never equal to 5 (number)"),
        ("status == @limit", "column 'status' (text) is never equal to @limit = 3 (number)"),
        ("region in (1, 2)", "column 'region' (text) is never equal to 1 (number) in the list of `in`"),
        ("amount + region > 3", "cannot compute column 'amount' (number) + column 'region' (text)"),
        ("order_date > 5", "column 'order_date' (date) cannot be ordered against 5 (number)"),
        ("upper(amount) == 'X'", "upper() takes text as its argument 's', not column 'amount' (number)"),
        ("year(amount) == 2024", "year() takes date as its argument 'd', not column 'amount' (number)"),
        ("region and amount > 1", "'and' needs true/false values, not column 'region' (text)"),
    ],
)
def test_mismatched_types_fail_validate_with_step_field_and_types(validate, condition, expected):
    code, err = validate(f'{{condition: "{condition}"}}')
    assert code == 2
    assert "step 'pick', field 'condition'" in err and expected in err


def test_derive_is_checked_too_and_names_its_column(validate):
    code, err = validate('{columns: {label: "region - 2"}}', component="derive")
    assert code == 2
    assert "step 'pick', field 'columns.label'" in err
    assert "cannot compute column 'region' (text) - 2 (number)" in err


@pytest.mark.parametrize(
    "condition",
    [
        "amount >= 100 and status in ('paid', 'shipped')",
        "order_date >= '2024-01-01'",
        "year(order_date) >= 2024 and quantity * amount > @limit",
        "concat(region, '-', status) != 'x' and len(region) > 1",
        "if_else(amount > 1, region, status) == 'North'",
        "is_null(region) or not_null(amount)",
        "region * 2 != 'x'",
    ],
)
def test_what_pandas_accepts_still_plans(validate, condition):
    code, err = validate(f'{{condition: "{condition}"}}')
    assert code == 0, err


def test_a_column_replaced_earlier_in_a_derive_is_not_judged_by_its_old_type(validate):
    code, err = validate('{columns: {region: "len(region)", double: "region * 2"}}', component="derive")
    assert code == 0, err
