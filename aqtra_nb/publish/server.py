"""Serve apps with Voilà: safe defaults, token authentication, one announcement of the URL.

`safe_config()` holds the defaults a published app gets (sources stripped, tracebacks hidden, a cell
timeout, idle kernels culled, only images under the app folder served, and only to signed-in users).
They are ordinary traitlets settings: a deployer may change any of them in a `voila.json`/`voila.py`
config file. The token, address and port come from the command line and always win.
"""

from __future__ import annotations

import functools
import logging
import secrets
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.log import log_request
from tornado import web
from traitlets import Unicode
from traitlets.config import Config
from voila.app import Voila
from voila.static_file_handler import AllowListFileHandler

from ..errors import AqtraError
from ..secrets import redact_logs, reveal
from .apps import AppSource, stage

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
TEMPLATES = Path(__file__).with_name("templates")
_SERVER_LOGGERS = ("tornado.access", "tornado.application", "tornado.general", "PublishedVoila")


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: the command line's choices (everything else is `safe_config()`)."""

    port: int = 8866  # 0: any free port
    ip: str = LOOPBACK
    public: bool = False  # no authentication at all: an explicit opt-out
    token: str | None = None  # generated when None (and not public)
    timeout: int = 120  # seconds a cell may run while the page renders
    cull_idle_seconds: int = 1800  # shut down kernels idle this long (a closed or forgotten tab)
    base_url: str = "/"
    extra_config: dict = field(default_factory=dict)  # {"Class": {"trait": value}} merged last


def safe_config(options: ServeOptions) -> Config:
    """The publishing defaults, as traitlets config (config files may override them)."""
    config = Config()
    config.VoilaConfiguration.strip_sources = True
    config.VoilaConfiguration.show_tracebacks = False
    config.VoilaConfiguration.classic_tree = True  # the gallery is a server-rendered page
    config.VoilaConfiguration.file_allowlist = [r".*\.(png|jpg|jpeg|gif|svg)"]
    config.VoilaConfiguration.file_denylist = [r"(^|.*/)\..*", r".*\.(ipynb|py|yaml|yml|json|db|env)"]
    config.VoilaExecutor.timeout = options.timeout
    config.VoilaExecutor.show_tracebacks = False
    config.MappingKernelManager.cull_idle_timeout = options.cull_idle_seconds
    config.MappingKernelManager.cull_interval = max(10, min(60, options.cull_idle_seconds))
    config.MappingKernelManager.cull_connected = True  # an open but idle tab does not hold a kernel forever
    config.MappingKernelManager.cull_busy = False
    for section, values in options.extra_config.items():
        for name, value in values.items():
            config[section][name] = value
    return config


class AuthenticatedAppFileHandler(JupyterHandler, AllowListFileHandler):
    """Voilà's `/voila/files/` (images next to the app), for signed-in users only."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True):  # type: ignore[override]
        return AllowListFileHandler.get(self, path, include_body)

    @web.authenticated
    @authorized
    def head(self, path: str):  # type: ignore[override]
        return AllowListFileHandler.head(self, path)

    def write_error(self, status_code: int, **kwargs) -> None:
        # Jupyter Server's error page needs settings Voilà does not have; a plain status page will do.
        web.RequestHandler.write_error(self, status_code, **kwargs)


class PublishedVoila(Voila):
    """Voilà with authenticated file serving, kernels started in the app folder, and request logs
    that never contain a token."""

    app_dir = Unicode(help="Folder the apps live in: kernels start (and images are served) there.").tag(
        config=True
    )

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        if self.voila_configuration.template == "lab":
            # Our page template first: Voilà's lab page minus its links to CDNs.
            self.template_paths = [str(TEMPLATES), *self.template_paths]

    def init_settings(self) -> dict:
        settings = super().init_settings()
        if self.app_dir:
            self.kernel_manager.root_dir = self.app_dir
        # Jupyter Server's request log: success at debug level, `token=` scrubbed from every URL.
        settings["log_function"] = functools.partial(log_request, record_prometheus_metrics=False)
        return settings

    def init_handlers(self) -> list:
        handlers = []
        for spec in super().init_handlers():
            pattern, handler, *rest = spec
            if handler is AllowListFileHandler:
                kwargs = dict(rest[0]) if rest else {}
                kwargs["path"] = self.app_dir or kwargs.get("path", self.root_dir)
                spec = (pattern, AuthenticatedAppFileHandler, kwargs)
            handlers.append(spec)
        return handlers


def free_port(ip: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def page_url(options: ServeOptions, port: int, path: str = "") -> str:
    host = "localhost" if options.ip in ("", "0.0.0.0", "::") else options.ip
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}{options.base_url.rstrip('/')}/{path.lstrip('/')}"


def serve(
    apps: list[AppSource],
    app_dir: Path,
    options: ServeOptions,
    *,
    single: bool,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Stage `apps`, start Voilà (blocking until stopped) and print the URL with its token once.

    `single`: serve one app at the root URL; otherwise a gallery of all of them.
    """
    if not apps:
        raise AqtraError("no apps to serve (no *.ipynb or *.app.yaml files)", file=str(app_dir))
    token = "" if options.public else (options.token or new_token())
    if token:
        # Tornado logs failed requests with their URL; the token must not reach any log line.
        reveal(token)
        redact_logs(*_SERVER_LOGGERS)
    port = options.port or free_port(options.ip or LOOPBACK)
    announce = announce or _print
    with tempfile.TemporaryDirectory(prefix="aqtra-publish-") as staging_name:
        staging = Path(staging_name)
        stage(apps, staging)
        argv = [
            f"--Voila.port={port}",
            "--Voila.port_retries=0",
            f"--Voila.ip={options.ip}",
            f"--Voila.base_url={options.base_url}",
            "--Voila.open_browser=False",
            f"--Voila.root_dir={staging}",
            f"--PublishedVoila.app_dir={app_dir}",
        ]
        if single:
            argv.append(f"--Voila.notebook_path={staging / apps[0].staged_name}")
        app = PublishedVoila(config=safe_config(options))
        app.token = token  # set directly: never on a command line, where `ps` would show it
        app.initialize(argv)
        app.token = token  # a config file must not replace it
        url = page_url(options, port)
        if token:
            url += f"?token={token}"

        from tornado.ioloop import IOLoop

        # Runs once the loop starts, i.e. only when Voilà is listening.
        IOLoop.current().add_callback(announce, _announcement(url, options, single, apps))
        try:
            app.start()
        except SystemExit as exc:  # Voilà exits when it cannot listen
            if exc.code:
                raise AqtraError(f"could not listen on {options.ip}:{port} (is the port in use?)") from None
    return 0


def _announcement(url: str, options: ServeOptions, single: bool, apps: list[AppSource]) -> str:
    what = f"app {apps[0].relative}" if single else f"{len(apps)} apps"
    lines = [f"Serving {what} at {url}"]
    if options.public:
        lines.insert(
            0,
            "WARNING: --public: no authentication. Anyone who can reach this address can open the app "
            "and run its flows.",
        )
    else:
        lines.append("The token is printed only here; open the URL above to sign in.")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def _print(message: str) -> None:
    print(message, flush=True)
    sys.stdout.flush()
