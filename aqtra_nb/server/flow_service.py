"""What the API does with flows: validate and preview documents, read and save flow files under the
server's root. Plain functions of data (tested without HTTP); the handlers only parse and reply."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import AqtraError, NotFound
from ..lru import LRU
from ..spec import FlowSpec
from ..spec.io import flow_from_document, line_of, parse_flow
from ..spec.params import parameters_json_schema
from .models import ErrorBody, PreviewResponse, StepColumns, ValidateResponse

FLOW_SUFFIXES = (".flow.yaml", ".flow.yml", ".flow.json")
STEP_KEYS = {"id", "component", "input", "inputs", "with", "description", "ui"}


class PathError(AqtraError):
    """A path outside the server's root, or not a flow file."""


def read_flow_input(flow: dict[str, Any] | str, *, source: str | None = None) -> tuple[FlowSpec, str | None]:
    """A flow from a JSON document or YAML text; the text is kept for line numbers."""
    if isinstance(flow, str):
        return parse_flow(flow, source=source), flow
    return flow_from_document(flow, source=source), None


def locate(spec: FlowSpec, base_dir: Path) -> FlowSpec:
    """Relative paths of a flow sent to the server resolve in its file's folder, or in the root."""
    return spec.located(spec.source, spec.base_dir or base_dir)


def validate(
    flow: dict[str, Any] | str, parameters: dict[str, Any], base_dir: Path, source: str | None = None
) -> ValidateResponse:
    """Plan the flow without reading data: each step's columns, or the error with its step, field, line.
    A flow validated before, unchanged, with the same parameters and inputs, gets the same reply again
    (`_REPLIES`): an editor validates on every keystroke, most of them on a flow it validated already."""
    from ..engine import plan_flow

    key = _reply_key(flow, parameters, base_dir, source)
    found = _REPLIES.get(key) if key is not None else None
    if found is not None:
        return found
    text = flow if isinstance(flow, str) else None
    document = flow if isinstance(flow, dict) else None
    form: dict[str, Any] = {}
    try:
        spec, text = read_flow_input(flow, source=source)
        form = parameters_json_schema(spec.parameters)
        plan = plan_flow(locate(spec, base_dir), parameters)
    except AqtraError as exc:
        errors = [error_entry(exc, text, document)]
        return ValidateResponse(ok=False, errors=errors, steps={}, parameters=form)
    steps = {sid: StepColumns(columns=plan.steps[sid].columns) for sid in plan.order}
    reply = ValidateResponse(ok=True, errors=[], steps=steps, parameters=form)
    if key is not None:
        _REPLIES.put(key, reply, [plan.steps[sid].component for sid in plan.order])
    return reply


def _reply_key(
    flow: dict[str, Any] | str, parameters: dict[str, Any], base_dir: Path, source: str | None
) -> tuple[str, str, str, str | None] | None:
    try:
        document = flow if isinstance(flow, str) else json.dumps(flow, sort_keys=True)
        return document, json.dumps(parameters, sort_keys=True), str(base_dir), source
    except (TypeError, ValueError):
        return None


class _Replies:
    """Successful validation replies, each with its steps' components and their `cache_version()` when
    it was made: a reply is given again only while every one is the same (a reader's files unchanged:
    a stat each) and none is None (a database, a web service, user code: those flows plan every time).
    Bounded, least recently used out first."""

    def __init__(self, size: int = 256) -> None:
        self._entries: LRU[tuple[ValidateResponse, list[tuple[Any, Any]]]] = LRU(size)

    def get(self, key: Hashable) -> ValidateResponse | None:
        found = self._entries.get(key)
        if found is None:
            return None
        reply, versions = found
        if all(component.cache_version() == version for component, version in versions):
            return reply
        self._entries.pop(key)
        return None

    def put(self, key: Hashable, reply: ValidateResponse, components: list[Any]) -> None:
        versions = [(component, component.cache_version()) for component in components]
        if any(version is None for _, version in versions):
            return
        self._entries.put(
            key, (reply, [(component, version) for component, version in versions if version != ()])
        )


