"""Serve apps with Voilà: safe defaults, token authentication, one announcement of the URL.

`safe_config()` holds the defaults a published app gets (sources stripped, tracebacks hidden, a cell
timeout, idle kernels culled, only images under the app folder served, and only to signed-in users).
They are ordinary traitlets settings: a deployer may change any of them in a `voila.json`/`voila.py`
config file. The token, address and port come from the command line and always win.

Pre-heated kernels (`ServeOptions.pool`): Voilà starts a kernel per app before anyone visits and runs
the app in it, so a visitor gets a page whose imports and first run are already done. Voilà hands the
visitor's request (its query string) to such a kernel over a websocket, `/voila/query/<kernel id>`,
that has no authentication. We replace it with `/aqtra-query/<key>/voila/query/<kernel id>`, where
`key` is a random secret of this server process that only its kernels get (in their environment, as
the `VOILA_WS_BASE_URL` Voilà's own `wait_for_request` builds the address from), and only from loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import inspect
import logging
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jinja2.bccache import Bucket, BytecodeCache
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.log import log_request
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop
from traitlets import Unicode
from traitlets.config import Config
from voila.app import Voila
from voila.exporter import VoilaExporter
from voila.request_info_handler import RequestInfoSocketHandler
from voila.static_file_handler import AllowListFileHandler
from voila.tornado.handler import TornadoVoilaHandler

from .. import chart_assets
from ..errors import AqtraError
from ..private_files import private_file, private_folder
from ..secrets import reveal
from . import provisioner
from .apps import AppSource, stage
from .crowd import FORKED_KERNEL_MB, KERNEL_MB, Busy, Crowd, CrowdLimits, default_max_kernels
from .quiet import quiet_tornado_logs, replace_handler
from .static_files import in_memory

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
TEMPLATES = Path(__file__).with_name("templates")
SPEC_UNUSED_EXTENSIONS = ("jupyterlab-plotly", "jupyterlab_pygments")
# Our JupyterLab extension (the flow editor): 2 MB of JavaScript that a published page would load and
# fail to start (it needs JupyterLab's file browser).
LAB_EXTENSION = "@aqtra-nb/labextension"


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
    pool: int = 0  # pre-heated kernels per app (0: every visitor waits for a kernel to start)
    pool_max: int = 0  # the pool grows up to this while visitors find it empty (0: keeps `pool`)
    max_kernels: int | None = None  # visitors' and pool kernels together; None: from memory
    queue_seconds: float = 30.0  # longest wait for a kernel before the busy page
    gone_seconds: float = 60.0  # a kernel with no page connected and no activity this long is shut down
    runtime_dir: Path | None = None  # the server's runtime files; None: AQTRA_HOME/publish
    fork_kernels: bool = True  # kernels forked from a process with their imports done (`zygote.py`)
    extra_config: dict = field(default_factory=dict)  # {"Class": {"trait": value}} merged last


def safe_config(options: ServeOptions) -> Config:
    """The publishing defaults, as traitlets config (config files may override them)."""
    config = Config()
    config.VoilaConfiguration.strip_sources = True
    config.VoilaConfiguration.show_tracebacks = False
    config.VoilaConfiguration.classic_tree = True  # the gallery is a server-rendered page
    # A visitor's `?template=reveal` or `?theme=` would switch to a template with CDN links (and no
    # pre-heated kernel), `?template=../..` to a 500: the page is the one the publisher chose.
    config.VoilaConfiguration.allow_template_override = "NO"
    config.VoilaConfiguration.allow_theme_override = "NO"
    config.VoilaConfiguration.file_allowlist = [r".*\.(png|jpg|jpeg|gif|svg)"]
    config.VoilaConfiguration.file_denylist = [r"(^|.*/)\..*", r".*\.(ipynb|py|yaml|yml|json|db|env)"]
    config.VoilaExecutor.timeout = options.timeout
    # How long a page's render waits for a cell's outputs after the cell finished (nbclient's default,
    # 4 s, is not enough for a crowd on a few cores: the output, the app itself, was dropped and the
    # visitor got an empty page). It only waits while outputs are still coming.
    config.VoilaExecutor.iopub_timeout = options.timeout
    config.VoilaConfiguration.extension_denylist = [LAB_EXTENSION]
    config.VoilaExecutor.show_tracebacks = False
    config.MappingKernelManager.cull_idle_timeout = options.cull_idle_seconds
    config.MappingKernelManager.cull_interval = max(10, min(60, options.cull_idle_seconds))
    config.MappingKernelManager.cull_connected = True  # an open but idle tab does not hold a kernel forever
    config.MappingKernelManager.cull_busy = False
    if options.runtime_dir is not None:
        # Kernels' connection files (with their keys) and Jupyter's notebook-signing key and signatures.
        config.Voila.connection_dir_root = str(options.runtime_dir)
        config.NotebookNotary.data_dir = str(options.runtime_dir)
    if forks_kernels(options):
        config.KernelProvisionerFactory.default_provisioner_name = provisioner.NAME
    if options.pool > 0:
        # Pooled kernels are never culled (Voilà's pool manager skips them), only the visitors' ones.
        config.VoilaConfiguration.preheat_kernel = True
        config.VoilaConfiguration.default_pool_size = options.pool
    for section, values in options.extra_config.items():
        for name, value in values.items():
            config[section][name] = value
    return config


def forks_kernels(options: ServeOptions) -> bool:
    """Whether kernels are forked from the zygote: the default, unless the deployer chose a provisioner
    (jupyter_client's `JUPYTER_DEFAULT_PROVISIONER_NAME`; `local-provisioner` starts each kernel as a
    new process)."""
    return options.fork_kernels and not os.environ.get("JUPYTER_DEFAULT_PROVISIONER_NAME")


class _PlainErrors(JupyterHandler):
    """Jupyter Server's error page needs settings Voilà does not have; a plain status page will do."""

    def write_error(self, status_code: int, **kwargs) -> None:
        web.RequestHandler.write_error(self, status_code, **kwargs)


