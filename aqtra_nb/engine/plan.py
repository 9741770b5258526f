"""Planning: validate a whole flow before any data is read, infer every step's schema, prune columns.

`plan_flow` is a function from a FlowSpec (plus parameter values) to a Plan: plain data that the runner
turns into one Dask graph.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from ..components.base import Component, InputComponent, StepContext, dask_settings
from ..components.registry import ComponentRegistry
from ..components.registry import registry as default_registry
from ..errors import AqtraError, FlowValidationError, StepFailed, did_you_mean
from ..spec import FlowSpec, resolve_parameters, substitute
from ..spec.template import refuse_placeholders
from . import estimates, schemas
from .graph import topological_order
from .pushdown import predicates


@dataclass
class PlannedStep:
    """A step with its resolved component, inferred output schema and pushed-down read options."""

    id: str
    component: Component
    inputs: list[str]
    schema: pd.DataFrame
    consumers: list[str] = field(default_factory=list)
    needed: set[str] | None = None
    read_columns: list[str] | None = None
    read_filter: Any = None
    applied_at_source: bool = False  # a filter whose whole condition its reader applies: passes rows on
    sizes: list[tuple[float, float] | None] | None = None  # a join's inputs' estimated (rows, bytes)
    broadcast: int | None = None  # a join's input joined whole to each partition of the other
    key_filter: KeyFilter | None = None  # rows of one input kept only if a later join can match them

    @property
    def columns(self) -> dict[str, str]:
        return {str(name): str(dtype) for name, dtype in self.schema.dtypes.items()}

    @property
    def run_inputs(self) -> list[str]:
        """The steps whose outputs running this step takes: its inputs, then its key filter's source."""
        return self.inputs if self.key_filter is None else [*self.inputs, self.key_filter.source]


@dataclass(frozen=True)
class KeyFilter:
    """A join's input (`input`, by position) cut to the rows whose `column` is among step `source`'s
    `source_column`: this join's only consumer is an inner (or semi) join of its output with `source`
    on that column, so those are the only rows of it that consumer can keep (a runtime filter, in
    database terms; TPC-H Q2's 4 M part offers to the 16 k of the 4 k brass parts before they meet
    their suppliers). The step's own output has fewer rows; its consumer's is the same."""

    input: int
    column: str
    source: str
    source_column: str

    def __str__(self) -> str:
        return f"rows of input {self.input + 1} kept only where {self.column} is among {self.source}'s {self.source_column}"


@dataclass
class Plan:
    spec: FlowSpec
    parameters: dict[str, Any]
    order: list[str]
    steps: dict[str, PlannedStep]
    source: str | None = None
    collected: frozenset[str] = frozenset()
    objects: dict[str, Any] = field(default_factory=dict, repr=False)
    base_dir: Path | None = None

    def collecting(self, steps: Sequence[str]) -> Plan:
        """This plan, or a new one in which `steps` keep all their rows and columns (no pruning or
        filter pushdown through them), because the caller wants their output."""
        wanted = frozenset(steps)
        whole = {
            s
            for s, step in self.steps.items()
            if step.needed is None and step.read_filter is None and step.key_filter is None
        }
        if wanted <= self.collected | whole:
            return self
        # Only the pushdown changes: components (and what readers loaded while planning) and schemas are
        # kept, so nothing is read or inferred twice.
        collect = wanted | self.collected
        planned = {
            sid: PlannedStep(sid, _fresh(step.component), list(step.inputs), step.schema)
            for sid, step in self.steps.items()
        }
        for sid in self.order:
            for i in planned[sid].inputs:
                planned[i].consumers.append(sid)
        with dask_settings():
            _prune_columns(planned, self.order, collect)
            _push_filters(planned, collect)
            _choose_broadcasts(planned, self.order)
            order = _choose_key_filters(planned, topological_order(self.spec), collect)
        return dataclasses.replace(self, steps=planned, collected=collect, order=order)

    def explain(self) -> str:
        """A readable summary: each step, its inputs, output columns and pushed-down reads."""
        lines = [f"flow {self.spec.flow!r}" + (f" ({self.source})" if self.source else "")]
        for step_id in self.order:
            step = self.steps[step_id]
            head = f"  {step_id}: {step.component.name}"
            if step.inputs:
                head += f" <- {', '.join(step.inputs)}"
            lines.append(head)
            lines.append("      columns: " + ", ".join(f"{k} {v}" for k, v in step.columns.items()))
            if step.read_columns is not None:
                lines.append("      reads only: " + ", ".join(step.read_columns))
            if step.read_filter is not None:
                lines.append(f"      filter pushed into reader: {step.read_filter}")
            if step.applied_at_source:
                lines.append("      condition applied entirely by the reader")
            if step.sizes is not None:
                lines.append("      " + _join_sizes(step))
            if step.key_filter is not None:
                lines.append(f"      runtime filter: {step.key_filter}")
        return "\n".join(lines)


