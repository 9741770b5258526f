"""Form field messages in plain words: what to enter, never Python's own text (#15)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from aqtra_nb.spec import ParameterSpec
from aqtra_nb.ui.fields import check_model, check_parameters, fields_from_model, fields_from_parameters

PYTHON_WORDS = ("Expects a", "invalid literal", "int()", "base 10", "Input should", "Value error", "float")


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("integer", "lots", "Enter a whole number (not 'lots')."),
        ("integer", "1.5", "Enter a whole number (not '1.5')."),
        ("integer", "9" * 30, "'" + "9" * 30 + "' is too large."),
        ("number", "abc", "Enter a number (not 'abc')."),
        ("number", "inf", "Enter a finite number (not 'inf')."),
        ("date", "2024-13-01", "Enter a date as YYYY-MM-DD (not '2024-13-01')."),
        ("boolean", "maybe", "Enter yes or no (not 'maybe')."),
    ],
)
def test_parameter_fields_say_what_to_enter(kind, value, message):
    params = {"field": ParameterSpec(type=kind)}
    values, errors = check_parameters(fields_from_parameters(params), params, {"field": value})
    assert errors == {"field": message} and values == {}
    assert not any(word in message for word in PYTHON_WORDS)


def test_a_choice_outside_the_list_names_the_choices():
    params = {"region": ParameterSpec(type="string", choices=["North", "South"])}
    _, errors = check_parameters(fields_from_parameters(params), params, {"region": "East"})
    assert errors == {"region": "Choose one of North, South."}


class Request(BaseModel):
    count: int
    amount: float = Field(gt=0)
    due: dt.date
    code: str = Field(max_length=3)
    priority: Literal["low", "high"] = "low"


def test_model_fields_say_what_to_enter():
    raw = {"count": "lots", "amount": "-1", "due": "soon", "code": "toolong", "priority": "urgent"}
    _, errors, instance = check_model(fields_from_model(Request), Request, raw)
    assert instance is None
    assert errors == {
        "count": "Enter a whole number (not 'lots').",
        "amount": "Must be more than 0.",
        "due": "Enter a date as YYYY-MM-DD (not 'soon').",
        "code": "Takes at most 3 characters.",
        "priority": "Choose one of 'low' or 'high'.",
    }
    assert not any(word in message for message in errors.values() for word in PYTHON_WORDS)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("integer", "lots", "parameter 'n' expects an integer, got 'lots'"),
        ("number", "abc", "parameter 'n' expects a number, got 'abc'"),
        ("date", "tomorrow", "parameter 'n' expects a date, got 'tomorrow'"),
        (
            "integer",
            "9" * 30,
            "parameter 'n' expects an integer, got '" + "9" * 30 + "' ('more than 20 digits')",
        ),
    ],
)
def test_parameter_messages_of_runs_and_urls_keep_our_reasons_only(kind, value, message):
    """What an app's status line, the CLI and URL parameters say: no Python parser's own text."""
    from aqtra_nb.errors import ParameterError
    from aqtra_nb.spec.params import convert_value

    with pytest.raises(ParameterError) as info:
        convert_value("n", ParameterSpec(type=kind), value)
    assert info.value.message == message
