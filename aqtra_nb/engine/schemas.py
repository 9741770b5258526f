"""A memo of schema inference: a step's output schema is a pure function of its component, params, the
flow's parameter values and its input schemas, for components that say so (`Component.pure_schema`).

Inferring a schema runs the component's pandas code on empty frames, which costs as much as running it
on small data. Re-planning a flow (every run of it in a notebook) and flows that repeat a step then skip
that work. Entries are small (empty frames) and the memo is bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import pandas as pd

from ..components.base import Component, column_dtypes
from ..lru import LRU

MAX_ENTRIES = 4096

_memo: LRU[tuple[pd.DataFrame, Hashable]] = LRU(MAX_ENTRIES)


def signature(frame: pd.DataFrame) -> Hashable | None:
    """What of an empty frame a schema can depend on: column names and dtypes, the index's type, dtype
    and names. None when a dtype is not hashable (then nothing is memoized)."""
    index = frame.index
    try:
        key = (
            tuple(frame.columns.tolist()),
            tuple(column_dtypes(frame)),
            type(index),
            index.dtype,
            tuple(index.names),
        )
        hash(key)
    except TypeError:
        return None
    return key


_REFERENCE = re.compile(r"@([A-Za-z_]\w*)")


def referenced(raw: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The flow parameters a step's `with` refers to as `@name` (in expressions, SQL params, filters),
    with their values. (`${name}` references are substituted into the params themselves.) A step's
    schema and output depend on these, not on the others: changing one parameter re-plans and re-runs
    only the steps that name it."""
    text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str)
    return {name: values[name] for name in sorted(set(_REFERENCE.findall(text))) if name in values}


def parameters_key(values: Mapping[str, Any]) -> str:
    """Parameter values as one key (types included, lists and dates alike)."""
    return repr(sorted(values.items(), key=lambda item: item[0]))


def infer(
    component: Component,
    inputs: list[pd.DataFrame],
    signatures: list[Hashable | None],
    parameters: str,
    schema: Callable[[list[pd.DataFrame]], pd.DataFrame],
) -> tuple[pd.DataFrame, Hashable | None]:
    """`schema(inputs)`, or the memoized result for the same component, params, parameters and inputs;
    with the output's signature (so that the next step's key costs nothing)."""
    key = _key(component, signatures, parameters)
    if key is not None:
        found = _memo.get(key)
        if found is not None:
            return found
    output = schema(inputs)
    entry = (output, signature(output))
    if key is not None and entry[1] is not None:
        _memo.put(key, entry)
    return entry


def _key(component: Component, signatures: list[Hashable | None], parameters: str) -> Hashable | None:
    if not component.pure_schema or any(s is None for s in signatures):
        return None
    return (type(component), repr(component.params), parameters, tuple(signatures))


def clear() -> None:
    """Forget every memoized schema (benchmarks measure cold planning with it)."""
    _memo.clear()