class AuthenticatedAppFileHandler(_PlainErrors, AllowListFileHandler):
    """Voilà's `/voila/files/` (images next to the app), for signed-in users only."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True):
        return AllowListFileHandler.get(self, path, include_body)

    @web.authenticated
    @authorized
    def head(self, path: str):
        return AllowListFileHandler.head(self, path)


class StaticHandler(_PlainErrors):
    """`<base_url>aqtra/static/<name>`: the files of `chart_assets.static_files()` (the chart module, plotly.js
    included, under a content-hashed name), for signed-in users only; any other name is 404. The name
    changes with the content, so browsers may keep a file for good; gzip-compressed once, on first
    request, for clients that accept it."""

    auth_resource = "contents"
    _bodies: dict[tuple[str, bool], bytes] = {}  # (name, gzipped) → body, shared by all requests

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        await self._send(name, include_body=True)

    @web.authenticated
    @authorized
    async def head(self, name: str) -> None:
        await self._send(name, include_body=False)

    async def _send(self, name: str, include_body: bool) -> None:
        content = chart_assets.static_files().get(name)
        if content is None:
            raise web.HTTPError(404)
        gzipped = "gzip" in self.request.headers.get("Accept-Encoding", "")
        body = self._bodies.get((name, gzipped))
        if body is None:
            body = await IOLoop.current().run_in_executor(None, _encode_static, content, gzipped)
            self._bodies[(name, gzipped)] = body
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "private, max-age=31536000, immutable")
        self.set_header("Vary", "Accept-Encoding")
        if gzipped:
            self.set_header("Content-Encoding", "gzip")
        self.set_header("Content-Length", len(body))
        if include_body:
            self.write(body)

    def compute_etag(self) -> None:
        return None  # the name is the version


def _encode_static(content: str, gzipped: bool) -> bytes:
    data = content.encode()
    return gzip.compress(data, compresslevel=6, mtime=0) if gzipped else data


class KeyedRequestInfoHandler(RequestInfoSocketHandler):
    """Voilà's request-info websocket for pre-heated kernels, open only to this server's kernels: the
    path carries the server's secret key, and the connection must come from loopback."""

    key = ""  # set once per server process by `serve`

    async def get(self, key: str, kernel_id: str) -> None:
        if (
            not self.key
            or not secrets.compare_digest(key, self.key)
            or not _is_loopback(self.request.remote_ip)
        ):
            self.set_status(403)
            self.finish()
            return
        await super().get(key, kernel_id)

    def open(self, key: str, kernel_id: str) -> None:
        super().open(kernel_id)


