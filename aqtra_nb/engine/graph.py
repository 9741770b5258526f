"""Structural checks of a flow's step graph: unique ids, known inputs, no cycles, a stable order."""

from __future__ import annotations

import heapq

from ..errors import FlowValidationError, did_you_mean
from ..spec import FlowSpec


def topological_order(spec: FlowSpec) -> list[str]:
    """Step ids so that every step comes after its inputs; ties keep the order of the file."""
    source = spec.source
    seen: set[str] = set()
    for step in spec.steps:
        if step.id in seen:
            raise FlowValidationError(
                "duplicate step id; step ids must be unique", file=source, step=step.id, field="id"
            )
        seen.add(step.id)
        if step.input is not None and step.inputs is not None:
            raise FlowValidationError(
                "give `input` or `inputs`, not both", file=source, step=step.id, field="inputs"
            )
    ids = [s.id for s in spec.steps]
    for step in spec.steps:
        for input_id in step.input_ids:
            if input_id not in seen:
                field = "inputs" if step.inputs is not None else "input"
                raise FlowValidationError(
                    f"unknown input step {input_id!r}.{did_you_mean(input_id, ids)}",
                    file=source,
                    step=step.id,
                    field=field,
                )
    # Kahn's algorithm, taking ready steps in file order.
    position = {sid: n for n, sid in enumerate(ids)}
    waiting = {s.id: len(set(s.input_ids)) for s in spec.steps}
    consumers: dict[str, list[str]] = {sid: [] for sid in ids}
    for step in spec.steps:
        for input_id in set(step.input_ids):
            consumers[input_id].append(step.id)
    ready = [(position[sid], sid) for sid in ids if waiting[sid] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, sid = heapq.heappop(ready)
        order.append(sid)
        for consumer in consumers[sid]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, (position[consumer], consumer))
    if len(order) < len(ids):
        remaining = {s.id: set(s.input_ids) - set(order) for s in spec.steps if s.id not in set(order)}
        cycle = _find_cycle(remaining)
        raise FlowValidationError(
            "the steps form a cycle: " + " -> ".join(cycle), file=source, step=cycle[0], field="input"
        )
    return order


def _find_cycle(remaining: dict[str, set[str]]) -> list[str]:
    start = min(remaining)
    path, node = [start], start
    while True:
        node = sorted(remaining[node])[0]
        if node in path:
            return path[path.index(node) :] + [node]
        path.append(node)
