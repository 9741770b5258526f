"""The base of every API handler: Jupyter's auth on every method, JSON in through pydantic, JSON out, and
errors mapped to HTTP codes in one place (`{"error", "step", "field", "line"}`).

A handler method is declared with `@operation(...)`, which applies `@web.authenticated` and
`@authorized` (resource `aqtra`) and records what the OpenAPI document says of it: summary, action,
request body model, response model, success code.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from pydantic import BaseModel, ValidationError
from tornado import web

from ..errors import AqtraError, NotFound

logger = logging.getLogger(__name__)

AUTH_RESOURCE = "aqtra"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says of one handler method."""

    summary: str
    action: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    content_type: str = "application/json"
    query: tuple[str, ...] = ()


def operation(
    summary: str,
    *,
    action: str | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    content_type: str = "application/json",
    query: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API method: authenticated, authorized for `action` (default: Jupyter's mapping of the
    HTTP method: GET read, POST/PUT/DELETE write), user mistakes as 4xx JSON."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def guarded(self: AqtraHandler, *args: Any, **kwargs: Any) -> None:
            try:
                result = method(self, *args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - every error becomes a JSON reply here
                self.reply_error(exc)

        secured = web.authenticated(authorized(action=action, resource=AUTH_RESOURCE)(guarded))
        verb = method.__name__.upper()
        secured.aqtra_operation = Operation(  # type: ignore[attr-defined]
            summary, action or _DEFAULT_ACTIONS[verb], body, response, status, content_type, query
        )
        return secured

    return wrap


_DEFAULT_ACTIONS = {"GET": "read", "HEAD": "read", "POST": "write", "PUT": "write", "DELETE": "write"}


def status_of(exc: BaseException) -> int:
    """The HTTP status for an exception: the one table of it."""
    if isinstance(exc, web.HTTPError):
        return exc.status_code
    if isinstance(exc, NotFound) or type(exc).__name__ in {"RecordNotFound", "UnknownEntity"}:
        return 404
    if type(exc).__name__ == "Conflict":
        return 409
    if isinstance(exc, (AqtraError, ValidationError, ValueError)):
        return 400
    return 500


def error_body(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, AqtraError):
        return {
            "error": exc.message,
            "file": exc.file,
            "step": exc.step,
            "field": exc.field,
            "line": getattr(exc, "line", None),
        }
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        return {
            "error": first["msg"].removeprefix("Value error, "),
            "step": None,
            "field": field,
            "line": None,
        }
    if isinstance(exc, web.HTTPError):
        return {"error": exc.log_message or exc.reason or "error", "step": None, "field": None, "line": None}
    if isinstance(exc, ValueError):
        return {"error": str(exc), "step": None, "field": None, "line": None}
    return {
        "error": "internal error; the server log has the details",
        "step": None,
        "field": None,
        "line": None,
    }


def json_default(value: Any) -> Any:
    """Times as ISO 8601; anything else JSON does not know as text."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


class AqtraHandler(APIHandler):
    """Thin handlers: parse, call a service, reply JSON."""

    auth_resource = AUTH_RESOURCE
    #: `/aqtra/api/runs/{run_id}`: set on each routed class by the extension (the metrics' route label)
    route_template: ClassVar[str]

    @property
    def services(self) -> Any:
        return self.settings["aqtra_nb_services"]

    # the override is APIHandler's own signature, which drops JupyterHandler's `_redirect_to_login`
    async def prepare(self) -> None:  # type: ignore[override]
        self._started = time.perf_counter()
        await super().prepare()

    def on_finish(self) -> None:
        metrics = self.settings["aqtra_nb_services"].metrics
        if metrics is not None:
            route = getattr(self, "route_template", type(self).__name__)
            metrics.observe_request(route, self.request.method or "", self.get_status(), self._elapsed())
        super().on_finish()

    def _elapsed(self) -> float:
        return time.perf_counter() - getattr(self, "_started", time.perf_counter())

    # -- input ------------------------------------------------------------------------------------------
    def body(self, model: type[M]) -> M:
        """The request body as `model`; a 400 naming the field when it does not fit."""
        limit = self.services.settings.max_request_bytes
        if len(self.request.body) > limit:
            raise web.HTTPError(
                413, f"the request body is larger than {limit} bytes (AqtraNb.max_request_bytes)"
            )
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise web.HTTPError(400, f"the request body is not JSON: {exc}") from None
        except RecursionError:
            raise web.HTTPError(400, "the request body is nested too deeply") from None
        return model.model_validate(data)

    def query_int(self, name: str, default: int, *, low: int = 0, high: int = 10_000) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(400, f"query parameter {name!r} must be a whole number") from None
        if not low <= value <= high:
            raise web.HTTPError(400, f"query parameter {name!r} must be between {low} and {high}")
        return value

    async def blocking(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run store and engine work off the Tornado thread."""
        return await self.services.placement.pool(functools.partial(function, *args, **kwargs))

    async def quick(self, key: Hashable, function: Callable[..., Any], *args: Any) -> Any:
        """Short store and engine work: inline on the loop while calls of `key` take under a
        millisecond and wait on nothing, else on the thread pool (see `placement.py`)."""
        return await self.services.placement.run(key, function, *args)

    async def cached(self, key: tuple[Hashable, ...], compute: Callable[[], Any]) -> None:
        """Reply with `compute()`'s JSON, kept in the read cache while the store is unchanged.

        SQLite: the token, then the kept reply or one computation for all who ask at once, each a
        `quick` call placed by the route (`key[0]`: a run's record is quick, a page of runs is not).
        A database server: token, lookup and computation in one pool call (the loop must never wait
        on a network, and each thread hop costs as much as a round trip); the pool's size bounds how
        many compute the same reply at once."""
        cache = self.services.read_cache

        def body() -> bytes:
            return json.dumps(compute(), default=json_default).encode()

        if cache.changes.cheap:
            token = await self.quick("change token", cache.changes.token)
            self.finish(await cache.fetch(key, token, lambda: self.quick(key[0], body)))
        else:
            self.finish(await self.blocking(cache.read_through, key, body))

    @property
    def user_name(self) -> str | None:
        user = self.current_user
        return getattr(user, "username", None) or (str(user) if user else None)

    # -- output -----------------------------------------------------------------------------------------
    def reply(self, payload: Any, status: int = 200) -> None:
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json")
        self.set_status(status)
        self.finish(json.dumps(payload, default=json_default))

    def reply_error(self, exc: BaseException) -> None:
        status = status_of(exc)
        if status >= 500:
            logger.exception("%s %s failed", self.request.method, self.request.path, exc_info=exc)
        else:
            logger.info("%s %s: %s", self.request.method, self.request.path, exc)
        if self._finished:
            return
        self.clear()
        self.set_status(status)
        self.finish(json.dumps(error_body(exc), default=json_default))


#: (pattern under `/aqtra/api/`, handler) of one API route
Route = tuple[str, type[AqtraHandler]]
