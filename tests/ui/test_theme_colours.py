"""Components follow JupyterLab's theme (a dark theme too): every colour they set is a `--jp-` variable,
with a light fallback for pages without the theme (#15)."""

from __future__ import annotations

import re

import pandas as pd
from pydantic import BaseModel, Field

from aqtra_nb.errors import AqtraError
from aqtra_nb.ui import Button, Form, Metric, Panel


def bare_colours(text: str) -> list[str]:
    """Hex colours not inside a `var(--jp-..., fallback)`."""
    return re.findall(r"#[0-9a-fA-F]{3,6}\b", re.sub(r"var\(--jp-[\w-]+,\s*#[0-9a-fA-F]{3,6}\)", "", text))


class Order(BaseModel):
    amount: float = Field(gt=0)


def test_cards_panels_and_messages_use_the_theme_colours():
    card = Metric("Revenue", "sum(amount)", data=pd.DataFrame({"amount": [1.0, 2.0]}))
    assert "var(--jp-border-color2" in card.value and "var(--jp-ui-font-color2" in card.value
    panel = Panel([card], title="Totals")
    assert "var(--jp-border-color2" in panel.layout.border

    form = Form.from_model(Order)
    form.set_values({"amount": "-1"})
    assert form.submit() is None
    message = form.messages["amount"].value
    assert "Must be more than 0." in message and "var(--jp-error-color1" in message

    def fails() -> str:
        raise AqtraError("no such region")

    def breaks() -> str:
        raise RuntimeError("boom")

    shown = []
    for action in (fails, breaks):
        button = Button("Go", action)
        button.press()
        shown.append(button.message.value)
    assert "no such region" in shown[0] and "RuntimeError: boom" in shown[1]
    for text in (card.value, panel.layout.border, message, *shown):
        assert "var(--jp-" in text and bare_colours(text) == [], text
