"""Encrypted secrets (Fernet). The key comes from `$AQTRA_SECRET_KEY` or `secret.key` in the settings' home
(`AqtraNb.home`; created with 0600 permissions); the store keeps only ciphertext. Flows and connections
refer to secrets as `${secret:NAME}` and to environment variables as `${env:NAME}`; values are resolved
only when used."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet, InvalidToken

from .errors import AqtraError, did_you_mean
from .private_files import private_folder

if TYPE_CHECKING:  # the store (SQLAlchemy) loads with the first secret read or written, not with `redact`
    from .store import Store

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
REFERENCE = re.compile(r"\$\{(env|secret):([A-Za-z_][A-Za-z0-9_.\-]*)\}")


class SecretError(AqtraError):
    """A secret or environment variable is missing, or the key cannot decrypt it."""


def _key(home: Path | None) -> bytes:
    env = os.environ.get("AQTRA_SECRET_KEY")
    if env:
        return env.encode()
    path = key_file(home)
    if not path.exists():
        private_folder(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return path.read_bytes().strip()


def _fernet(home: Path | None = None) -> Fernet:
    try:
        return Fernet(_key(home))
    except ValueError:
        raise SecretError(
            "the secret key (AQTRA_SECRET_KEY or secret.key) is not a valid Fernet key"
        ) from None


class SecretStore:
    """Set, get, list and delete secrets in the store, encrypted (with the key in `home`: by default the
    current settings' home)."""

    def __init__(self, store: Store, home: Path | None = None) -> None:
        self.store, self.home = store, home

    def set(self, name: str, value: str) -> None:
        if not NAME.match(name):
            raise SecretError(f"secret name {name!r} may hold only letters, digits, '_', '.', '-'")
        from .store.models import Secret

        token = _fernet(self.home).encrypt(value.encode())
        with self.store.session.begin() as session:
            found = session.get(Secret, name)
            if found is None:
                session.add(Secret(name=name, token=token))
            else:
                found.token = token

    def get(self, name: str) -> str:
        from .store.models import Secret

        with self.store.session() as session:
            found = session.get(Secret, name)
        if found is None:
            hint = did_you_mean(name, self.names())
            raise SecretError(f"secret {name!r} is not set.{hint} Set it with `aqtra-nb secrets set {name}`")
        try:
            return reveal(_fernet(self.home).decrypt(found.token).decode())
        except InvalidToken:
            raise SecretError(
                f"secret {name!r} cannot be decrypted with this key (AQTRA_SECRET_KEY changed?)"
            ) from None

    def names(self) -> list[str]:
        from sqlalchemy import select

        from .store.models import Secret

        with self.store.session() as session:
            return list(session.scalars(select(Secret.name).order_by(Secret.name)))

    def delete(self, name: str) -> bool:
        from sqlalchemy import delete

        from .store.models import Secret
        from .store.orm import affected_rows

        with self.store.session.begin() as session:
            return affected_rows(session.execute(delete(Secret).where(Secret.name == name))) > 0


def resolve_references(
    text: str, secrets: SecretStore | None, *, where: str = "", credential: bool = False
) -> str:
    """Replace `${env:NAME}` and `${secret:NAME}` in `text`. Missing values are errors naming `where`.
    Secret values are redacted from messages and logs from now on (`redact`); environment values too if
    `credential` (they stand where a credential goes: an auth header, a password option)."""

    def replace(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "env":
            if name not in os.environ:
                raise SecretError(f"{where}environment variable {name!r} is not set")
            return reveal(os.environ[name]) if credential else os.environ[name]
        if secrets is None:
            raise SecretError(f"{where}`${{secret:{name}}}` needs the secret store")
        try:
            return secrets.get(name)
        except SecretError as exc:
            raise SecretError(f"{where}{exc.message}") from None

    return REFERENCE.sub(replace, text)


def resolve_url(url: str, secrets: SecretStore | None, *, where: str = "") -> str:
    """`resolve_references` for URLs: a value that goes into the user name or password
    (`scheme://user:${secret:PW}@host`) is percent-encoded, so a password holding `/`, `@` or `:` keeps
    the URL intact (SQLAlchemy and requests decode it again)."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return resolve_references(url, secrets, where=where)
    start = scheme_end + 3
    end = min([i for i in (url.find(c, start) for c in "/?#") if i >= 0], default=len(url))
    userinfo_end = url.rfind("@", start, end)
    pieces, position = [], 0
    for match in REFERENCE.finditer(url):
        in_userinfo = match.end() <= userinfo_end  # a user name or password: a credential
        value = resolve_references(match.group(0), secrets, where=where, credential=in_userinfo)
        if in_userinfo:
            value = quote(value, safe="")
        pieces += [url[position : match.start()], value]
        position = match.end()
    return "".join(pieces) + url[position:]


def key_file(home: Path | None = None) -> Path:
    """Where the generated key lives when `$AQTRA_SECRET_KEY` is not set: `home`, else the current
    settings' home."""
    if home is None:
        from .resources import current

        home = current().settings.home_path
    return home / "secret.key"


# -- redaction -----------------------------------------------------------------------------------------
# Every value resolved from a reference in this process is remembered (it is in memory anyway), so that
# messages, logs and response excerpts can be scrubbed of it before anyone sees them.

MASK = "***"
MIN_REDACTED = 4  # shorter values would mask ordinary text
_REVEALED: set[str] = set()
_REVEALED_LOCK = threading.Lock()


def reveal(value: str) -> str:
    """Remember `value` as secret (to be redacted from messages and logs) and return it. Every value of
    the secret store is; environment values are where they are used as credentials (they may be mere
    settings, such as a base URL)."""
    if len(value) >= MIN_REDACTED:
        forms = {form for form in encodings(value) if len(form) >= MIN_REDACTED}
        with _REVEALED_LOCK:
            _REVEALED.update(forms)
        redact_logs()
    return value


def encodings(value: str) -> set[str]:
    """The forms `value` takes in URLs, JSON and Python reprs, as servers and messages echo it."""
    escaped = json.dumps(value)[1:-1]
    return {
        value,
        quote(value, safe=""),
        quote(value),  # in a URL path
        quote_plus(value),  # in a query string or form body
        escaped,
        re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped),  # \u00E9
        json.dumps(value, ensure_ascii=False)[1:-1],
        escaped.replace("/", "\\/"),  # PHP's json_encode escapes slashes
        repr(value)[1:-1],
    }


def reveal_basic_auth(username: str, password: str) -> None:
    """The `Authorization: Basic` form of a user name and password is secret too (UTF-8, and latin-1 as
    `requests` encodes it)."""
    for encoding in ("utf-8", "latin-1"):
        try:
            reveal(base64.b64encode(f"{username}:{password}".encode(encoding)).decode())
        except UnicodeEncodeError:
            pass


def redact(text: str) -> str:
    """`text` with every secret value resolved in this process replaced by `***`."""
    if not _REVEALED or not text:
        return text
    with _REVEALED_LOCK:
        values = sorted(_REVEALED, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs secret values from a record's message, traceback and stack. `redact_logs()` applies it to
    every record of the process; it may also be attached to a logger or handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _REVEALED:
            _scrub_message(record)
            _scrub_traceback(record)
        return True


def _scrub_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error handling
        return
    scrubbed = redact(message)
    if scrubbed != message:
        record.msg, record.args = scrubbed, ()


def _scrub_traceback(record: logging.LogRecord) -> None:
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)  # as formatters print it
        scrubbed = redact(text)
        if scrubbed != text:
            record.exc_text = scrubbed  # formatters print exc_text when it is set
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_FILTER = RedactingFilter()
_LOGS_REDACTED = threading.Event()


def redact_logs() -> None:
    """Scrub every log record of this process from now on (called by `reveal`): whatever its logger
    (ours, urllib3, requests, SQLAlchemy, tornado) and whatever handler prints it, also handlers added
    later, because records are scrubbed as they are made (logging's record factory)."""
    with _REVEALED_LOCK:
        if _LOGS_REDACTED.is_set():
            return
        make_record = logging.getLogRecordFactory()

        def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            _FILTER.filter(record)
            return record

        logging.setLogRecordFactory(scrubbed_record)
        _LOGS_REDACTED.set()
