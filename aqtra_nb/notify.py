"""Notifications: email over SMTP and a webhook POST with JSON, for jobs and workflows.

The SMTP server is a URL, `smtp://user:${secret:PW}@host:587?starttls=true&from=bot@example.com`
(`smtps://` for TLS from the start), taken from the named connection `Notify.smtp` (kind `smtp` in
`aqtra.yaml` or the store) or else from the `smtp_url` setting (`$AQTRA_SMTP_URL`). Credentials are
references (`${secret:NAME}`, `${env:NAME}`), resolved only when a message is sent, and scrubbed from
every error (`secrets.redact`). With none of those configured, email is kept in the outbox
(`HOME/outbox`, one `.eml` file per message, `aqtra-nb outbox`): development needs no mail server.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from .errors import AqtraError
from .outbox import Outbox
from .secrets import REFERENCE, redact, reveal, reveal_basic_auth
from .spec.models import SpecModel

logger = logging.getLogger(__name__)

SMTP_URL_ENV = "AQTRA_SMTP_URL"
DEFAULT_TIMEOUT = 10.0


class NotifyError(AqtraError):
    """A notification could not be sent, or its settings are wrong. The message names the target."""


Outcome = Literal["failure", "success"]


def _on_failure() -> list[Outcome]:
    return ["failure"]


class Notify(SpecModel):
    """Where to send a notification and when (`on`: the outcomes that trigger it)."""

    email: list[str] = Field(default_factory=list, description="Recipient addresses.")
    webhook: str | None = Field(
        default=None, description="URL to POST a JSON payload to; may hold references."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra webhook headers; credentials only as ${secret:NAME}."
    )
    on: list[Outcome] = Field(
        default_factory=_on_failure, description="Outcomes that send it: failure, success."
    )
    smtp: str | None = Field(
        default=None,
        description=f"Name of an `smtp` connection; default: ${SMTP_URL_ENV}, else a connection `smtp`.",
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds to wait for the server.")

    @field_validator("email", mode="before")
    @classmethod
    def _one_address(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("on", mode="before")
    @classmethod
    def _one_outcome(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("email")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address.strip("@") or any(c in address for c in " ,;<>\r\n"):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _no_clear_credentials(self) -> Notify:
        from .connections import SENSITIVE_HEADER, check_url_userinfo

        if self.webhook:
            if not self.webhook.startswith(("http://", "https://", "${")):
                raise ValueError(f"webhook {self.webhook!r} must be an http:// or https:// URL")
            check_url_userinfo(self.webhook)
        for name, value in self.headers.items():
            if SENSITIVE_HEADER.search(name) and not REFERENCE.search(value):
                raise ValueError(
                    f"header {name!r} holds a credential in clear; write it as 'Bearer ${{secret:NAME}}'"
                )
        return self

    def wants(self, outcome: Outcome) -> bool:
        """Whether an outcome triggers this notification."""
        return outcome in self.on


@dataclass(frozen=True)
class SmtpServer:
    """A resolved SMTP server (holds the password: never logged or shown)."""

    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    shown: str  # for messages: scheme://host:port, no credentials

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise NotifyError(
                f"SMTP URL {_shown(url)!r} must look like smtp://[user:${{secret:PW}}@]host[:port]"
                "[?starttls=true&from=ADDRESS] (or smtps://)"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"starttls", "from", "timeout"}
        if unknown:
            raise NotifyError(
                f"SMTP URL: unknown option(s) {', '.join(sorted(unknown))}; known: starttls, from"
            )
        secure = parts.scheme == "smtps"
        port = parts.port or (465 if secure else 25)
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if password:
            reveal(password)
            reveal_basic_auth(username or "", password)
        sender = query.get("from") or (username if username and "@" in username else None)
        return cls(
            host=parts.hostname,
            port=port,
            ssl=secure,
            starttls=query.get("starttls", "false").lower() in ("1", "true", "yes"),
            username=username,
            password=password,
            sender=sender or f"aqtra-nb@{socket.getfqdn() or 'localhost'}",
            shown=f"{parts.scheme}://{parts.hostname}:{port}",
        )


def _shown(url: str) -> str:
    """A URL for messages: no user information."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return redact(f"{parts.scheme}://{host}{parts.path}")


def email_transport(connection: str | None = None) -> SmtpServer | Outbox:
    """Where email goes: the SMTP server (`smtp_server`), or the outbox when no server is configured and
    no connection was named. Raises NotifyError for settings that are wrong (checked when a workflow
    starts, so a bad setting fails before any step ran)."""
    try:
        return smtp_server(connection)
    except _NoServer:
        return Outbox.default()


class _NoServer(NotifyError):
    """No SMTP server is configured at all (no setting, no `smtp` connection)."""


