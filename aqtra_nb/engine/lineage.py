"""The lineage of a run: what it read, with which code and parameters, and what it wrote.

A plain JSON document, begun from the plan when the run starts (so the inputs' fingerprints are those of
the data the run is about to read) and completed from the step results when it ends:

- `flow`: name, content hash (the store's flow version has the same hash), source file;
- `parameters`: the resolved values;
- `inputs`: per reader step its component, its source as written in the flow (path, url, table, query,
  connection name: references such as `${secret:X}` stay references), the resolved local path, the
  source's fingerprint (`Component.cache_version()`: a local file's path, inode, size and mtime; a frame's
  content hash; None for SQL and HTTP sources) and its columns;
- `steps`: every step's component version (`keys.component_version`);
- `scripts`: the code of every `script` step;
- `outputs`: per sink its kind (file, table, records, http), target, rows written and columns; per
  collected step (`kind: frame`) its rows.

The run carries it in the `run_started` event (without outputs) and in `run_finished`/`run_failed`
(complete), so the store's recorder and the OpenLineage emitter are listeners like any other.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..components.base import Component, InputComponent
from ..spec.digest import content_hash
from .keys import component_version
from .plan import Plan, PlannedStep
from .result import StepResult

logger = logging.getLogger(__name__)

FORMAT = 1
#: parameters that say where a reader's or writer's data is, as the flow file writes them
LOCATION_KEYS = ("connection", "url", "path", "table", "query", "entity", "name", "method")


def begin(plan: Plan) -> dict[str, Any]:
    """The lineage known before anything is read: flow, parameters, inputs, versions, scripts."""
    inputs = [
        _input(step) for sid in plan.order if isinstance((step := plan.steps[sid]).component, InputComponent)
    ]
    scripts = {}
    for sid in plan.order:
        code = _script_code(plan.steps[sid].component)
        if code is not None:
            scripts[sid] = code
    document = {
        "format": FORMAT,
        "flow": {
            "name": plan.spec.flow,
            "hash": content_hash(plan.spec.to_document()),
            "source": plan.source,
        },
        "parameters": plain(plan.parameters),
        "inputs": inputs,
        "steps": {
            sid: {
                "component": plan.steps[sid].component.name,
                "version": component_version(type(plan.steps[sid].component)),
            }
            for sid in plan.order
        },
        "scripts": scripts,
        "outputs": [],
    }
    return _redacted(document)


def complete(
    document: Mapping[str, Any],
    plan: Plan,
    steps: Mapping[str, StepResult],
    collected: Mapping[str, pd.DataFrame],
) -> dict[str, Any]:
    """`document` with the outputs: every sink that finished, with the rows it wrote, and every collected
    step. A failed run lists the sinks that finished before the failure."""
    outputs: list[dict[str, Any]] = []
    for sid in plan.order:
        step = plan.steps[sid]
        if step.component.is_sink and steps[sid].status == "succeeded":
            outputs.append(_sink(step, steps[sid].rows))
    for sid, frame in collected.items():
        step = plan.steps[sid]
        outputs.append(
            {
                "step": sid,
                "component": step.component.name,
                "kind": "frame",
                "rows": len(frame),
                "columns": step.columns,
            }
        )
    return _redacted({**document, "outputs": outputs})


def _input(step: PlannedStep) -> dict[str, Any]:
    component = step.component
    try:
        fingerprint = plain(component.cache_version())
    except Exception:  # a reader that cannot say: the run reports its own errors when it reads
        logger.debug("no fingerprint for step %s", step.id, exc_info=True)
        fingerprint = None
    return {
        "step": step.id,
        "component": component.name,
        "source": _location(component),
        "location": _resolved(component),
        "fingerprint": fingerprint,
        "columns": step.columns,
    }


def _sink(step: PlannedStep, rows: int | None) -> dict[str, Any]:
    component = step.component
    target = _location(component)
    if "table" in target:
        kind = "table"
    elif "entity" in target:
        kind = "records"
    elif "method" in target:
        kind = "http"
    elif "path" in target:
        kind = "file"
    else:
        kind = "other"
    return {
        "step": step.id,
        "component": component.name,
        "kind": kind,
        "target": target,
        "location": _resolved(component) if kind == "file" else None,
        "rows": rows,
        "columns": step.columns,
    }


def _location(component: Component) -> dict[str, Any]:
    """The params that say where the data is, as written (after `${name}` substitution of flow parameters;
    `${secret:...}` and `${env:...}` references are never resolved here)."""
    params = component.params.model_dump(mode="json", exclude_none=True)
    return {key: params[key] for key in LOCATION_KEYS if key in params and params[key] not in ("", {})}


def _resolved(component: Component) -> str | None:
    """A plain path's absolute form (relative paths resolve in the flow file's folder); None for paths
    inside a named connection and for everything else."""
    params = component.params
    path = getattr(params, "path", None)
    if not isinstance(path, str) or getattr(params, "connection", None) or getattr(params, "url", None):
        return None
    return component.ctx.resolve_path(path)


def _script_code(component: Component) -> str | None:
    from ..components.window import Script, code_of

    if not isinstance(component, Script):
        return None
    try:
        return code_of(component._function())
    except Exception:  # planning found the function; this cannot fail unless the module changed since
        logger.debug("no code for script step %s", component.ctx.step_id, exc_info=True)
        return None


def plain(value: Any) -> Any:
    """JSON-able: tuples as lists, dates as ISO text, decimals as text, other objects by repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes):
        return [plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return repr(value)


def _redacted(value: Any) -> Any:
    """Every text with any secret value resolved in this process masked: a parameter or path may have
    been given one in clear."""
    from ..secrets import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value
