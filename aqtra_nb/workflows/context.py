"""What a workflow's expressions and templates see: the record's fields as columns, earlier steps' results
as `step.key` columns (backticked in expressions: `` `ask.option` == 'rush' ``), parameters as `@name`.

Expressions are parsed by `aqtra_nb.expr` and evaluated on a one-row frame, so they mean exactly what they
mean in a flow's `filter` (null compares as unknown, and an unknown condition is false). Never `eval`.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AqtraError, did_you_mean

if TYPE_CHECKING:
    from ..expr import Expression

TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)?)\}")


def entity_class(name: str, base_dir: Path | None) -> Any:
    """The entity named in a workflow; 'module:Class' may name a module beside the workflow file."""
    from ..entities import registry

    if ":" in name and base_dir is not None and str(base_dir) not in sys.path:
        module = name.split(":", 1)[0].split(".")[0]
        if (base_dir / f"{module}.py").exists() or (base_dir / module / "__init__.py").exists():
            sys.path.insert(0, str(base_dir))
    return registry.get(name)


WORKFLOW_NAMES = ("workflow.id", "workflow.name", "workflow.folder")


def workflow_names(workflow_id: str, name: str, folder: Path) -> dict[str, Any]:
    """What templates may say about the workflow itself; `workflow.folder` is its own folder under the
    home (`HOME/workflows/ID`), where its files go rather than into the folder of the workflow file."""
    return {"workflow.id": workflow_id, "workflow.name": name, "workflow.folder": str(folder)}


def with_workflow_names(params: Mapping[str, Any], names: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters whose text values use `${workflow.id}`/`${workflow.folder}` (a default such as
    `${workflow.folder}/orders`) with those filled in; other `${...}` are left as they are."""

    def fill(match: re.Match[str]) -> str:
        return str(names[match.group(1)]) if match.group(1) in names else match.group(0)

    return {k: TEMPLATE.sub(fill, v) if isinstance(v, str) else v for k, v in params.items()}


def flat_results(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{step: {key: value}} → {"step.key": value}."""
    return {f"{step}.{key}": value for step, values in results.items() for key, value in values.items()}


def names(record: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every column an expression may use: the record's fields, then the results."""
    return {**record, **flat_results(results)}


def evaluate(
    expression: Expression,
    record: Mapping[str, Any],
    results: Mapping[str, Mapping[str, Any]],
    params: Mapping[str, Any],
) -> Any:
    """The expression's value for this record: a Python scalar, None for null."""
    import pandas as pd  # here: `tasks list` and `workflows list` read the store and need no pandas

    columns = names(record, results)
    frame = pd.DataFrame({name: [value] for name, value in columns.items()})
    value = expression.evaluate(frame, params)
    if isinstance(value, pd.Series):
        value = value.iloc[0]
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def parse(text: str) -> Expression:
    from ..expr import parse_expression

    return parse_expression(text)


def render(template: str, values: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """`${name}` in text: a result (`${ask.by}`), a record field, or a parameter. References to secrets
    and environment variables (`${secret:X}`) are left for the notifier to resolve."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            value = values[name]
        elif name in params:
            value = params[name]
        else:
            known = [*values, *params]
            raise AqtraError(f"`${{{name}}}` is not a field, result or parameter.{did_you_mean(name, known)}")
        if value is None:
            return ""
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    return TEMPLATE.sub(replace, template)


def template_names(template: str) -> list[str]:
    return TEMPLATE.findall(template)


def substitute(value: Any, values: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    """`render` through lists and dicts; a whole-string `${name}` keeps the value's type."""
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value)
        if whole and (whole.group(1) in values or whole.group(1) in params):
            name = whole.group(1)
            return values[name] if name in values else params[name]
        return render(value, values, params)
    if isinstance(value, list):
        return [substitute(v, values, params) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, values, params) for k, v in value.items()}
    return value


def jsonable(value: Any) -> Any:
    """A value as it is kept in the store (JSON): dates as ISO text, numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
