"""The OpenAPI 3.1 document, generated from the registered handlers and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .api import Operation, Route
from .models import ErrorBody

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
METHODS = ("get", "post", "put", "delete")


def path_template(pattern: str) -> str:
    """`runs/(?P<run_id>[^/]+)/log` as `/aqtra/api/runs/{run_id}/log`."""
    return "/aqtra/api/" + _GROUP.sub(lambda m: "{" + m.group(1) + "}", pattern).replace("\\", "")


def operations(routes: list[Route]) -> list[tuple[str, str, Operation]]:
    """(path template, method, operation) of every handler method declared with `@operation`."""
    found = []
    for pattern, handler in routes:
        for method in METHODS:
            op = getattr(getattr(handler, method, None), "aqtra_operation", None)
            if op is not None:
                found.append((path_template(pattern), method, op))
    return found


def document(routes: list[Route], version: str) -> dict[str, Any]:
    ops = operations(routes)
    models: set[type[BaseModel]] = {ErrorBody}
    for _, _, op in ops:
        models.update(m for m in (op.body, op.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, definitions = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    refs = {model: keys[(model, "validation")] for model in ordered}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in ops:
        paths.setdefault(path, {})[method] = _operation(path, method, op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "aqtra-nb API", "version": version},
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <Jupyter server token>`",
                },
            },
        },
        "security": [{"token": []}],
        "paths": paths,
    }


def _operation(path: str, method: str, op: Operation, refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{method}_{path.removeprefix('/aqtra/api/').replace('/', '_').strip('{}')}",
        "x-aqtra-action": op.action,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)
        ]
        + [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in op.query
        ],
        "responses": {
            str(op.status): _content(op.content_type, refs[op.response] if op.response else None),
            "4XX": _content("application/json", refs[ErrorBody]),
        },
    }
    if op.body is not None:
        entry["requestBody"] = {"required": True, **_content("application/json", refs[op.body])}
    return entry


def _content(kind: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    return {"description": kind, "content": {kind: {"schema": schema or {}}}}


def main() -> None:
    """Print the document (`python -m aqtra_nb.server.openapi`): the front end's types are made from it."""
    import json

    from .. import __version__
    from .handlers import routes

    print(json.dumps(document(routes(), __version__), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
