"""HTTP connectors: `http_get` reads JSON records from an API (pages, retries) and `http_post` sends rows.

Both reach the server through a named `http` connection (base URL, headers, auth: credentials only as
`${secret:NAME}` / `${env:NAME}` references) or a plain `url`. References are resolved in the process
that sends the requests, so Dask task graphs carry names, never credentials. Every message, log line
and response excerpt is scrubbed of the secret values resolved in this process (`secrets.redact`).

The client is `requests` (synchronous, which is what a Dask task wants; retries are our own, with
exponential backoff that honours `Retry-After`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import dask.dataframe as dd
import pandas as pd
from pydantic import Field, model_validator

from ..errors import AqtraError
from ..secrets import REFERENCE, redact, reveal, reveal_basic_auth
from .base import Frame, InputComponent, OutputComponent, Params, StepContext
from .inputs import PANDAS_TYPES, ColumnType, to_datetime
from .outputs import _write_single

if TYPE_CHECKING:  # imported when first used: `requests` takes a while to import
    import requests

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 425, 429})  # and every 5xx
MAX_WAIT_SECONDS = 60.0
BODY_EXCERPT = 300
# Query parameters that carry credentials: their values must be references, and are masked in messages.
SENSITIVE_QUERY = re.compile(
    r"^(api[-_]?key|apikey|key|token|access[-_]?token|auth|secret|client[-_]?secret|password|sig|signature)$",
    re.IGNORECASE,
)


class HttpParams(Params):
    connection: str | None = Field(
        None, description="Name of an http connection (base_url, headers, auth) in aqtra.yaml or the store."
    )
    url: str | None = Field(
        None,
        description="A full http(s) URL instead of a connection (no credentials in it, except references).",
    )
    path: str = Field("", description="Appended to the connection's base_url (or to `url`).")
    query: dict[str, Any] = Field(
        default_factory=dict,
        description="Query parameters; values may use `${param}`, and credentials `${secret:NAME}`/`${env:NAME}`.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers (over the connection's); credentials as references."
    )
    retries: int = Field(3, ge=0, le=20, description="Retries after a 429, 5xx, timeout or connection error.")
    backoff_seconds: float = Field(
        0.5, ge=0, description="Wait before the first retry, doubled for each next one (Retry-After wins)."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for the server to connect and to answer.")

    @model_validator(mode="after")
    def _where_and_no_clear_credentials(self) -> HttpParams:
        from ..connections import SENSITIVE_HEADER, check_url_userinfo

        if (self.connection is None) == (self.url is None):
            raise ValueError("give either `connection` (a named http connection) or `url`")
        if self.url is not None and not REFERENCE.fullmatch(self.url.strip()):
            parts = urlsplit(REFERENCE.sub("x", self.url))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("`url` must be an http:// or https:// URL with a host")
            check_url_userinfo(self.url)
        for name, value in self.headers.items():
            if SENSITIVE_HEADER.search(name) and not REFERENCE.search(value):
                raise ValueError(f"header {name!r} holds a credential in clear; write it as ${{secret:NAME}}")
        for name, value in self.query.items():
            if isinstance(value, str) and SENSITIVE_QUERY.match(name) and not REFERENCE.search(value):
                raise ValueError(
                    f"query parameter {name!r} holds a credential in clear; write ${{secret:NAME}}"
                )
        return self


# -- the endpoint: where to send, with what credentials, with retries ----------------------------------


@dataclass
class _Resolved:
    url: str
    headers: dict[str, str]
    query: dict[str, Any]
    auth: tuple[str, str] | None
    verify: bool | str
    timeout: float


class _Endpoint:
    """A connection (or URL) plus the step's path, query and headers. Resolved on first use in the process
    that sends requests; pickles without the resolved values (for dask.distributed workers)."""

    def __init__(self, ctx: StepContext, params: HttpParams) -> None:
        self.step_id, self.source, self.base_dir = ctx.step_id, ctx.source, str(ctx.base_dir)
        self.connection, self.url, self.path = params.connection, params.url, params.path
        self.query, self.extra_headers = dict(params.query), dict(params.headers)
        self.retries, self.backoff, self.timeout = params.retries, params.backoff_seconds, params.timeout
        self.timeout_set = "timeout" in params.model_fields_set
        self._resolved: _Resolved | None = None
        self._session: requests.Session | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_resolved": None, "_session": None}

    def __dask_tokenize__(self) -> tuple[str, ...]:
        return ("aqtra-http", self.base_dir, self.step_id, self.connection or "", self.url or "", self.path)

    @property
    def field(self) -> str:
        return "connection" if self.connection else "url"

    def error(self, message: str, field: str | None = None) -> AqtraError:
        return AqtraError(redact(message), file=self.source, step=self.step_id, field=field or self.field)

    def resolve(self) -> _Resolved:
        """Look the connection up and resolve every reference (errors name the step and field)."""
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    def _resolve(self) -> _Resolved:
        from ..connections import Connections, resolve_url
        from ..secrets import SecretStore, resolve_references

        connections = Connections(Path(self.base_dir))
        headers: dict[str, str] = {}
        auth = None
        verify: bool | str = True
        timeout = self.timeout
        if self.connection:
            try:
                found = connections.get(self.connection)
            except AqtraError as exc:
                raise exc.at(file=self.source, step=self.step_id, field="connection") from None
            if found.spec.kind != "http":
                raise self.error(
                    f"connection {self.connection!r} is a {found.spec.kind} connection; this step needs an "
                    "http connection (kind: http, base_url: ...)"
                )
            base = found.resolved["base_url"]
            headers.update(found.resolved["headers"])
            given = found.resolved["auth"]
            if given.get("token"):
                headers["Authorization"] = f"Bearer {given['token']}"
            elif given.get("username") is not None and given.get("password") is not None:
                auth = (given["username"], given["password"])
                reveal_basic_auth(*auth)
            options = dict(found.resolved["options"])
            verify = options.pop("verify", True)
            if "timeout" in options and not self.timeout_set:
                try:
                    timeout = float(options["timeout"])
                except (TypeError, ValueError):
                    raise self.error(
                        f"connection {self.connection!r}: option timeout is not a number"
                    ) from None
            options.pop("timeout", None)
            if options:
                raise self.error(
                    f"connection {self.connection!r}: unknown option(s) for an http connection: "
                    f"{', '.join(sorted(options))} (known: verify, timeout)"
                )
        needs_store = "${secret:" in repr([self.url, self.extra_headers, self.query])
        secrets = SecretStore(connections.store) if needs_store else None

        def resolved(value: Any, field: str, *, credential: bool = False) -> Any:
            if not isinstance(value, str):
                return value
            try:
                if field == "url":
                    return resolve_url(value, secrets)
                return resolve_references(value, secrets, credential=credential)
            except AqtraError as exc:
                raise exc.at(file=self.source, step=self.step_id, field=field) from None

        if self.url:
            base = resolved(self.url, "url")
        headers.update(
            {k: resolved(v, f"headers.{k}", credential=True) for k, v in self.extra_headers.items()}
        )
        query = {
            k: resolved(v, f"query.{k}", credential=bool(SENSITIVE_QUERY.match(k)))
            for k, v in self.query.items()
        }
        url = base.rstrip("/") + "/" + self.path.lstrip("/") if self.path else base
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(
                f"not an http(s) URL: {display_url(url)}", field="url" if self.url else "connection"
            )
        if parts.password:  # requests sends it as basic auth: that header is secret too
            reveal(unquote(parts.password))
            reveal_basic_auth(unquote(parts.username or ""), unquote(parts.password))
        return _Resolved(url, headers, query, auth, verify, timeout)

    def session(self) -> requests.Session:
        if self._session is None:
            import requests

            resolved = self.resolve()
            session = requests.Session()
            session.headers.update({"Accept": "application/json", **resolved.headers})
            session.auth = resolved.auth
            session.verify = resolved.verify
            self._session = session
        return self._session

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One request, retried on 429/5xx, timeouts and connection errors with exponential backoff."""
        import requests

        session, timeout = self.session(), self.resolve().timeout
        shown = display_url(url, params)
        attempts = self.retries + 1
        problem = ""
        for attempt in range(attempts):
            wait = self.backoff * 2**attempt
            try:
                response = session.request(
                    method, url, params=params, data=data, headers=headers, timeout=timeout
                )
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
                raise self.error(f"not a valid URL: {shown} ({type(exc).__name__})") from None
            except requests.exceptions.SSLError as exc:  # retrying does not help
                raise self.error(
                    f"{method} {shown}: TLS failed ({_reason(exc, timeout)}); for a private certificate "
                    "authority set the connection's option `verify` to its CA bundle"
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{method} {shown}: cannot reach the server ({_reason(exc, timeout)})"
            except requests.RequestException as exc:
                raise self.error(f"{method} {shown}: {_reason(exc, timeout)}") from None
            else:
                logger.debug("%s %s: HTTP %s", method, display_url(response.url), response.status_code)
                if response.status_code < 400:
                    return response
                problem = (
                    f"{method} {shown} answered HTTP {response.status_code} {response.reason or ''}".rstrip()
                    + f": {excerpt(response)}"
                )
                if response.status_code < 500 and response.status_code not in RETRY_STATUS:
                    raise self.error(problem)
                wait = retry_after(response, wait)
            if attempt + 1 < attempts:
                logger.info("%s; retry %d of %d in %.2f s", redact(problem), attempt + 1, self.retries, wait)
                time.sleep(min(wait, MAX_WAIT_SECONDS))
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        raise self.error(problem + suffix)


def display_url(url: str, params: dict[str, Any] | None = None) -> str:
    """A URL for messages and logs: no password, credential-like query values masked, secrets redacted."""
    try:
        if params:
            import requests

            url = requests.Request("GET", url, params=params).prepare().url or url
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}:***@{host}" if ":" in userinfo else netloc
        query = urlencode(
            [(k, "***" if SENSITIVE_QUERY.match(k) else v) for k, v in parse_qsl(parts.query, True)], safe="*"
        )
        url = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        url = "<unparseable URL>"
    return redact(url)


