"""Where an HTTP step sends requests: its parameters (no credential in clear), the endpoint its tasks carry
(resolved in the process that sends), requests with retries, and what messages show of URLs and bodies."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pydantic import Field, model_validator

from ...connections import SENSITIVE_HEADER, ConnectionHandle, check_url_userinfo
from ...errors import AqtraError
from ...secrets import (
    REFERENCE,
    SecretStore,
    redact,
    resolve_references,
    resolve_url,
    reveal,
    reveal_basic_auth,
)
from ..base import Params, StepContext

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
class Resolved:
    url: str
    headers: dict[str, str]
    query: dict[str, Any]
    auth: tuple[str, str] | None
    verify: bool | str
    timeout: float


class Endpoint(ConnectionHandle):
    """A connection (or URL) plus the step's path, query and headers, with its requests' session."""

    _session: requests.Session | None = None

    def __init__(self, ctx: StepContext, params: HttpParams) -> None:
        super().__init__(ctx.base_dir, params.connection, step_id=ctx.step_id, source=ctx.source)
        self.url, self.path = params.url, params.path
        self.query, self.extra_headers = dict(params.query), dict(params.headers)
        self.retries, self.backoff, self.timeout = params.retries, params.backoff_seconds, params.timeout
        self.timeout_set = "timeout" in params.model_fields_set

    def resolve(self) -> Resolved:
        """Look the connection up and resolve every reference (errors name the step and field)."""
        return super().resolve()

    def _resolve(self) -> Resolved:
        connections = self.connections()
        headers: dict[str, str] = {}
        auth = None
        verify: bool | str = True
        timeout = self.timeout
        if self.connection:
            found = self.lookup("http")
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
        return Resolved(url, headers, query, auth, verify, timeout)

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
                    f"{method} {shown}: TLS failed ({reason(exc, timeout)}); for a private certificate "
                    "authority set the connection's option `verify` to its CA bundle"
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{method} {shown}: cannot reach the server ({reason(exc, timeout)})"
            except requests.RequestException as exc:
                raise self.error(f"{method} {shown}: {reason(exc, timeout)}") from None
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


def reason(exc: BaseException, timeout: float) -> str:
    """A short cause (`[Errno 111] Connection refused`, `timed out after 5 s`), never the request URL."""
    import requests

    if isinstance(exc, requests.Timeout):
        return f"timed out after {timeout:g} s"
    found = re.search(r"\[Errno -?\d+\][^'\")\]]*|\[SSL[^\]]*\][^'\")(]*", str(exc))
    return found.group(0).strip() if found else type(exc).__name__
