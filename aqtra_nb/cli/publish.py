"""`aqtra-nb publish` and `aqtra-nb apps`: serve apps with Voilà, or export a static snapshot."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import AqtraError

TOKEN_ENV = "AQTRA_PUBLISH_TOKEN"  # a fixed token for scripts; never put one on a command line


def register(sub: argparse._SubParsersAction) -> None:
    publish = sub.add_parser(
        "publish",
        help="Serve a notebook or *.app.yaml as a Voilà app (token sign-in), or export static HTML.",
        description="Serve a notebook or an app spec as a web app through Voilà. Sources are hidden, "
        "tracebacks are hidden, and the page requires the printed token unless --public is given.",
    )
    publish.add_argument("app", help="an app notebook (*.ipynb) or an app spec (*.app.yaml)")
    _server_arguments(publish)
    publish.add_argument("--export", choices=["html"], help="write a static snapshot instead of serving")
    publish.add_argument("-o", "--output", help="file for --export (default: APP name with .html)")
    publish.set_defaults(handler=_publish)

    apps = sub.add_parser(
        "apps",
        help="Serve a gallery of the apps (*.ipynb, *.app.yaml) in a folder.",
        description="Serve every notebook and app spec in a folder through Voilà, with a gallery page.",
    )
    apps.add_argument("directory", nargs="?", default=".")
    _server_arguments(apps)
    apps.set_defaults(handler=_apps)


def _server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8866, help="port (0: any free port; default 8866)")
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="no authentication: anyone who can reach the address can use the app",
    )
    parser.add_argument("--timeout", type=int, default=120, help="seconds a cell may run while rendering")
    parser.add_argument(
        "--cull-idle", type=int, default=1800, metavar="SECONDS", help="shut down kernels idle this long"
    )
    parser.add_argument(
        "--cull-gone",
        type=float,
        default=60,
        metavar="SECONDS",
        help="shut down a visitor's kernel this long after its page is gone (no connection, no activity)",
    )
    parser.add_argument(
        "--pool",
        type=int,
        metavar="N",
        help="kernels kept started, with the app already run, for the next visitors (publish: 1, "
        "apps: 0, i.e. each visitor waits for a kernel)",
    )
    parser.add_argument(
        "--pool-max",
        type=int,
        default=0,
        metavar="N",
        help="let the pool grow up to N kernels while visitors find it empty (default: keep --pool)",
    )
    parser.add_argument(
        "--max-kernels",
        type=int,
        metavar="N",
        help="most kernels at once, pool included; more visitors get a 'busy, retrying' page "
        "(default: as many as fit in half this machine's memory at 400 MB each)",
    )
    parser.add_argument(
        "--queue-seconds",
        type=float,
        default=30,
        metavar="SECONDS",
        help="longest a visitor waits for a kernel before the busy page (default 30)",
    )


def _options(args: argparse.Namespace, pool: int):
    from ..publish.server import ServeOptions

    if args.timeout <= 0:
        raise AqtraError("--timeout must be a positive number of seconds", field="--timeout")
    if args.port < 0 or args.port > 65535:
        raise AqtraError(f"--port must be 0..65535, got {args.port}", field="--port")
    if args.pool is not None:
        if args.pool < 0:
            raise AqtraError(f"--pool must be 0 or more, got {args.pool}", field="--pool")
        pool = args.pool
    if args.max_kernels is not None and args.max_kernels < 1:
        raise AqtraError(f"--max-kernels must be 1 or more, got {args.max_kernels}", field="--max-kernels")
    if args.pool_max < 0:
        raise AqtraError(f"--pool-max must be 0 or more, got {args.pool_max}", field="--pool-max")
    if not args.queue_seconds >= 0:
        raise AqtraError("--queue-seconds must be 0 or more", field="--queue-seconds")
    token = os.environ.get(TOKEN_ENV) or None
    if token and args.public:
        raise AqtraError(f"--public serves without a token, but {TOKEN_ENV} sets one; choose one")
    return ServeOptions(
        port=args.port,
        ip=args.ip,
        public=args.public,
        token=token,
        timeout=args.timeout,
        cull_idle_seconds=max(0, args.cull_idle),
        pool=pool,
        pool_max=max(args.pool_max, pool) if args.pool_max else 0,
        max_kernels=args.max_kernels,
        queue_seconds=args.queue_seconds,
        gone_seconds=max(1.0, args.cull_gone),
    )


def _publish(args: argparse.Namespace) -> int:
    from ..publish.apps import app_source

    app = app_source(args.app)
    if args.export:
        from ..publish.export import export_html

        output = Path(args.output) if args.output else app.path.with_name(_stem(app.path) + ".html")
        export_html(app, output, timeout=args.timeout)
        print(f"wrote {output}")
        return 0
    if args.output:
        raise AqtraError("-o/--output is only used with --export html", field="--output")
    from ..publish.server import serve

    return serve([app], app.path.parent, _options(args, pool=1), single=True)


def _apps(args: argparse.Namespace) -> int:
    from ..publish.apps import find_apps
    from ..publish.server import serve

    folder = Path(args.directory).expanduser().resolve()
    return serve(find_apps(folder), folder, _options(args, pool=0), single=False)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".app.yaml", ".ipynb"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem
