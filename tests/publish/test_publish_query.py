"""URL query parameters are converted by the flow's typed parameters; bad ones are clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from aqtra_nb import Flow, ParameterError
from aqtra_nb.publish import query_parameters
from aqtra_nb.publish.page import app_errors, error_html
from aqtra_nb.spec.models import ParameterSpec


@pytest.fixture
def flow() -> Flow:
    return Flow(
        "sales",
        parameters={
            "min_amount": 100.0,
            "region": {"type": "string", "default": "north", "choices": ["north", "south"]},
            "since": {"type": "date", "default": "2024-01-01"},
            "statuses": ["paid"],
            "top": 10,
        },
    )


def test_values_are_converted_to_the_declared_types(flow: Flow):
    values = query_parameters(
        flow, "min_amount=25.5&region=south&since=2024-03-01&top=3&statuses=paid&statuses=shipped"
    )
    assert values == {
        "min_amount": 25.5,
        "region": "south",
        "since": dt.date(2024, 3, 1),
        "top": 3,
        "statuses": ["paid", "shipped"],
    }


def test_a_comma_separated_list_and_reserved_names(flow: Flow):
    assert query_parameters(flow.spec, "statuses=paid,shipped&token=abc&theme=dark") == {
        "statuses": ["paid", "shipped"]
    }
    assert query_parameters(flow, "") == {}


def test_a_mapping_of_specs_is_accepted():
    specs = {"n": ParameterSpec(type="integer", default=1)}
    assert query_parameters(specs, "n=7") == {"n": 7}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_amount=abc", "URL parameter 'min_amount' expects a number, got 'abc'"),
        ("top=1.5", "URL parameter 'top' expects an integer"),
        ("since=yesterday", "URL parameter 'since' expects a date"),
        ("region=east", "URL parameter 'region' must be one of ['north', 'south'], got 'east'"),
        ("min_amout=5", "unknown URL parameter 'min_amout'. Did you mean 'min_amount'?"),
        ("top=1&top=2", "URL parameter 'top' is given 2 times"),
    ],
)
def test_bad_values_name_the_url_parameter(flow: Flow, query: str, message: str):
    with pytest.raises(ParameterError) as info:
        query_parameters(flow, query)
    assert message in str(info.value)
    assert info.value.field == query.split("=")[0]


def test_the_query_comes_from_voila_s_environment_variable(flow: Flow, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUERY_STRING", "top=4")
    assert query_parameters(flow) == {"top": 4}


def test_errors_become_a_message_in_the_page(flow: Flow, monkeypatch: pytest.MonkeyPatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    with app_errors():
        query_parameters(flow, "top=<b>x</b>")
    assert len(shown) == 1
    assert "aqtra-page-error" in shown[0] and "&lt;b&gt;x&lt;/b&gt;" in shown[0]
    assert "Traceback" not in shown[0]
    assert error_html("a & b").count("a &amp; b") == 1