def excerpt(response: requests.Response, limit: int = BODY_EXCERPT) -> str:
    """The first part of a response body, on one line, with secrets redacted."""
    try:
        text = response.text
    except Exception:  # undecodable bytes
        text = repr(response.content[:limit])
    text = " ".join(redact(text).split())  # redacted first: cutting or joining could split a secret
    return (text[:limit] + ("..." if len(text) > limit else "")) or "(empty body)"


def retry_after(response: requests.Response, default: float) -> float:
    """Seconds from a Retry-After header (seconds or an HTTP date), or `default`."""
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return default


def _reason(exc: BaseException, timeout: float) -> str:
    """A short cause (`[Errno 111] Connection refused`, `timed out after 5 s`), never the request URL."""
    import requests

    if isinstance(exc, requests.Timeout):
        return f"timed out after {timeout:g} s"
    found = re.search(r"\[Errno -?\d+\][^'\")\]]*|\[SSL[^\]]*\][^'\")(]*", str(exc))
    return found.group(0).strip() if found else type(exc).__name__


# -- JSON to frames ---------------------------------------------------------------------------------------

Kind = Literal["string", "integer", "number", "boolean", "date", "datetime", "object"]


def _path_parts(path: str) -> list[str]:
    """A JSON pointer (`/data/items`) or a dotted path (`data.items`) as its parts."""
    if path.startswith("/"):
        return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    return path.split(".")


