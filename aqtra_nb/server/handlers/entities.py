"""Records of declared entities: list with a filter expression (run as SQL, values bound), get, create,
update, delete. Writes are validated by the entity class and audited as the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tornado import web

from ..api import AqtraHandler, operation
from ..models import Deleted, RecordPage, RecordValues


def entity(name: str) -> Any:
    """A declared entity by name; a `module:Class` reference is not accepted from the web (it imports)."""
    from ...entities import registry

    if ":" in name:
        raise web.HTTPError(400, "name an entity, not a module reference")
    return registry.get(name)


def as_user(user: str | None, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `function` with `user` as the acting user of the entity layer (audit fields)."""
    from ...entities import acting_as

    if not user:
        return function(*args, **kwargs)
    with acting_as(user):
        return function(*args, **kwargs)


def record_id(raw: str) -> int:
    if not raw.isdigit():
        raise web.HTTPError(400, f"a record id is a whole number, got {raw!r}")
    return int(raw)


def page(name: str, filter: str | None, order_by: str | None, offset: int, limit: int) -> dict[str, Any]:
    cls = entity(name)
    order = [part.strip() for part in order_by.split(",")] if order_by else None
    found = cls.query(filter or None, order_by=order, limit=offset + limit)[offset:]
    total = cls.count(filter or None)
    records = [r.model_dump(mode="json") for r in found]
    return {"entity": name, "records": records, "total": total, "offset": offset, "limit": limit}


class RecordsHandler(AqtraHandler):
    @operation("Records of an entity matching `filter` (an expression, run as SQL), ordered, paginated.",
               response=RecordPage, query=("filter", "order_by", "offset", "limit"))  # fmt: skip
    async def get(self, name: str) -> None:
        self.reply(
            await self.blocking(
                page,
                name,
                self.get_query_argument("filter", None),
                self.get_query_argument("order_by", None),
                self.query_int("offset", 0, high=10**9),
                self.query_int("limit", 50, low=1, high=1000),
            )
        )

    @operation("Create a record (validated; duplicate keys and broken references are refused).",
               body=RecordValues, status=201)  # fmt: skip
    async def post(self, name: str) -> None:
        values = self.body(RecordValues).model_dump()
        created = await self.blocking(as_user, self.user_name, lambda: entity(name).create(**values))
        self.reply(created.model_dump(mode="json"), status=201)


class RecordHandler(AqtraHandler):
    @operation("One record by id.")
    async def get(self, name: str, id: str) -> None:
        found = await self.blocking(lambda: entity(name).get(record_id(id)))
        self.reply(found.model_dump(mode="json"))

    @operation("Change some fields of a record (the whole record is validated again).", body=RecordValues)
    async def put(self, name: str, id: str) -> None:
        changes = self.body(RecordValues).model_dump()
        key = record_id(id)
        updated = await self.blocking(as_user, self.user_name, lambda: entity(name).update(key, **changes))
        self.reply(updated.model_dump(mode="json"))

    @operation("Delete a record (refused while other records refer to it).", response=Deleted)
    async def delete(self, name: str, id: str) -> None:
        key = record_id(id)
        await self.blocking(as_user, self.user_name, lambda: entity(name).delete(key))
        self.reply({"deleted": f"{name}:{key}"})


ROUTES = [
    (r"entities/(?P<name>[^/]+)", RecordsHandler),
    (r"entities/(?P<name>[^/]+)/(?P<id>[^/]+)", RecordHandler),
]
