"""Read and write flow documents (YAML or JSON) with errors that name the file, line, step and field."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ..errors import AqtraError, FlowValidationError
from ..lru import LRU
from .models import FlowSpec

#: largest spec file read (a flow of thousands of steps is far below it; bigger is a mistake or an attack)
MAX_FILE_BYTES = 5 * 2**20
#: most values a document may hold once its aliases are expanded (a "billion laughs" file holds 10**9)
MAX_NODES = 200_000
#: deepest nesting of mappings and lists
MAX_DEPTH = 200


class DocumentError(ValueError):
    """A YAML document beyond the bounds above, or with a key given twice; `line` is 1-based."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class FlowLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false (YAML 1.1 reads `on:`, `yes`, `no` as booleans, and `on` is a
    join parameter). Documents are bounded in alias expansion and depth, and a key may appear once."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # Depth is bounded while composing (PyYAML composes recursively): a 10,000-level document is
        # refused at level MAX_DEPTH instead of ending in a RecursionError, which on some CPython 3.11
        # releases leaves the interpreter's recursion bookkeeping broken for later `ast.parse` calls.
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise DocumentError(
                    f"the document is nested more than {MAX_DEPTH} levels deep", mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = (
                self.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            )
            if key is not None and key in seen and key_node.tag != "tag:yaml.org,2002:merge":
                raise DocumentError(
                    f"key {str(key)[:80]!r} appears twice in one mapping (first at line {seen[key]}); "
                    "the second would silently replace the first",
                    key_node.start_mark.line + 1,
                )
            if key is not None:
                seen.setdefault(key, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: yaml.Node) -> None:
    """Count the values the document holds with aliases expanded, and its depth, without expanding it:
    a node reached through several aliases is counted once per path (memoised by identity)."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack, seen = [root], set()
    while stack:  # children before parents, each node once
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(_children(node))
    for node in reversed(order):
        children = _children(node)
        sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
        depths[id(node)] = 1 + max((depths.get(id(c), 1) for c in children), default=0)
        if sizes[id(node)] > MAX_NODES:
            raise DocumentError(
                f"the document holds more than {MAX_NODES:,} values once its aliases (*name) are expanded",
                node.start_mark.line + 1,
            )
        if depths[id(node)] > MAX_DEPTH:
            raise DocumentError(
                f"the document is nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


FlowLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FlowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_spec_file(path: str | Path, what: str, error: type[AqtraError]) -> str:
    """The text of a spec file; a missing or unreadable file is `error` ("<what> file not found: ...")
    rather than a traceback. Shared by flow, workflow, app and job files."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} file is not a regular file (a folder, a pipe or a device)", file=str(path))
        if info.st_size > MAX_FILE_BYTES:
            raise error(
                f"{what} file is {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}", file=str(path)
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} file: {exc}", file=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"{what} file is not UTF-8 text (byte {exc.start} is invalid); save it as UTF-8",
            file=str(path),
            line=line,
        ) from None