def _join_sizes(step: PlannedStep) -> str:
    """`estimated: first input ~6,001,215 rows (144.0 MB), second input ~? rows; partitioned runs shuffle
    both`."""
    names = ("first input", "second input")
    parts = [
        f"{name} ~{size[0]:,.0f} rows ({size[1] / 2**20:,.1f} MB)" if size else f"{name} ~? rows"
        for name, size in zip(names, step.sizes or [], strict=False)
    ]
    how = "shuffle both" if step.broadcast is None else f"broadcast the {names[step.broadcast]}"
    return f"estimated: {', '.join(parts)}; partitioned runs {how}"


def _fresh(component: Component) -> Component:
    """A copy of a planned component under a new token: Dask names tasks by step and token, and the copy's
    reads may differ (other columns, no filter), so they must not share names with the original's."""
    clone = copy.copy(component)
    clone.ctx = dataclasses.replace(component.ctx, token=uuid.uuid4().hex)
    return clone


def ancestors(plan: Plan, step_id: str) -> set[str]:
    """The step and every step it depends on."""
    seen, todo = set(), [step_id]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(plan.steps[current].run_inputs)
    return seen


def plan_flow(
    spec: FlowSpec,
    parameters: Mapping[str, Any] | None = None,
    *,
    objects: Mapping[str, Any] | None = None,
    base_dir: str | Path | None = None,
    registry: ComponentRegistry | None = None,
    collect: Sequence[str] = (),
) -> Plan:
    """Validate and plan. Raises FlowValidationError (or another AqtraError) naming file, step and field.

    Steps in `collect` are wanted whole by the caller: nothing is pruned or filtered away through them.
    """
    with dask_settings():
        return _plan(spec, parameters, objects, base_dir, registry or default_registry, frozenset(collect))


def _plan(spec, parameters, objects, base_dir, registry, collect) -> Plan:
    source = spec.source
    if base_dir is None:
        base_dir = spec.base_dir or Path.cwd()
    order = topological_order(spec)
    try:
        values = resolve_parameters(spec.parameters, parameters or {})
    except AqtraError as exc:
        exc.at(file=source)
        raise
    by_id = {s.id: s for s in spec.steps}
    planned: dict[str, PlannedStep] = {}
    signatures: dict[str, Hashable | None] = {}
    base_dir, objects = Path(base_dir), dict(objects or {})
    for step_id in order:
        step = by_id[step_id]
        component = _instantiate(step, registry, source, base_dir, values, objects)
        inputs = step.input_ids
        try:
            schema, signatures[step_id] = schemas.infer(
                component,
                [planned[i].schema for i in inputs],
                [signatures[i] for i in inputs],
                schemas.parameters_key(schemas.referenced(step.with_, values)),
                component.schema,
            )
        except AqtraError as exc:
            exc.at(file=source, step=step_id)
            raise
        except Exception as exc:
            raise StepFailed(
                f"{step.component} could not infer its output: {type(exc).__name__}: {exc}",
                step=step_id,
                component=step.component,
                file=source,
            ) from exc
        planned[step_id] = PlannedStep(step_id, component, inputs, schema)
        for i in inputs:
            planned[i].consumers.append(step_id)
    _prune_columns(planned, order, collect)
    _push_filters(planned, collect)
    _choose_broadcasts(planned, order)
    order = _choose_key_filters(planned, order, collect)
    return Plan(spec, values, order, planned, source, collect, objects, base_dir)


def _instantiate(step, registry, source, base_dir, values, objects) -> Component:
    try:
        cls = registry.get(step.component)
    except AqtraError as exc:
        exc.at(file=source, step=step.id, field="component")
        raise
    n = len(step.input_ids)
    if n < cls.min_inputs or (cls.max_inputs is not None and n > cls.max_inputs):
        expected = _arity(cls.min_inputs, cls.max_inputs)
        field_name = "inputs" if step.inputs is not None else "input"
        raise FlowValidationError(
            f"component {cls.name!r} takes {expected}, got {n}", file=source, step=step.id, field=field_name
        )
    try:
        refuse_placeholders(step.with_, cls.verbatim)
        raw = substitute(step.with_, values, field="with")
    except AqtraError as exc:
        exc.at(file=source, step=step.id)
        raise
    try:
        params = cls.Params.model_validate(raw)
    except ValidationError as exc:
        raise params_error(exc, cls, source=source, step=step.id) from None
    ctx = StepContext(step.id, cls.name, source, base_dir, values, objects)
    return cls(params, ctx)