class AppPageHandler(TornadoVoilaHandler):
    """Voilà's page, admitted by the server's `Crowd` (a turn to start a kernel, or the busy page), and
    setting the `_xsrf` cookie: the page shuts its kernel down when the tab closes with a beacon that
    sends that cookie's value back, and is refused (the kernel then lives until culled) when the page
    never set it."""

    async def prepare(self, *args, **kwargs) -> None:
        await super().prepare(*args, **kwargs)
        self.xsrf_token  # noqa: B018 (reading it sets the cookie)

    @web.authenticated
    async def get(self, path: str | None = None) -> None:
        crowd: Crowd | None = self.settings.get("aqtra_crowd")
        if crowd is None:
            await super().get(path)
            return
        try:
            turn = await crowd.admit(self.notebook_path or path)
        except Busy as exc:
            crowd.busy_replies += 1
            self.aqtra_busy = True
            self.set_status(503)
            self.set_header("Retry-After", str(crowd.limits.retry_seconds))
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(crowd.busy_page(str(exc)))
            return
        try:
            await super().get(path)
        finally:
            if turn is not None:
                turn.release()


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled page templates, kept in memory for the server's life. Voilà builds a new
    exporter, so a new Jinja environment, for every page it renders, and each compiled the page's
    templates again from source: a third of the server's CPU per visitor in a crowd (py-spy,
    `benchmarks/app.py --visitors N --protocol`). Jinja still reads each source and compiles again when
    its checksum changes."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def cache_compiled_templates(exporter_class: Any = VoilaExporter) -> None:
    """Give every environment Voilà's page exporter creates one shared `CompiledTemplates`."""
    if getattr(exporter_class, "_aqtra_compiled", None) is not None:
        return
    compiled = CompiledTemplates()
    create = exporter_class._create_environment

    def _create_environment(self: Any) -> Any:
        environment = create(self)
        environment.bytecode_cache = compiled
        return environment

    exporter_class._create_environment = _create_environment
    exporter_class._aqtra_compiled = compiled


def _log_request(handler: web.RequestHandler) -> None:
    """Jupyter Server's request log, but a busy page (a crowd's normal answer) is one info line, not
    an error with the request's headers."""
    if getattr(handler, "aqtra_busy", False):
        logger.info("busy: 503 %s", handler.request.path)
        return
    log_request(handler, record_prometheus_metrics=False)


