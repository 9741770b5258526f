"""Display components: `Metric` (a KPI card) and `Markdown` (text, rendered on the server)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pandas as pd
import traitlets as t

from ..errors import AqtraError, ExpressionError
from ..expr import AGGREGATE_FUNCTIONS, parse_aggregation, parse_expression
from . import dom
from .source import FrameSource


def metric_value(frame: pd.DataFrame, value: str, params: dict[str, Any] | None = None) -> Any:
    """An aggregation over the frame (`sum(revenue)`, `count()`) or an expression's first row (`revenue`)."""
    try:
        aggregation = parse_aggregation(value)
    except ExpressionError:
        aggregation = None
    if aggregation is not None:
        if aggregation.argument is None:
            return len(frame)
        values = aggregation.argument.evaluate(frame, params or {})
        if not isinstance(values, pd.Series):
            values = pd.Series([values] * len(frame), dtype=object)
        reduced = getattr(values, AGGREGATE_FUNCTIONS[aggregation.function])()
        return None if pd.isna(reduced) else _plain(reduced)
    expression = parse_expression(value)
    result = expression.evaluate(frame, params or {})
    if isinstance(result, pd.Series):
        if result.empty:
            return None
        result = result.iloc[0]
    return None if pd.isna(result) else _plain(result)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


class Metric(FrameSource, dom.HTML):
    """A KPI card: a label over one number, computed from `data` by `value` (see `metric_value`). The
    default `format` shows whole numbers as `1,234` and others as `1,234.50`.

    DOM hooks: `.aqtra-metric`; inside, `.aqtra-metric-label` and `.aqtra-metric-value` (with the raw
    number in `data-value`).
    """

    number = t.Any(None)

    def __init__(
        self,
        label: str,
        value: str | None = None,
        *,
        data: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        step: str | None = None,
        flow: str | None = None,
        format: str | None = None,
        caption: str = "",
        number: Any = None,
    ) -> None:
        if value is not None:
            try:
                parse_aggregation(value)
            except ExpressionError:
                parse_expression(value)  # raises for a value that is neither
        self.label, self.value_expression = label, value
        self.format, self.caption = format, caption
        self._bind_source(data, step, flow)
        super().__init__(_dom_classes=("aqtra-metric",))
        self.number = number
        self._render()
        self._load_source(data)

    @property
    def text(self) -> str:
        """The number as shown."""
        if self.number is None:
            return "—"
        pattern = self.format or ("{:,}" if isinstance(self.number, int) else "{:,.2f}")
        try:
            return pattern.format(self.number)
        except (ValueError, TypeError):
            return str(self.number)

    @t.observe("data")
    def _on_data(self, change: dict[str, Any]) -> None:
        frame = change["new"]
        if frame is None or self.value_expression is None:
            self.number = None
            return
        try:
            self.number = metric_value(frame, self.value_expression)
        except AqtraError as exc:
            raise exc.at(field="value") from None

    @t.observe("number")
    def _on_number(self, change: dict[str, Any]) -> None:
        self._render()

    def _render(self) -> None:
        raw = "" if self.number is None else html.escape(str(self.number), quote=True)
        caption = (
            f'<div class="aqtra-metric-caption">{html.escape(self.caption)}</div>' if self.caption else ""
        )
        self.value = (
            '<div class="aqtra-metric-card" style="border:1px solid var(--jp-border-color2,#ddd);border-radius:6px;padding:8px 14px;'
            'min-width:140px">'
            f'<div class="aqtra-metric-label" style="color:var(--jp-ui-font-color2,#555);font-size:0.9em">{html.escape(self.label)}</div>'
            f'<div class="aqtra-metric-value" data-value="{raw}" style="font-size:1.8em;font-weight:600">'
            f"{html.escape(self.text)}</div>{caption}</div>"
        )


class Markdown(dom.HTML):
    """Markdown text as HTML (raw HTML in the text is escaped). DOM hook: `.aqtra-markdown`."""

    text = t.Unicode("")

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(**dom.with_classes(kwargs, "aqtra-markdown"))
        self.text = text
        self._render({"new": text})

    @t.observe("text")
    def _render(self, change: dict[str, Any]) -> None:
        import mistune

        self.value = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])(change["new"])
