"""Read `*.workflow.yaml` files into a checked WorkflowSpec; errors name the file, step, field and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ..errors import FlowValidationError, did_you_mean
from ..spec.io import line_of, parse_yaml, read_spec_file
from .spec import STEP_KINDS, WorkflowSpec


class WorkflowValidationError(FlowValidationError):
    """A workflow file is not valid: unknown step kinds or keys, references, branches without `finish`."""


def load_workflow(path: str | Path, *, check: bool = True) -> WorkflowSpec:
    """Parse, validate and (with `check`) prove every path ends in `finish` and every reference resolves."""
    path = Path(path)
    text = read_spec_file(path, "workflow", WorkflowValidationError)
    return parse_workflow(text, source=str(path), base_dir=path.parent, check=check)


def parse_workflow(
    text: str, *, source: str | None = None, base_dir: Path | None = None, check: bool = True
) -> WorkflowSpec:
    document = parse_yaml(text, source=source, error=WorkflowValidationError)
    return workflow_from_document(document, source=source, base_dir=base_dir, text=text, check=check)


def workflow_from_document(
    document: Any,
    *,
    source: str | None = None,
    base_dir: Path | None = None,
    text: str | None = None,
    check: bool = True,
) -> WorkflowSpec:
    if not isinstance(document, dict):
        raise WorkflowValidationError(
            "a workflow file must be a mapping with keys `workflow`, `steps` (and `entity`, `parameters`)",
            file=source,
        )
    try:
        spec = WorkflowSpec.model_validate(document)
    except ValidationError as exc:
        raise _located(exc, document, source, text) from None
    spec.located(source, base_dir if base_dir is not None else (Path(source).parent if source else None))
    if check:
        from .check import check_workflow

        check_workflow(spec, text=text)
    return spec


def _located(exc: ValidationError, document: dict[str, Any], source: str | None, text: str | None):
    first = min(exc.errors(), key=_rank)
    loc = tuple(first["loc"])
    step_id, field_path, yaml_loc = None, loc, loc
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        raw = document["steps"][loc[1]] if isinstance(document.get("steps"), list) else None
        if isinstance(raw, dict):
            step_id = raw.get("id")
            # pydantic puts the union tag (the step kind) into the location; the file has no such level
            rest = loc[3:] if len(loc) > 2 and loc[2] == raw.get("kind") else loc[2:]
            field_path = rest if step_id else loc
            yaml_loc = loc[:2] + rest
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        yaml_loc = loc[:2] + ("kind",)
    message = _message(first, loc, document)
    line = line_of(text, yaml_loc) if text else None
    field = ".".join(str(p) for p in field_path) or None
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        field = "kind"
    return WorkflowValidationError(
        message, file=source, step=str(step_id) if step_id else None, field=field, line=line
    )


def _rank(error: Any) -> tuple[int, int]:
    """The error to report: the earliest step's; within it a wrong kind, then a misspelt key (a misspelt
    key also causes the "missing" error of the key it was meant to be)."""
    loc = error["loc"]
    step = loc[1] if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) else -1
    order = {"union_tag_invalid": 0, "union_tag_not_found": 0, "extra_forbidden": 1}
    return step, order.get(error["type"], 2)


def _message(error: ErrorDetails, loc: tuple[Any, ...], document: dict[str, Any]) -> str:
    kinds = list(STEP_KINDS)
    match error["type"]:
        case "extra_forbidden":
            return "unknown key; remove it or check its spelling." + _key_hint(loc, document)
        case "union_tag_invalid":
            given = (
                str(error.get("input", {}).get("kind", "")) if isinstance(error.get("input"), dict) else ""
            )
            return f"unknown step kind {given!r}.{did_you_mean(given, kinds)} Step kinds: {', '.join(kinds)}"
        case "union_tag_not_found":
            return f"each step needs `kind`, one of: {', '.join(kinds)}"
        case "missing":
            return "required key is missing"
    return error["msg"].removeprefix("Value error, ")


def _key_hint(loc: tuple[Any, ...], document: dict[str, Any]) -> str:
    from ..spec.models import ParameterSpec

    if len(loc) == 1:
        allowed = [f.alias or n for n, f in WorkflowSpec.model_fields.items()]
    elif loc[0] == "steps" and len(loc) == 4 and loc[2] in STEP_KINDS:
        allowed = [f.alias or n for n, f in STEP_KINDS[loc[2]].model_fields.items()]
    elif loc[0] == "parameters" and len(loc) == 3:
        allowed = list(ParameterSpec.model_fields)
    else:
        return ""
    return did_you_mean(str(loc[-1]), allowed) + f" Allowed keys: {', '.join(allowed)}"