def lookup(body: Any, path: str | None) -> tuple[bool, Any]:
    """(found, value) at `path` in a JSON document."""
    node = body
    for part in _path_parts(path) if path else []:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return False, node
    return True, node


def records_of(body: Any, path: str | None) -> list[Any]:
    """The list of records in a response body (ValueError with a hint when it is not there). A `path` to
    one object gives that one record."""
    found, node = lookup(body, path)
    if not found:
        keys = ", ".join(map(str, node)) if isinstance(node, dict) else type(node).__name__
        raise ValueError(f"no {path!r} in the response (there: {keys})")
    if node is None:
        return []
    if isinstance(node, list):
        return node
    if isinstance(node, dict) and not path:
        lists = [k for k, v in node.items() if isinstance(v, list)]
        hint = f" (keys holding lists: {', '.join(lists)})" if lists else f" (keys: {', '.join(node)})"
        raise ValueError(
            f"the response is a JSON object, not a list of records: set `records` to the list's path{hint}"
        )
    return [node]


def to_frame(records: list[Any]) -> pd.DataFrame:
    """Records (objects, or plain values as a `value` column) as a flat frame (`a.b` for nested keys)."""
    rows = [r if isinstance(r, dict) else {"value": r} for r in records]
    frame = pd.json_normalize(rows) if rows else pd.DataFrame()
    frame.columns = [str(c) for c in frame.columns]
    return frame


