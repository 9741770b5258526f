"""Shared by the pushdown tests: a Parquet read and filter run in one mode, and the rows the expression
language keeps when it filters the whole frame in pandas (what a pushed filter must agree with)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aqtra_nb import Flow
from aqtra_nb.expr import parse_expression
from aqtra_nb.expr.functions import as_mask


def run(data, condition: str, mode: str, parameters: Mapping[str, Any] | None = None):
    """(plan, rows kept) of `read_parquet` then `filter(condition)` run in `mode`."""
    f = Flow("pushdown", parameters=dict(parameters or {}))
    kept = f.read_parquet("rows", path=str(data)).filter("kept", condition=condition)
    plan = f.plan()
    result = f.run(progress=False, record=False, mode=mode)[kept.id]
    return plan, result.reset_index(drop=True)


def expected_ids(data, condition: str, parameters: Mapping[str, Any] | None = None) -> list[int]:
    """The rows the expression language keeps, evaluated in pandas on the unfiltered frame."""
    f = Flow("all")
    everything = f.read_parquet("rows", path=str(data))
    frame = f.run(progress=False, record=False)[everything.id]
    mask = as_mask(parse_expression(condition).evaluate(frame, dict(parameters or {})))
    return frame.loc[mask, "id"].tolist()
