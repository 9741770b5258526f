"""JSON responses as frames: where the records are in a body, their columns' kinds (declared, or inferred
from the first page) and each page conformed to them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pandas.api.types import pandas_dtype

from ...column_kinds import TEMPORAL, ColumnKind, dtype_of, to_datetime

logger = logging.getLogger(__name__)


def _path_parts(path: str) -> list[str]:
    """A JSON pointer (`/data/items`) or a dotted path (`data.items`) as its parts."""
    if path.startswith("/"):
        return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    return path.split(".")


def lookup(body: Any, path: str | None) -> tuple[bool, Any]:
    """(found, value) at `path` in a JSON document."""
    node = body
    for part in _path_parts(path) if path else []:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return False, node
    return True, node


def records_of(body: Any, path: str | None) -> list[Any]:
    """The list of records in a response body (ValueError with a hint when it is not there). A `path` to
    one object gives that one record."""
    found, node = lookup(body, path)
    if not found:
        keys = ", ".join(map(str, node)) if isinstance(node, dict) else type(node).__name__
        raise ValueError(f"no {path!r} in the response (there: {keys})")
    if node is None:
        return []
    if isinstance(node, list):
        return node
    if isinstance(node, dict) and not path:
        lists = [k for k, v in node.items() if isinstance(v, list)]
        hint = f" (keys holding lists: {', '.join(lists)})" if lists else f" (keys: {', '.join(node)})"
        raise ValueError(
            f"the response is a JSON object, not a list of records: set `records` to the list's path{hint}"
        )
    return [node]


def infer_kinds(frame: pd.DataFrame) -> dict[str, ColumnKind]:
    """Column kinds from a sample page: integers are nullable, text is `str`, the rest objects."""
    kinds: dict[str, ColumnKind] = {}
    for name in frame.columns:
        values = frame[name]
        present = values.dropna()
        if pd.api.types.is_bool_dtype(values.dtype):
            kinds[name] = ColumnKind.BOOLEAN
        elif pd.api.types.is_integer_dtype(values.dtype):
            kinds[name] = ColumnKind.INTEGER
        elif pd.api.types.is_float_dtype(values.dtype):
            kinds[name] = ColumnKind.NUMBER
        elif len(present) and all(isinstance(v, bool) for v in present):
            kinds[name] = ColumnKind.BOOLEAN
        elif pd.api.types.is_string_dtype(values.dtype) and all(isinstance(v, str) for v in present):
            kinds[name] = ColumnKind.STRING
        else:
            kinds[name] = ColumnKind.OTHER
    return kinds


def cast(values: pd.Series, kind: str) -> pd.Series:
    if kind in (ColumnKind.INTEGER, ColumnKind.NUMBER):
        return pd.to_numeric(values.astype(object)).astype(pandas_dtype(dtype_of(kind)))
    if kind in (ColumnKind.BOOLEAN, ColumnKind.STRING):
        return values.astype(pandas_dtype(dtype_of(kind)))
    if kind in TEMPORAL:  # text with or without a zone: instants in UTC; naive for date and datetime
        stamps = pd.to_datetime(values.astype(object), format="ISO8601", utc=True)
        return to_datetime(stamps if kind == ColumnKind.DATETIMETZ else stamps.dt.tz_localize(None), kind)
    return values.astype(object)


def conform(frame: pd.DataFrame, kinds: Mapping[str, str], *, declared: bool) -> pd.DataFrame:
    """The frame with exactly the planned columns and types: missing ones null, others dropped (with a
    warning when the columns were inferred from the first page: later pages brought new ones)."""
    extra = [c for c in frame.columns if c not in kinds]
    if extra and not declared:
        logger.warning(
            "columns not on the first page are dropped (declare `columns` to keep them): %s",
            ", ".join(extra[:20]),
        )
    columns = {}
    for name, kind in kinds.items():
        values = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        try:
            columns[name] = cast(values.reset_index(drop=True), kind)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(
                f"column {name!r} is {kind} in the planned schema but holds {_first_bad(values, kind)}: "
                f"{exc}. Declare its type in `columns` (e.g. number or string)"
            ) from None
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _first_bad(values: pd.Series, kind: str) -> str:
    for value in values.dropna():
        try:
            cast(pd.Series([value], dtype=object), kind)
        except (TypeError, ValueError, OverflowError):
            return repr(value)[:80]
    return "a value that does not fit"