def infer_kinds(frame: pd.DataFrame) -> dict[str, Kind]:
    """Column kinds from a sample page: integers are nullable, text is `str`, the rest objects."""
    kinds: dict[str, Kind] = {}
    for name in frame.columns:
        values = frame[name]
        present = values.dropna()
        if pd.api.types.is_bool_dtype(values.dtype):
            kinds[name] = "boolean"
        elif pd.api.types.is_integer_dtype(values.dtype):
            kinds[name] = "integer"
        elif pd.api.types.is_float_dtype(values.dtype):
            kinds[name] = "number"
        elif len(present) and all(isinstance(v, bool) for v in present):
            kinds[name] = "boolean"
        elif pd.api.types.is_string_dtype(values.dtype) and all(isinstance(v, str) for v in present):
            kinds[name] = "string"
        else:
            kinds[name] = "object"
    return kinds


def dtype_of(kind: str) -> str:
    return "Int64" if kind == "integer" else PANDAS_TYPES.get(kind, "object")


def empty_frame(kinds: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype_of(kind)) for name, kind in kinds.items()})


def cast(values: pd.Series, kind: str) -> pd.Series:
    if kind == "integer":
        return pd.to_numeric(values.astype(object)).astype("Int64")
    if kind == "number":
        return pd.to_numeric(values.astype(object)).astype("float64")
    if kind == "boolean":
        return values.astype("boolean")
    if kind == "string":
        return values.astype("str")
    if kind in ("date", "datetime"):
        stamps = pd.to_datetime(values.astype(object), format="ISO8601", utc=True)
        return to_datetime(stamps.dt.tz_convert("UTC").dt.tz_localize(None), kind)
    return values.astype(object)


def conform(frame: pd.DataFrame, kinds: dict[str, str], *, declared: bool) -> pd.DataFrame:
    """The frame with exactly the planned columns and types: missing ones null, others dropped (with a
    warning when the columns were inferred from the first page: later pages brought new ones)."""
    extra = [c for c in frame.columns if c not in kinds]
    if extra and not declared:
        logger.warning(
            "columns not on the first page are dropped (declare `columns` to keep them): %s",
            ", ".join(extra[:20]),
        )
    columns = {}
    for name, kind in kinds.items():
        values = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        try:
            columns[name] = cast(values.reset_index(drop=True), kind)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(
                f"column {name!r} is {kind} in the planned schema but holds {_first_bad(values, kind)}: "
                f"{exc}. Declare its type in `columns` (e.g. number or string)"
            ) from None
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _first_bad(values: pd.Series, kind: str) -> str:
    for value in values.dropna():
        try:
            cast(pd.Series([value], dtype=object), kind)
        except (TypeError, ValueError, OverflowError):
            return repr(value)[:80]
    return "a value that does not fit"


# -- http_get ---------------------------------------------------------------------------------------------


class LinkPaging(Params):
    kind: Literal["link"] = Field(description="Follow the next page's URL.")
    next: str | None = Field(
        None, description="Path of the next URL in the body (`links.next`); default: the Link header."
    )


class PagePaging(Params):
    kind: Literal["page"] = Field(description="Count pages up until an empty page.")
    param: str = Field("page", description="The page number's query parameter.")
    start: int = Field(1, description="The first page's number.")
    size_param: str | None = Field(None, description="The page size's query parameter, if any.")
    size: int | None = Field(None, ge=1, description="Page size to ask for; a shorter page is the last.")


class CursorPaging(Params):
    kind: Literal["cursor"] = Field(description="Send the cursor each page gives for the next one.")
    cursor: str = Field(description="Path of the next cursor in the body (`meta.next_cursor`).")
    param: str = Field("cursor", description="The query parameter that carries the cursor.")


Paging = LinkPaging | PagePaging | CursorPaging


