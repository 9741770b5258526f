"""A published server under a crowd of bad requests: plain answers, one log line each, no token in any.

Voilà and Jupyter Server answer a few malformed requests with a 500 and a traceback (`/logout` renders a
template that needs a setting Voilà does not set; `/voila/templates/x` fails to split its path), and every
uncaught exception is logged with its traceback and the request's headers. A crowd of such requests
would flood the log, and Tornado's XSRF warning prints a wrong `?token=` in clear. Here: those handlers
answer plainly (404, a "signed out" text), exceptions are logged in one line (the traceback only at
DEBUG), and `token=` values are scrubbed from every Tornado log line.
"""

from __future__ import annotations

import logging
import re

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.logout import LogoutHandler
from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from voila.static_file_handler import TemplateStaticFileHandler

from ..secrets import redact
from .static_files import InMemoryStatic

TOKEN_IN_URL = re.compile(r"([?&;]token=)[^&\s'\")]+")
TORNADO_LOGGERS = ("tornado.application", "tornado.general", "tornado.access")


class SafeTemplateStaticFileHandler(InMemoryStatic, TemplateStaticFileHandler):
    """Voilà's template files (from memory, `static_files.py`); a path without
    `<template>/static/<file>` is a 404, not a 500."""

    def parse_url_path(self, path: str) -> str:
        try:
            return super().parse_url_path(path)
        except ValueError:
            raise web.HTTPError(404) from None


class PlainLogoutHandler(JupyterHandler):
    """Sign out: the login cookie is cleared and a line of text says so (Jupyter's page needs static
    files a published server does not have)."""

    @allow_unauthenticated
    def get(self) -> None:
        self.identity_provider.clear_login_cookie(self)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("Signed out.\n")


def replace_handler(handler: type) -> type:
    """Our handler for one of the above, else the handler itself."""
    if isinstance(handler, type) and issubclass(handler, TemplateStaticFileHandler):
        return SafeTemplateStaticFileHandler
    if isinstance(handler, type) and issubclass(handler, LogoutHandler):
        return PlainLogoutHandler
    return handler


class OneLineRecords(logging.Filter):
    """Tornado's records in one line: `token=` values scrubbed, tracebacks only when DEBUG is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = TOKEN_IN_URL.sub(r"\1[secret]", record.getMessage())
        if record.exc_info and not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            error = record.exc_info[1]
            message = f"{message.splitlines()[0]}: {type(error).__name__}: {error}"
            record.exc_info, record.exc_text = None, None
        elif "\n" in message and record.levelno >= logging.ERROR and record.name == "tornado.access":
            message = message.splitlines()[0]  # Jupyter's access log adds the request headers to 5xx lines
        record.msg, record.args = redact(message), ()  # the exception's text was not masked yet
        return True


def quiet_tornado_logs() -> None:
    """Install the filter on Tornado's loggers (once per process)."""
    for name in TORNADO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLineRecords) for f in logger.filters):
            logger.addFilter(OneLineRecords())
