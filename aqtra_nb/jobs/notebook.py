"""Notebooks as jobs: typed parameters read from the cell tagged `parameters`, checked before a run, and
one execution through papermill that ends in a status (with the output notebook, its HTML and a log).

Parameter types come from the parameters cell itself: an annotation (`day: str = "2024-01-01"`) wins,
otherwise the type of the literal default (`n = 3` is an integer). Values are parsed with `ast`, never
executed. A parameter whose type cannot be told (`x = None`, `d = {}`, `t = date.today()`) is *untyped*:
any JSON value is passed through unchanged.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AqtraError, ParameterError, did_you_mean
from ..expr.python_ast import python_ast
from ..spec import ParameterSpec, convert_value
from ..spec.models import ParameterType
from ..spec.status import RunStatus
from .html import render_html

_ANNOTATIONS: dict[str, ParameterType] = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "list",
    "List": "list",
    "tuple": "list",
    "date": "date",
}


class NotebookParameter(ParameterSpec):
    """A parameter declared in a notebook's `parameters` cell. Its default is the cell's own value, so it
    is never required; `typed` is False when neither an annotation nor a literal default gives a type."""

    typed: bool = True

    @property
    def required(self) -> bool:
        return False


class NotebookError(AqtraError):
    """A notebook cannot be used as a job (missing, not a notebook, unreadable parameters cell)."""


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The notebook document as plain JSON data (no nbformat import: checks run in the scheduler)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotebookError(f"notebook not found: {path}", field="notebook") from None
    except (OSError, ValueError) as exc:
        raise NotebookError(f"not a readable notebook: {exc}", file=str(path), field="notebook") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError("not a Jupyter notebook (no `cells` list)", file=str(path), field="notebook")
    return document


def parameters_cell(document: dict[str, Any]) -> str | None:
    """The source of the first code cell tagged `parameters`, or None."""
    for cell in document["cells"]:
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code" and "parameters" in tags:
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else source
    return None


def notebook_parameters(path: str | Path) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged `parameters`, with their types and defaults."""
    source = parameters_cell(read_notebook(path))
    if source is None:
        return {}
    try:
        tree = python_ast(_without_magics(source))
    except SyntaxError as exc:
        raise NotebookError(
            f"the parameters cell is not valid Python (line {exc.lineno}): {exc.msg}",
            file=str(path),
            field="parameters",
        ) from None
    found: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = _parameter(node.annotation, node.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = _parameter(None, node.value)
    return found


def _without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _parameter(annotation: ast.expr | None, value: ast.expr | None) -> NotebookParameter:
    try:
        default = ast.literal_eval(value) if value is not None else None
        literal = True
    except (ValueError, SyntaxError, TypeError):
        default, literal = None, False
    kind = _annotated_type(annotation) if annotation is not None else None
    if kind is None and literal:
        kind = _literal_type(default)
    if isinstance(default, tuple):
        default = list(default)
    if kind is None:
        return NotebookParameter(type="string", default=default, typed=False)
    return NotebookParameter(type=kind, default=default)


def _annotated_type(annotation: ast.expr) -> ParameterType | None:
    # `int`, `typing.List[str]`, `str | None`, `Optional[int]`: the first named type that we know.
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = python_ast(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    for node in ast.walk(annotation):
        name = (
            node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        )
        if name in _ANNOTATIONS:
            return _ANNOTATIONS[name]
    return None


def _literal_type(value: Any) -> ParameterType | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    return None


def check_parameters(path: str | Path, params: dict[str, Any] | None) -> dict[str, Any]:
    """`params` converted to the types the notebook declares, as JSON-ready values (dates as ISO text).

    Unknown names and values of the wrong type are errors naming the parameter and the notebook; names not
    given keep the notebook's own defaults (they are not injected)."""
    params = dict(params or {})
    if not params:
        return {}
    declared = notebook_parameters(path)
    values: dict[str, Any] = {}
    for name, value in params.items():
        spec = declared.get(name)
        if spec is None:
            known = ", ".join(declared) or "none (no cell tagged `parameters`)"
            raise ParameterError(
                f"unknown parameter {name!r}.{did_you_mean(name, declared)} The notebook's parameters are: "
                f"{known}",
                file=str(path),
                field=name,
            )
        if not spec.typed:
            values[name] = value
            continue
        try:
            converted = convert_value(name, spec, value)
        except ParameterError as exc:
            raise exc.at(file=str(path)) from None
        values[name] = converted.isoformat() if isinstance(converted, dt.date) else converted
    return values


# -- execution -------------------------------------------------------------------------------------------


@dataclass
class NotebookOutcome:
    """How one notebook execution ended, and where its output notebook, HTML and log are."""

    status: RunStatus
    seconds: float
    output_path: Path
    html_path: Path | None = None
    log_path: Path | None = None
    error: str | None = None
    failed_cell: int | None = None
    artifacts: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.succeeded


def execute_notebook(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    output_path: str | Path,
    kernel: str | None = None,
    timeout: float | None = None,
    log_path: str | Path | None = None,
    html: bool = True,
    cwd: str | Path | None = None,
) -> NotebookOutcome:
    """Run a notebook with papermill in this process; never raises for what happens inside the notebook.

    `parameters` are checked first (`check_parameters`). `timeout` bounds the whole run: at the limit the
    kernel is killed and the run is `timed_out`. A cell that raises ends the run `failed`, and the output
    notebook keeps the failing cell marked (papermill's banner, and `metadata.papermill.exception`). The
    cells' stdout and stderr go to `log_path`; the output notebook is also rendered to HTML beside it."""
    from .child import run_papermill

    path, output_path = Path(path), Path(output_path)
    values = check_parameters(path, parameters)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    log = Path(log_path) if log_path is not None else output_path.with_suffix(".log")
    with open(log, "a", encoding="utf-8") as stream:
        result = run_papermill(
            str(path),
            str(output_path),
            values,
            kernel=kernel,
            timeout=timeout,
            stream=stream,
            cwd=str(cwd or path.parent),
        )
    outcome = NotebookOutcome(
        RunStatus(result["status"]),
        result["seconds"],
        output_path,
        log_path=log,
        error=result["error"],
        failed_cell=result["failed_cell"],
    )
    outcome.artifacts = {"notebook": output_path, "log": log}
    if html and output_path.exists():
        outcome.html_path = render_html(output_path)
        if outcome.html_path is not None:
            outcome.artifacts["html"] = outcome.html_path
    return outcome