class HttpGetParams(HttpParams):
    records: str | None = Field(
        None,
        description="Where the list of records is in the response: JSON pointer (`/data/items`) or dotted "
        "path (`data.items`); default: the body itself.",
    )
    paginate: Paging | None = Field(
        None,
        discriminator="kind",
        description="Pagination: {kind: link, next}, {kind: page, param, start, size_param, size} or "
        "{kind: cursor, cursor, param}.",
    )
    max_pages: int = Field(1000, ge=1, description="Stop after this many pages (a warning says so).")
    columns: dict[str, ColumnType] | None = Field(
        None,
        description="Declared columns and types (nested keys as `a.b`); default: inferred from the first "
        "page, fetched while planning.",
    )


@dataclass
class _Page:
    url: str  # as requested (with its query), for relative next links
    body: Any
    next_link: str | None  # from the Link header


class _Fetch:
    """Fetches every page and returns one frame conformed to the planned schema (one Dask task)."""

    def __init__(
        self,
        endpoint: _Endpoint,
        params: HttpGetParams,
        kinds: dict[str, str],
        columns: list[str] | None,
        first: _Page | None,
    ) -> None:
        self.endpoint, self.params, self.kinds = endpoint, params, kinds
        self.columns, self.first = columns, first

    def __call__(self, _partition: Any = None) -> pd.DataFrame:
        first, self.first = self.first, None  # the page fetched while planning is used once
        frames = []
        for records in pages(self.endpoint, self.params, first):
            frames.append(to_frame(records))
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        try:
            frame = conform(frame, self.kinds, declared=bool(self.params.columns))
        except ValueError as exc:
            raise self.endpoint.error(str(exc), field="columns") from None
        return frame[self.columns] if self.columns else frame


def fetch_page(endpoint: _Endpoint, url: str, params: dict[str, Any] | None) -> _Page:
    response = endpoint.request("GET", url, params=params)
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise endpoint.error(
            f"GET {display_url(response.url)} did not answer JSON ({kind}): {excerpt(response)}"
        ) from None
    link = response.links.get("next", {}).get("url")
    return _Page(response.url, body, link)


def first_request(endpoint: _Endpoint, p: HttpGetParams) -> tuple[str, dict[str, Any]]:
    """The first page's URL and query parameters."""
    start = endpoint.resolve()
    query = dict(start.query)
    if isinstance(p.paginate, PagePaging):
        query[p.paginate.param] = p.paginate.start
        if p.paginate.size_param and p.paginate.size:
            query[p.paginate.size_param] = p.paginate.size
    return start.url, query