_REPLIES = _Replies()


def error_entry(exc: AqtraError, text: str | None, document: dict[str, Any] | None) -> ErrorBody:
    """An error as the editor shows it; the line of its step (and field) in YAML text when not known."""
    line = getattr(exc, "line", None)
    if line is None and text is not None and exc.step:
        line = _step_line(text, exc.step, exc.field)
    return ErrorBody(error=exc.message, file=exc.file, step=exc.step, field=exc.field, line=line)


def _step_line(text: str, step: str, field: str | None) -> int | None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    steps = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(steps, list):
        return None
    for index, entry in enumerate(steps):
        if isinstance(entry, dict) and entry.get("id") == step:
            parts: tuple[Any, ...] = ("steps", index)
            if field:
                head = field.split(".")
                parts += tuple(head if head[0] in STEP_KEYS else ["with", *head])
            return line_of(text, parts)
    return None


def preview(
    flow: dict[str, Any] | str,
    parameters: dict[str, Any],
    step: str,
    rows: int,
    base_dir: Path,
    source: str | None = None,
) -> PreviewResponse:
    """The first `rows` of `step`, computing only what it needs."""
    from ..engine import plan_flow, preview_plan

    spec, _ = read_flow_input(flow, source=source)
    plan = plan_flow(locate(spec, base_dir), parameters, collect=[step] if step else ())
    if step not in plan.steps:
        raise AqtraError(f"no step {step!r}; steps: {', '.join(plan.order)}", field="step")
    frame = preview_plan(plan, step, rows)
    return PreviewResponse(step=step, columns=plan.steps[step].columns, rows=json_rows(frame))


def json_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows as JSON values: null for NaN/NA/NaT, ISO text for times, numbers for decimals."""
    split = json.loads(frame.to_json(orient="split", date_format="iso", date_unit="us", default_handler=str))
    return split["data"]


# -- files -------------------------------------------------------------------------------------------------


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def under_root(root: Path, relative: str, *, field: str = "path") -> Path:
    """`relative` under `root`: no absolute paths, no way out through `..` or symlinks."""
    if not relative or relative.startswith(("/", "\\")) or "\x00" in relative:
        raise PathError(f"{relative!r} is not a path relative to the server's root", field=field)
    root = root.resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise PathError(f"{relative!r} is outside the server's root", field=field)
    return path


def resolve(root: Path, relative: str) -> Path:
    """A flow file under `root` (see `under_root`)."""
    path = under_root(root, relative)
    if not path.name.endswith(FLOW_SUFFIXES):
        raise PathError(f"{relative!r} is not a flow file ({', '.join(FLOW_SUFFIXES)})", field="path")
    return path


def read_file(root: Path, relative: str) -> dict[str, Any]:
    path = resolve(root, relative)
    if not path.is_file():
        raise NotFound(f"no flow file {relative!r}", field="path")
    text = path.read_text(encoding="utf-8")
    spec, _ = read_flow_input(text, source=relative)
    return {"path": relative, "content": text, "flow": spec.to_document(), "hash": content_hash(text)}


class Conflict(AqtraError):
    """The file changed since the editor read it."""


def save_file(
    root: Path, relative: str, flow: dict[str, Any] | str, base_hash: str | None, store: Any
) -> dict[str, Any]:
    """Write a flow file (atomically) once it parses as a flow; record the version in the store.

    YAML text is written as sent (comments and key order kept); a document is written in the key order
    it came in, as JSON for `*.flow.json` and YAML otherwise."""
    path = resolve(root, relative)
    if base_hash is not None and path.exists():
        current = content_hash(path.read_text(encoding="utf-8"))
        if current != base_hash:
            raise Conflict(f"{relative!r} changed since it was read (hash {current[:12]}); reload it")
    text = flow if isinstance(flow, str) else _render(flow, path)
    spec, _ = read_flow_input(text, source=relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    version = store.save_flow(spec)
    return {"path": relative, "hash": content_hash(text), "version": version.id}


def _render(document: dict[str, Any], path: Path) -> str:
    if path.name.endswith(".json"):
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