def parse_yaml(text: str, *, source: str | None, error: type[AqtraError]) -> Any:
    """YAML text (with FlowLoader's YAML 1.2 booleans) as plain data; a syntax error is `error` naming
    `source` and the line (the error's `line`) and column ("FILE, line L: not valid YAML at column C: ...")."""
    if len(text) > MAX_FILE_BYTES:
        raise error(f"the document is {len(text):,} characters; the limit is {MAX_FILE_BYTES:,}", file=source)
    kept = _PARSED.get(text)
    if kept is not None:
        return json.loads(kept)
    try:
        document = yaml.load(text, Loader=FlowLoader)  # noqa: S506 - a SafeLoader
    except DocumentError as exc:
        raise error(str(exc), file=source, line=exc.line) from None
    except RecursionError:
        raise error(f"the document is nested more than {MAX_DEPTH} levels deep", file=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise error(f"not valid YAML{where}: {problem}", file=source, line=line) from None
    _PARSED.put(text, document)
    return document


class _ParsedDocuments:
    """Recently parsed texts as JSON (PyYAML in Python costs a millisecond for a small flow, the editor
    validates on every keystroke and a dashboard on every click). Kept as JSON text so that every caller
    gets its own fresh copy; documents JSON cannot hold as they are (dates, non-string keys) are not kept.
    """

    def __init__(self, size: int = 256, max_chars: int = 256 * 1024) -> None:
        self.max_chars = max_chars
        self._texts: LRU[str] = LRU(size)

    def get(self, text: str) -> str | None:
        return self._texts.get(text)

    def put(self, text: str, document: Any) -> None:
        if len(text) > self.max_chars:
            return
        try:
            kept = json.dumps(document, allow_nan=False)
        except (TypeError, ValueError):
            return
        if len(kept) > 4 * self.max_chars or json.loads(kept) != document:  # aliases; integer keys
            return
        self._texts.put(text, kept)


_PARSED = _ParsedDocuments()


def load_flow(path: str | Path) -> FlowSpec:
    """Parse and validate a `*.flow.yaml` / `*.flow.json` file; the spec remembers where it came from."""
    path = Path(path)
    text = read_spec_file(path, "flow", FlowValidationError)
    return parse_flow(text, source=str(path)).located(str(path), path.parent)


def parse_flow(text: str, *, source: str | None = None) -> FlowSpec:
    """Parse flow text (YAML, of which JSON is a subset) into a validated FlowSpec."""
    document = parse_yaml(text, source=source, error=FlowValidationError)
    if not isinstance(document, dict):
        raise FlowValidationError(
            "a flow file must be a mapping with keys `flow`, `parameters` and `steps`", file=source
        )
    spec = flow_from_document(document, source=source, text=text)
    return spec


def flow_from_document(
    document: dict[str, Any], *, source: str | None = None, text: str | None = None
) -> FlowSpec:
    """Validate plain data as a FlowSpec, turning pydantic's errors into one located message."""
    try:
        spec = FlowSpec.model_validate(document)
    except ValidationError as exc:
        raise validation_error(exc, document, source=source, text=text) from None
    if source is not None:
        spec.located(source, Path(source).parent)
    return spec


def validation_error(
    exc: ValidationError, document: Any, *, source: str | None, text: str | None = None
) -> FlowValidationError:
    """The first pydantic error as a FlowValidationError with step id, field path and YAML line."""
    errors = exc.errors()
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(first["loc"])
    step_id = None
    field_path = loc
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = document.get("steps") if isinstance(document, dict) else None
        if isinstance(steps, list) and loc[1] < len(steps) and isinstance(steps[loc[1]], dict):
            step_id = steps[loc[1]].get("id")
        field_path = loc[2:] if step_id else loc
    field = ".".join(str(part) for part in field_path) or None
    message = _message(first)
    if first["type"] == "extra_forbidden":
        message += _key_hint(loc)
    line = line_of(text, loc) if text else None
    return FlowValidationError(
        message, file=source, step=str(step_id) if step_id else None, field=field, line=line
    )


def _key_hint(loc: tuple[Any, ...]) -> str:
    """Did-you-mean over the keys allowed where an unknown key was found."""
    from ..errors import did_you_mean
    from .models import ParameterSpec, StepSpec

    if len(loc) == 1:
        allowed = list(FlowSpec.model_fields)
    elif loc[0] == "steps" and len(loc) == 3:
        allowed = [f.alias or name for name, f in StepSpec.model_fields.items()]
    elif loc[0] == "parameters" and len(loc) == 3:
        allowed = list(ParameterSpec.model_fields)
    else:
        return ""
    return did_you_mean(str(loc[-1]), allowed) + f" Allowed keys: {', '.join(allowed)}"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling."
    if kind == "union_tag_invalid":
        return error["msg"]
    if kind == "missing":
        return "required key is missing"
    return error["msg"].removeprefix("Value error, ")


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    try:
        node = yaml.compose(text, Loader=FlowLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if child is None:
                break
            line = key.start_mark.line + 1 if key is not None else child.start_mark.line + 1
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def dump_flow(spec: FlowSpec, path: str | Path | None = None) -> str:
    """The flow as YAML (or JSON when `path` ends in .json); written to `path` if given."""
    document = spec.to_document()
    if path is not None and str(path).endswith(".json"):
        text = json.dumps(document, indent=2) + "\n"
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