def _is_loopback(address: str | None) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address((address or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def query_base_url(server_url: str, key: str) -> str:
    """The `VOILA_WS_BASE_URL` of this server's kernels: Voilà appends `voila/query/<kernel id>`."""
    return f"{server_url.rstrip('/')}/aqtra-query/{key}/"


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

    crowd: Crowd | None = None  # set by `serve` before the server starts
    template_paths: list[str]  # Voilà's (the package has no type hints)

    def listen(self) -> None:
        try:
            super().listen()
        except SystemExit:  # Voilà exits when it cannot listen, after queueing the pool's kernel starts
            drop_pool_tasks(self.kernel_manager)
            shutil.rmtree(self.connection_dir, ignore_errors=True)
            raise

    def init_settings(self) -> dict:
        settings = super().init_settings()
        if self.app_dir:
            self.kernel_manager.root_dir = self.app_dir
        if self.crowd is not None:
            self.crowd.attach(self.kernel_manager)
            settings["aqtra_crowd"] = self.crowd
        # Jupyter Server's request log: success at debug level, `token=` scrubbed from every URL.
        settings["log_function"] = _log_request
        return settings

    def init_handlers(self) -> list:
        # First: in single-app mode Voilà's page handler takes every other path.
        handlers: list = [(url_path_join(self.server_url, chart_assets.PREFIX, "([^/]+)"), StaticHandler)]
        quiet_tornado_logs()
        for spec in super().init_handlers():
            pattern, handler, *rest = spec
            ours = in_memory(replace_handler(handler))
            if ours is not handler:
                spec = (pattern, ours, *rest)
            elif handler is AllowListFileHandler:
                kwargs = dict(rest[0]) if rest else {}
                kwargs["path"] = self.app_dir or kwargs.get("path", self.root_dir)
                spec = (pattern, AuthenticatedAppFileHandler, kwargs)
            elif handler is RequestInfoSocketHandler:
                base = query_base_url(self.server_url, "([^/]+)")
                spec = (f"{base}voila/query/([^/]+)", KeyedRequestInfoHandler)
            elif handler is TornadoVoilaHandler:
                spec = (pattern, AppPageHandler, *rest)
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
    port = options.port or free_port(options.ip or LOOPBACK)
    announce = announce or _print
    options = replace(options, runtime_dir=private_runtime_dir(options.runtime_dir))
    # Kernels inherit them: charts load plotly.js from StaticHandler, Jupyter's runtime files stay in
    # ours. Set only while serving, so that a caller in the same process (tests, a notebook) keeps its
    # own environment afterwards.
    with (
        _environment(chart_assets.PUBLISHED_ENV, "1"),
        _environment("JUPYTER_RUNTIME_DIR", str(options.runtime_dir)),
        tempfile.TemporaryDirectory(prefix="aqtra-publish-") as staging_name,
    ):
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
        config = safe_config(options)
        if all(app.is_spec for app in apps):
            # App specs draw charts with our own figure widget only: plotly's JupyterLab renderer, if
            # installed (4.8 MB of plotly.js every page would load first), and the code-highlighting
            # theme go unused.
            config.VoilaConfiguration.extension_denylist = [LAB_EXTENSION, *SPEC_UNUSED_EXTENSIONS]
            config.VoilaConfiguration.resources = {"aqtra_preload": [chart_assets.chart_url_path()]}
        if options.pool > 0:
            _preheat(config, apps, options, single)
        cache_compiled_templates()
        if forks_kernels(options):
            # Imports while Voilà starts (the environment is the kernels'), then runs the app specs'
            # flows once, so that forked kernels start with their step cache warm.
            provisioner.zygote().start(warm=[str(app.path.resolve()) for app in apps if app.is_spec])
        app = PublishedVoila(config=config)
        app.crowd = Crowd(crowd_limits(options))
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
        finally:
            provisioner.close_zygote()
    return 0


def drop_pool_tasks(kernel_manager: Any) -> None:
    """Cancel the kernel starts Voilà's pre-heating queued on this thread's event loop: otherwise they
    run whenever that loop next runs (their notebook gone with the staging folder), and fail unseen."""
    tasks = [task for pool in getattr(kernel_manager, "_pools", {}).values() for task in pool]
    for task in tasks:
        coroutine = task.get_coro()
        frame = getattr(coroutine, "cr_frame", None)
        start = frame.f_locals.get("aw") if frame is not None else None
        if inspect.iscoroutine(start):  # `wait_before(delay, aw)` not started yet: close `aw` too
            start.close()
        task.cancel()
    loop = tasks[0].get_loop() if tasks else None
    if loop is not None and not loop.is_running() and not loop.is_closed():
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    if hasattr(kernel_manager, "_pools"):
        kernel_manager._pools = {}


def crowd_limits(options: ServeOptions) -> CrowdLimits:
    kernel_mb = FORKED_KERNEL_MB if forks_kernels(options) else KERNEL_MB
    max_kernels = options.max_kernels or default_max_kernels(kernel_mb)
    return CrowdLimits(
        max_kernels=max_kernels,
        queue_seconds=options.queue_seconds,
        pool_max=min(options.pool_max, max_kernels),
        gone_seconds=options.gone_seconds,
    )


def private_runtime_dir(folder: Path | None) -> Path:
    """The server's runtime folder (default `AQTRA_HOME/publish`), 0700, with Jupyter's signature
    database made 0600 before Jupyter opens it (its signing key Jupyter writes 0600 itself)."""
    if folder is None:
        from ..resources import current

        folder = current().settings.home_path / "publish"
    private_file(private_folder(folder) / "nbsignatures.db")
    return folder


@contextlib.contextmanager
def _environment(name: str, value: str):
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _preheat(config: Config, apps: list[AppSource], options: ServeOptions, single: bool) -> None:
    """Point pooled kernels at the keyed request channel; leave out notebooks that read the request.

    A notebook that reads its query string while it runs would wait for a visitor inside a cell (and hit
    the cell timeout in an idle pool), so it gets a kernel per visitor as without a pool. App specs read
    it without blocking (`page.show_app`), so they are always pre-heated.
    """
    key = secrets.token_urlsafe(24)
    reveal(key)
    os.environ.pop("VOILA_WS_BASE_URL", None)  # kernels inherit this process's environment first
    KeyedRequestInfoHandler.key = key
    server_url = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    config.VoilaKernelManager.default_env_variables = {"VOILA_WS_BASE_URL": query_base_url(server_url, key)}
    readers = [app for app in apps if not app.is_spec and reads_request(app.path)]
    if single and readers:
        config.VoilaConfiguration.preheat_kernel = False
        logger.info("%s reads its URL parameters: not pre-heated", apps[0].relative)
    elif readers:
        config.VoilaKernelManager.preheat_denylist = [
            re.escape(str(app.staged_name)) + "$" for app in readers
        ]


_REQUEST_READERS = (
    "QUERY_STRING",
    "get_query_string",
    "wait_for_request",
    "query_parameters",
    "current_query",
)


def reads_request(notebook: Path) -> bool:
    """Whether a notebook's code reads the page request (its query string) while it runs."""
    try:
        text = notebook.read_text(encoding="utf-8")
    except OSError:
        return False
    return any(name in text for name in _REQUEST_READERS)


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