def smtp_server(connection: str | None = None) -> SmtpServer:
    """The SMTP server: the named connection, else the `smtp_url` setting (`$AQTRA_SMTP_URL`), else a
    connection named `smtp`."""
    from .connections import ConnectorError, check_url_userinfo
    from .resources import current
    from .secrets import resolve_url

    resources = current()
    if connection is None and resources.settings.smtp_url:
        raw = resources.settings.smtp_url
        secrets = resources.secrets if "${secret:" in raw else None
        resolved_url = resolve_url(raw, secrets, where=f"${SMTP_URL_ENV}: ")
        if REFERENCE.sub("", raw) == raw:  # no references: a password in clear is still a secret
            parts = urlsplit(raw)
            if parts.password:
                reveal(unquote(parts.password))
        return SmtpServer.from_url(resolved_url)
    connections = resources.connections()
    name = connection or "smtp"
    try:
        spec = connections.spec(name)
    except ConnectorError as exc:
        if connection is None:
            raise _NoServer(
                f"no SMTP server configured: set ${SMTP_URL_ENV} (smtp://user:${{secret:PW}}@host:587"
                "?starttls=true&from=ADDRESS) or define a connection `smtp` of kind smtp"
            ) from None
        raise NotifyError(exc.message, field="smtp") from None
    if spec.kind != "smtp":
        raise NotifyError(f"connection {name!r} is a {spec.kind} connection, not smtp", field="smtp")
    check_url_userinfo(spec.url or "")
    resolved = connections.get(name).resolved
    url = resolved["url"]
    options = {k: str(v) for k, v in resolved["options"].items()}
    if options:
        separator = "&" if "?" in url else "?"
        url += separator + "&".join(f"{k}={v}" for k, v in options.items())
    return SmtpServer.from_url(url)


def send(notify: Notify, *, subject: str, body: str, payload: dict[str, Any]) -> list[str]:
    """Send `subject`/`body` by email and `payload` (plus subject and body) to the webhook. Every target
    is tried; if any fails, one NotifyError names each failed target (secrets masked). Returns where
    each went (`smtp://host:port`, an outbox file, the webhook)."""
    failures: list[str] = []
    delivered: list[str] = []
    if notify.email:
        try:
            delivered.append(send_email(notify, subject=subject, body=body))
        except NotifyError as exc:
            failures.append(exc.message)
    if notify.webhook:
        try:
            post_webhook(notify, {"subject": subject, "body": body, **payload})
            delivered.append(_shown(notify.webhook or ""))
        except NotifyError as exc:
            failures.append(exc.message)
    if failures:
        raise NotifyError("; ".join(failures), field="notify")
    return delivered


def send_email(notify: Notify, *, subject: str, body: str) -> str:
    """One message to all `notify.email` recipients through the configured SMTP server, or into the
    outbox when there is none; returns where it went (the server, or the outbox file)."""
    recipients = ", ".join(notify.email)
    try:
        server = email_transport(notify.smtp)
    except AqtraError as exc:
        raise NotifyError(f"email to {recipients}: {redact(exc.message)}") from None
    message = EmailMessage()
    message["Subject"] = subject.replace("\n", " ").replace("\r", " ")
    message["To"] = recipients
    message["Date"] = formatdate(localtime=True)
    message.set_content(body)
    if isinstance(server, Outbox):
        message["From"] = f"aqtra-nb@{socket.gethostname() or 'localhost'}"
        message["Message-ID"] = make_msgid(domain="localhost")
        kept = server.put(message)
        logger.info("no SMTP server configured: email %r to %s kept in %s", subject, recipients, kept.path)
        return str(kept.path)
    message["From"] = server.sender
    message["Message-ID"] = make_msgid(domain=server.host)
    try:
        _deliver(server, message, notify.timeout)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        reason = redact(_smtp_reason(exc))
        raise NotifyError(f"email to {recipients} via {server.shown} failed: {reason}") from None
    logger.info("sent email %r to %s via %s", subject, recipients, server.shown)
    return server.shown


def _deliver(server: SmtpServer, message: EmailMessage, timeout: float) -> None:
    context = ssl.create_default_context()
    if server.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with client:
        client.ehlo()
        if server.starttls:
            client.starttls(context=context)
            client.ehlo()
        if server.username and server.password is not None:
            client.login(server.username, server.password)
        client.send_message(message)


def _smtp_reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the login ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + ", ".join(
            f"{address} ({code} {text.decode(errors='replace')})"
            for address, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error  # bytes from the server; smtplib's own raises pass text
        return f"{exc.smtp_code} {error.decode(errors='replace') if isinstance(error, bytes) else error}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"


def post_webhook(notify: Notify, payload: dict[str, Any]) -> None:
    """POST `payload` as JSON to `notify.webhook`; a non-2xx answer is an error."""
    import requests

    from .resources import current
    from .secrets import resolve_references, resolve_url

    raw = notify.webhook or ""
    shown = _shown(raw)
    needs_secrets = "${secret:" in raw or any("${secret:" in v for v in notify.headers.values())
    try:
        secrets = current().secrets if needs_secrets else None
        url = resolve_url(raw, secrets, where="webhook: ")
        headers = {
            k: resolve_references(v, secrets, where=f"webhook header {k!r}: ", credential=True)
            for k, v in notify.headers.items()
        }
    except AqtraError as exc:
        raise NotifyError(f"webhook {shown}: {exc.message}") from None
    shown = _shown(url)
    try:
        data = json.dumps(payload, default=str)
        response = requests.post(
            url,
            data=data,
            headers={"Content-Type": "application/json", **headers},
            timeout=notify.timeout,
        )
    except requests.RequestException as exc:
        raise NotifyError(f"webhook {shown} failed: {redact(type(exc).__name__ + ': ' + str(exc))}") from None
    if not response.ok:
        excerpt = " ".join(redact(response.text).split())[:200]  # redacted before it is cut
        raise NotifyError(f"webhook {shown} answered {response.status_code}: {excerpt}")
    logger.info("posted webhook %s (%d)", shown, response.status_code)
