"""Content keys of step outputs: what the step cache files them by.

A step's key hashes everything its output depends on: the component (module, class, its `version`, the
version of the package that ships it), its parameters after `${name}` substitution, the values of the
flow parameters it refers to as `@name`, the keys of its inputs, what the planner asked of it (columns
read, filter pushed into the reader) and, for readers, the version of the source data
(`Component.cache_version`: a local file's size and mtime, a frame's content hash...). A step has no key,
and is neither cached nor looked up, when:

- it is a sink (sinks always run), or its flow file says `cache: false`;
- its component cannot say what version of the world it saw (`cache_version()` is None: a SQL table, an
  HTTP source, a script not declared pure) and the flow file does not opt in with `cache: true` or
  `cache: {version: ...}` (then that text, after `${name}` substitution, is the version);
- one of its inputs has no key.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import importlib.metadata
import json
from typing import Any

from ..components.base import Component, InputComponent
from ..errors import FlowValidationError
from ..spec import StepSpec, substitute
from ..spec.models import StepCacheSpec
from .plan import Plan, PlannedStep
from .schemas import referenced

FORMAT = 2  # bump when what a key covers changes


def step_keys(plan: Plan) -> dict[str, str | None]:
    """Every step's key (None: not cacheable), in plan order."""
    specs = {s.id: s for s in plan.spec.steps}
    keys: dict[str, str | None] = {}
    for sid in plan.order:
        keys[sid] = _key(plan, plan.steps[sid], specs[sid], keys)
    return keys


def component_version(cls: type[Component]) -> str:
    """The component's identity and version: module, class, its `version` and its distribution's."""
    return f"{cls.__module__}:{cls.__qualname__}@{cls.version}/{_distribution_version(cls.__module__)}"


def _key(plan: Plan, step: PlannedStep, spec: StepSpec, keys: dict[str, str | None]) -> str | None:
    component = step.component
    if component.is_sink or spec.cache is False:
        return None
    inputs = [keys[i] for i in step.run_inputs]  # (a key filter's source decides which rows stay)
    if any(k is None for k in inputs):
        return None
    if isinstance(spec.cache, StepCacheSpec) and spec.cache.version is not None:
        version: Any = ("declared", substitute(spec.cache.version, plan.parameters, field="cache.version"))
    elif isinstance(spec.cache, StepCacheSpec) and spec.cache.content:
        fingerprint = component.content_fingerprint() if isinstance(component, InputComponent) else None
        version = ("content", fingerprint)
        if fingerprint is None:
            raise FlowValidationError(
                f"{component.name} has no local files to hash",
                file=plan.source,
                step=spec.id,
                field="cache.content",
            )
    else:
        version = component.cache_version()
        if version is None:
            if spec.cache is not True:
                return None
            version = "opted in"
    material = [
        FORMAT,
        component_version(type(component)),
        component.params.model_dump(mode="json"),
        referenced(spec.with_, plan.parameters),
        inputs,
        version,
        step.read_columns,
        repr(step.read_filter) if step.read_filter is not None else None,
        step.applied_at_source,
        str(step.key_filter) if step.key_filter is not None else None,
    ]
    encoded = json.dumps(material, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.blake2b(encoded.encode(), digest_size=16).hexdigest()


def _plain(value: Any) -> Any:
    """JSON for values a key may hold that JSON has no type for (dates, decimals, sets), typed so that
    the date 2026-01-01 and the text '2026-01-01' make different keys."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return [type(value).__name__, value.isoformat()]
    if isinstance(value, decimal.Decimal):
        return ["decimal", str(value)]
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return ["bytes", hashlib.blake2b(value, digest_size=16).hexdigest()]
    return [type(value).__name__, repr(value)]


@functools.cache
def _distribution_version(module: str) -> str:
    top = module.partition(".")[0]
    if top == __package__.partition(".")[0]:
        from .. import __version__  # the built-ins: no scan of every installed package (about 0.3 s)

        return __version__
    for name in _packages_distributions().get(top, []):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "local"


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    """Reads the file lists of every installed distribution: once per process."""
    return dict(importlib.metadata.packages_distributions())
