"""The API's handlers, one module per area; each lists its routes (regex under `/aqtra/api/`)."""

from __future__ import annotations

from ..api import Route
from . import catalog, entities, flows, jobs, meta, runs, workflows

AREAS = (catalog, flows, runs, jobs, workflows, entities, meta)


def routes() -> list[Route]:
    """Every (pattern, handler) of the API, patterns relative to `/aqtra/api/`."""
    return [route for area in AREAS for route in area.ROUTES]