def params_error(exc: ValidationError, cls: type[Component], *, source: str | None, step: str | None):
    """A component-params validation error as a FlowValidationError at `with.<field>`."""
    errors = exc.errors()
    # A misspelt key usually also makes a required one "missing": report the misspelling.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [str(part) for part in first["loc"]]
    field_name = ".".join(["with", *loc]) if loc else "with"
    if first["type"] == "extra_forbidden":
        key = loc[-1] if loc else ""
        allowed = list(_model_at(cls.Params, loc[:-1]).model_fields)
        message = (
            f"unknown parameter {key!r} for component {cls.name!r}.{did_you_mean(key, allowed)} "
            f"Allowed: {', '.join(allowed)}"
        )
    elif first["type"] == "missing":
        message = f"component {cls.name!r} requires this parameter"
    else:
        message = first["msg"].removeprefix("Value error, ")
    return FlowValidationError(message, file=source, step=step, field=field_name)


def _model_at(model: type[BaseModel], path: Sequence[str]) -> type[BaseModel]:
    """The pydantic model that holds the field at `path` (nested params, lists and maps of models, tagged
    unions), so a misspelt nested key is answered with that model's keys, not the top level's."""
    candidates = [model]
    for part in path:
        # a union's tag first (pydantic puts `kind`'s value in the path), then a field
        tagged = [
            m
            for m in candidates
            if any(typing.get_args(f.annotation) == (part,) for f in m.model_fields.values())
        ]
        if tagged:
            candidates = tagged
            continue
        owner = next((m for m in candidates if part in m.model_fields), None)
        if owner is None:
            continue  # a list index or a map key: the models found so far still apply
        found = _models_in(owner.model_fields[part].annotation)
        if not found:
            break
        candidates = found
    return candidates[0]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _arity(low: int, high: int | None) -> str:
    if high == low:
        return f"{low} input{'s' if low != 1 else ''}"
    if high is None:
        return f"at least {low} inputs"
    return f"{low} to {high} inputs"


def _prune_columns(planned: dict[str, PlannedStep], order: list[str], collect: frozenset[str]) -> None:
    """Walk backwards: each step learns which of its columns its consumers need (None: all)."""
    for step_id in reversed(order):
        step = planned[step_id]
        needs: set[str] | None = set() if step.consumers and step_id not in collect else None
        for consumer_id in step.consumers:
            consumer = planned[consumer_id]
            required = consumer.component.required_columns(
                consumer.needed, [planned[i].schema for i in consumer.inputs]
            )
            for position, input_id in enumerate(consumer.inputs):
                if input_id != step_id:
                    continue
                want = required[position]
                needs = None if (want is None or needs is None) else needs | set(want)
        step.needed = needs
        if isinstance(step.component, InputComponent) and needs is not None:
            step.read_columns = [str(c) for c in step.schema.columns if str(c) in needs]


def _push_filters(planned: dict[str, PlannedStep], collect: frozenset[str]) -> None:
    """The simple conjuncts of a filter right after a reader that supports filters are offered to the
    reader (`push_filter`), which applies those it can at the source (Arrow filter, SQL WHERE). When it
    applies the whole condition, the columns only the condition used are not read at all."""
    from ..components.transforms import Filter

    for step in planned.values():
        component = step.component
        if not isinstance(component, Filter) or len(step.inputs) != 1:
            continue
        source = planned[step.inputs[0]]
        reader = source.component
        if source.id in collect:
            continue
        if (
            not isinstance(reader, InputComponent)
            or not reader.supports_filters
            or len(source.consumers) != 1
        ):
            continue
        expr = component.condition([str(c) for c in source.schema.columns])
        found, whole = predicates(
            expr, component.ctx.parameters, null_tests=reader.null_tests, columns=reader.column_comparisons
        )
        pushed = reader.push_filter(found) if found else None
        if pushed is not None:
            source.read_filter = pushed
            step.applied_at_source = whole and reader.applies_all(found)
            if step.applied_at_source and step.needed is not None and source.read_columns is not None:
                # the reader tests the condition's columns itself: read only what comes after needs
                kept = [c for c in source.read_columns if c in step.needed]
                source.read_columns = kept or source.read_columns


BROADCAST_ROWS = 4_000_000  # a pandas merge hashes the whole side once per partition of the other
BROADCAST_MARGIN = 8  # a broadcast side that is this many times the limit at run time fails its step


def broadcast_limit() -> int:
    """The most bytes (estimated) a join's side may take to be broadcast: 1/64 of memory, so that an
    estimate wrong by several times still leaves most of it (the side is held once, as one frame); one
    that turns out `BROADCAST_MARGIN` times larger (1/8 of memory) fails the join with an error that says
    how to turn broadcasting off, before it is joined to anything."""
    from .run import _memory

    return _memory() // 64