def pages(endpoint: _Endpoint, p: HttpGetParams, first: _Page | None = None) -> Iterator[list[Any]]:
    """The records of each page, following `p.paginate`, at most `p.max_pages` pages."""
    url, query = first_request(endpoint, p)
    base_query, paging = dict(endpoint.resolve().query), p.paginate
    origin = urlsplit(url)[:2]
    seen: set[str] = set()  # next links and cursors already followed: a server repeating one loops
    for number in range(p.max_pages):
        page = first if (number == 0 and first is not None) else fetch_page(endpoint, url, query)
        try:
            records = records_of(page.body, p.records)
        except ValueError as exc:
            raise endpoint.error(
                f"page {number + 1} of {display_url(page.url)}: {exc}", field="records"
            ) from None
        if records or number == 0:
            yield records
        if paging is None or not records:
            return
        if isinstance(paging, PagePaging):
            if paging.size and len(records) < paging.size:
                return
            query[paging.param] = paging.start + number + 1
        elif isinstance(paging, CursorPaging):
            found, cursor = lookup(page.body, paging.cursor)
            if not found or cursor in (None, ""):
                return
            _check_new(endpoint, seen, f"cursor {cursor!r}")
            query[paging.param] = cursor
        else:
            if paging.next:
                found, link = lookup(page.body, paging.next)
                link = link if found else None
            else:
                link = page.next_link
            if not link:
                return
            url = urljoin(page.url, str(link))
            # The step's own query parameters go along unless the link sets them itself.
            given = {k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
            query = {k: v for k, v in base_query.items() if k not in given}
            _check_new(endpoint, seen, f"link {display_url(url)}")
            if urlsplit(url)[:2] != origin:
                raise endpoint.error(
                    f"the next page's link {display_url(url)} leaves {origin[0]}://{origin[1]}; it is not "
                    "followed (the connection's credentials are for that server only)",
                    field="paginate",
                )
    logger.warning(
        "step %r: stopped after max_pages=%d pages; there may be more", endpoint.step_id, p.max_pages
    )


def _check_new(endpoint: _Endpoint, seen: set[str], what: str) -> None:
    if what in seen:
        raise endpoint.error(f"the server sent the next-page {what} twice; stopping", field="paginate")
    seen.add(what)


class HttpGet(InputComponent):
    """Read JSON records from an HTTP API (pages, retries) into a frame."""

    name = "http_get"
    Params: ClassVar = HttpGetParams
    _first: _Page | None = None  # the first page, fetched while planning (no `columns`), used by the run

    @functools.cached_property
    def endpoint(self) -> _Endpoint:
        return _Endpoint(self.ctx, self.params)

    @functools.cached_property
    def kinds(self) -> dict[str, str]:
        p: HttpGetParams = self.params
        self.endpoint.resolve()  # unknown connection, missing secret: errors while planning
        if p.columns:
            return dict(p.columns)
        self._first = fetch_page(self.endpoint, *first_request(self.endpoint, p))
        try:
            records = records_of(self._first.body, p.records)
        except ValueError as exc:
            raise self.endpoint.error(str(exc), field="records") from None
        if not records:
            raise self.endpoint.error(
                "the first page has no records, so the columns are unknown: declare them in `columns`",
                field="columns",
            )
        return infer_kinds(to_frame(records))

    def read_schema(self) -> pd.DataFrame:
        return empty_frame(self.kinds)

    def _fetch(self, columns: list[str] | None) -> _Fetch:
        first, self._first = self._first, None
        return _Fetch(self.endpoint, self.params, self.kinds, columns, first)

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        meta = empty_frame(self.kinds)
        meta = meta[columns] if columns else meta
        fetch = self.ctx.guard(self._fetch(columns))
        return dd.from_map(fetch, [0], meta=meta, enforce_metadata=False, label="http-get")

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        return self.ctx.guard(self._fetch(columns))(0)


# -- http_post ------------------------------------------------------------------------------------------


class HttpPostParams(HttpParams):
    batch_rows: int = Field(500, ge=1, description="Rows per request.")
    method: Literal["POST", "PUT", "PATCH"] = Field("POST", description="HTTP method.")
    envelope: str | None = Field(
        None, description="Send each batch as {envelope: [rows]} instead of a bare JSON array."
    )


class _Send:
    """Sends all rows (gathered into one task), batch by batch; returns the rows sent."""

    def __init__(self, endpoint: _Endpoint, params: HttpPostParams) -> None:
        self.endpoint, self.params = endpoint, params

    def __call__(self, frame: pd.DataFrame) -> int:
        p, endpoint = self.params, self.endpoint
        target = endpoint.resolve()
        run = uuid.uuid4().hex[:16]
        sent = 0
        for number, begin in enumerate(range(0, len(frame), p.batch_rows)):
            batch = frame.iloc[begin : begin + p.batch_rows]
            body = batch.to_json(orient="records", date_format="iso", force_ascii=False, default_handler=str)
            if p.envelope:
                body = "{" + json.dumps(p.envelope) + ":" + body + "}"
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"{run}-{number}"}
            try:
                endpoint.request(
                    p.method, target.url, params=target.query, data=body.encode(), headers=headers
                )
            except AqtraError as exc:
                raise endpoint.error(
                    f"{exc.message} (batch {number + 1}; {sent} of {len(frame)} rows were sent before it)",
                    field=exc.field,
                ) from None
            sent += len(batch)
        return sent


class HttpPost(OutputComponent):
    """Send the input's rows as JSON objects to an HTTP API, in batches, with retries."""

    name = "http_post"
    Params: ClassVar = HttpPostParams

    @functools.cached_property
    def endpoint(self) -> _Endpoint:
        return _Endpoint(self.ctx, self.params)

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        self.endpoint.resolve()  # unknown connection, missing secret: errors while planning
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        return _write_single(frame, self.ctx.guard(_Send(self.endpoint, self.params)))


HTTP = [HttpGet, HttpPost]
