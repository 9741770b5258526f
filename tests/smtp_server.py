"""A real SMTP server on 127.0.0.1 for the notification tests (aiosmtpd), optionally with a login."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """`with SmtpServer(password="pw") as smtp:` ... `smtp.messages`: (from, recipients, message)."""

    def __init__(self, *, user: str = "bot", password: str | None = None) -> None:
        self.inbox = _Inbox()
        self.port = free_port()
        self.user, self.password = user, password
        options: dict[str, Any] = {}
        if password is not None:
            options = {"authenticator": self._check, "auth_require_tls": False}  # loopback only
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    def _check(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == self.user
        ok = ok and data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)

    @property
    def messages(self) -> list[tuple[str, list[str], Message]]:
        return self.inbox.messages

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()