def _choose_broadcasts(planned: dict[str, PlannedStep], order: list[str]) -> None:
    """For each join, the input to join whole to every partition of the other (partitioned runs): of
    those the join type allows and whose estimate is under `broadcast_limit` and `BROADCAST_ROWS`, the
    smaller in bytes. Inputs without estimates are never broadcast."""
    joins = [sid for sid in order if planned[sid].component.name in ("join", "lookup")]
    if not joins:
        return
    from ..components.relational import Broadcasting  # imports Dask's dataframe module: flows with joins

    found = estimates.estimate(planned, order)
    limit = broadcast_limit()
    for sid in joins:
        step = planned[sid]
        component = step.component
        if not isinstance(component, Broadcasting):
            continue
        sizes: list[tuple[float, float] | None] = []
        for i in step.inputs:
            size = estimates.step_bytes(planned[i], found[i])
            sizes.append(None if size is None else (found[i].rows, size))  # type: ignore[union-attr]
        choice = None
        for side in component.broadcastable():
            mine = sizes[side]
            if mine is None or mine[1] > limit or mine[0] > BROADCAST_ROWS:
                continue
            if choice is None or mine[1] < sizes[choice][1]:  # type: ignore[index]
                choice = side
        step.sizes, step.broadcast = sizes, choice
        component.broadcast, component.broadcast_bytes = choice, limit * BROADCAST_MARGIN


def key_filtered(found: KeyFilter | None, frames: list[Any]) -> list[Any]:
    """A step's input frames as its component takes them: with a key filter, the last of `frames` (the
    filter's source) cuts the filtered input to the rows whose key it has."""
    if found is None:
        return frames
    from ..components.key_join import rows_with_keys

    *inputs, source = frames
    inputs[found.input] = rows_with_keys(inputs[found.input], found.column, source, found.source_column)
    return inputs


KEY_FILTER_SHARE = 4  # a key filter's source is estimated at most this share of the rows it filters


def _choose_key_filters(
    planned: dict[str, PlannedStep], order: list[str], collect: frozenset[str]
) -> list[str]:
    """Key filters (`KeyFilter`) for inner joins whose only consumer is an inner or semi join of their
    output with an input estimated small (as a broadcast side is: `sizes`), on one key that comes from
    one of their own inputs unrenamed, of the same dtype on both sides; never through a step the caller
    wants whole (`collect`). Returns `order` with each filtered step moved just before its consumer
    (after the filter's source)."""
    order = list(order)
    for consumer_id in list(order):
        consumer = planned[consumer_id]
        component = consumer.component
        if (
            component.name != "join"
            or consumer.sizes is None
            or component.params.how not in ("inner", "semi")
        ):
            continue
        keys = _single_keys(component.params)
        if keys is None:
            continue
        for side in (0, 1):
            source_id, target_id = consumer.inputs[side], consumer.inputs[1 - side]
            found = _key_filter(planned, consumer, side, keys, collect)
            if found is None:
                continue
            target = planned[target_id]
            target.key_filter = found
            order.remove(target_id)
            order.insert(order.index(consumer_id), target_id)
            assert order.index(source_id) < order.index(target_id)
            break
    return order


def _single_keys(params: Any) -> tuple[str, str] | None:
    """A join's one key pair (first input's, second's), or None for several."""
    from ..components.relational import _keys

    left, right = _keys(params.on) or _keys(params.left_on), _keys(params.on) or _keys(params.right_on)
    return (left[0], right[0]) if len(left) == 1 == len(right) else None


def _key_filter(
    planned: dict[str, PlannedStep],
    consumer: PlannedStep,
    side: int,
    keys: tuple[str, str],
    collect: frozenset[str],
) -> KeyFilter | None:
    """The key filter `consumer`'s input `side` (the small one) would put on its other input, if any."""
    source, target = planned[consumer.inputs[side]], planned[consumer.inputs[1 - side]]
    small = consumer.sizes[side]  # type: ignore[index]
    if (
        target.id in collect
        or target.consumers != [consumer.id]
        or source.id == target.id
        or target.component.name != "join"
        or target.component.params.how != "inner"
        or target.sizes is None
        or small is None
        or small[0] > BROADCAST_ROWS
        or small[1] > broadcast_limit()
    ):
        return None
    column, source_column = keys[1 - side], keys[side]
    if source.schema[source_column].dtype != target.schema[column].dtype:
        return None
    own = _single_keys(target.component.params)
    holders = [i for i, step_id in enumerate(target.inputs) if column in planned[step_id].schema.columns]
    if len(holders) == 2:  # in both inputs: only the shared key keeps one name in the output
        if own != (column, column):
            return None
        holders = [max(holders, key=lambda i: target.sizes[i] or (0, 0))]  # type: ignore[index]
    if len(holders) != 1:
        return None
    filtered = target.sizes[holders[0]]
    if filtered is None or filtered[0] < KEY_FILTER_SHARE * small[0]:
        return None
    return KeyFilter(holders[0], column, source.id, source_column)
