"""Forms from flow parameters, pydantic models and entities: inputs, checks, messages next to fields."""

from __future__ import annotations

import datetime as dt
import html
from typing import Literal

import ipywidgets as w
import pytest
from pydantic import BaseModel, Field

from aqtra_nb import Flow
from aqtra_nb.ui import Form
from aqtra_nb.ui.form import FormError


@pytest.fixture
def flow() -> Flow:
    return Flow(
        "f",
        parameters={
            "min_amount": 100.0,
            "limit": {"type": "integer"},
            "region": {"type": "string", "default": "All", "choices": ["All", "North"]},
            "since": {"type": "date", "default": "2024-01-01"},
            "web_only": False,
            "tags": ["a"],
        },
    )


def message(form: Form, name: str) -> str:
    return html.unescape(form.messages[name].value)


def test_inputs_follow_the_parameter_types(flow):
    form = Form.from_parameters(flow)
    kinds = {name: widget._model_name for name, widget in form.inputs.items()}
    assert kinds == {
        "min_amount": "TextModel",  # text, so a wrong value can be typed and explained
        "limit": "TextModel",
        "region": "DropdownModel",
        "since": "DatePickerModel",
        "web_only": "CheckboxModel",
        "tags": "TextModel",
    }
    assert form.inputs["min_amount"].value == "100.0" and form.inputs["since"].value == dt.date(2024, 1, 1)
    row = form.children[1]
    assert "aqtra-field-limit" in row._dom_classes and "aqtra-form-field" in row._dom_classes
    assert 'class="aqtra-required"' in row.children[0].children[0].value  # `limit` has no default


def test_parameter_form_checks_and_converts(flow):
    form = Form.from_parameters(flow)
    assert form.validate() is None
    assert form.errors == {"limit": "Required."} and "Required." in message(form, "limit")
    assert "aqtra-form-error" in form.messages["limit"]._dom_classes
    form.set_values({"limit": "12", "min_amount": "abc"})
    assert form.validate() is None
    assert set(form.errors) == {"min_amount"} and "Enter a number (not 'abc')." in message(form, "min_amount")
    assert message(form, "limit") == ""
    assert "aqtra-invalid" in form.inputs["min_amount"]._dom_classes
    form.set_values({"min_amount": "2.5", "region": "North", "tags": "x, y", "web_only": True})
    value = form.validate()
    assert value == {
        "min_amount": 2.5,
        "limit": 12,
        "region": "North",
        "since": dt.date(2024, 1, 1),
        "web_only": True,
        "tags": ["x", "y"],
    }
    assert (
        form.value == value
        and form.errors == {}
        and "aqtra-invalid" not in form.inputs["min_amount"]._dom_classes
    )


def test_messages_appear_for_changed_fields_and_live_forms_emit(flow):
    form = Form.from_parameters(flow, ["min_amount", "region"], live=True)
    seen = []
    form.observe(lambda change: seen.append(change["new"]), names="value")
    form.set_values({"min_amount": "x"})
    assert "Enter a number" in message(form, "min_amount") and seen == []
    form.set_values({"min_amount": "7"})
    assert message(form, "min_amount") == "" and seen[-1] == {"min_amount": 7.0, "region": "All"}


def test_submit_calls_back_only_when_valid(flow):
    form = Form.from_parameters(flow, ["limit"], submit_label="Go")
    got = []
    form.on_submit(got.append)
    assert "aqtra-form-submit" in form.submit_button._dom_classes
    form.submit_button.click()
    assert got == [] and form.errors == {"limit": "Required."}
    form.set_values({"limit": 3})
    form.submit_button.click()
    assert got == [{"limit": 3}]


def test_unknown_field_names_are_errors(flow):
    with pytest.raises(FormError, match="no field 'regoin'.*Did you mean 'region'"):
        Form.from_parameters(flow, ["regoin"])
    with pytest.raises(FormError, match="no field 'nope'"):
        Form.from_parameters(flow).set_values({"nope": 1})


class Order(BaseModel):
    title: str = Field(title="Order title")
    amount: float = Field(gt=0)
    priority: Literal["low", "high"] = "low"
    due: dt.date | None = None
    tags: list[str] = []


def test_model_form_uses_the_models_validation():
    form = Form.from_model(Order)
    assert isinstance(form.inputs["priority"], w.Dropdown) and isinstance(form.inputs["due"], w.DatePicker)
    assert "Order title" in form.children[0].children[0].children[0].value
    assert form.validate() is None
    assert form.errors == {"title": "Required.", "amount": "Required."}
    form.set_values({"title": "Chairs", "amount": "-3"})
    assert form.validate() is None
    assert form.errors == {"amount": "Must be more than 0."}
    form.set_values({"amount": "3", "tags": "a, b", "due": "2024-06-01"})
    assert form.validate() == {
        "title": "Chairs",
        "amount": 3.0,
        "priority": "low",
        "due": dt.date(2024, 6, 1),
        "tags": ["a", "b"],
    }
    assert isinstance(form.instance, Order)
    form.clear()
    assert form.inputs["title"].value == "" and form.errors == {}


def test_entity_form_leaves_out_store_fields():
    from aqtra_nb.entities import Entity, PrimaryKey

    class UiSupplier(Entity):
        code: PrimaryKey[str]
        name: str
        rating: int | None = None

    form = Form.from_entity(UiSupplier)
    assert list(form.inputs) == ["code", "name", "rating"]
    form.set_values({"code": "A", "rating": "many"})
    assert form.validate() is None
    assert set(form.errors) == {"name", "rating"}
