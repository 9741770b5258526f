"""An entity the server tests' Jupyter server declares at start (`--AqtraNb.entity_modules`)."""

from __future__ import annotations

from aqtra_nb.entities import Entity


class Ticket(Entity):
    title: str
    priority: int = 1
    status: str = "open"
