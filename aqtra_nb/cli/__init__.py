"""`aqtra-nb`: run, validate and preview flows; list components; print the flow schema; make sample data.

User mistakes print one paragraph and exit 2; a failing step exits 1; never a bare traceback.

One module per command group (`flows.py`, `runs.py`, `jobs.py`, ...), each with `register(sub)`. A group's
module is imported only when one of its commands runs, or when every command is listed (`aqtra-nb
--help`, a mistyped command): `validate` and `run` import neither the store nor Jupyter.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from ..errors import AqtraError, StepFailed
from .common import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_USAGE

# Each group's module and its commands, in the order `aqtra-nb --help` lists them.
GROUPS = {
    "flows": ("run", "validate", "preview", "components", "schema", "sample-data", "demo"),
    "cache": ("cache",),
    "runs": ("runs",),
    "secrets": ("secrets",),
    "connections": ("connections",),
    "outbox": ("outbox",),
    "records": ("records",),
    "server": ("server",),
    "publish": ("publish", "apps"),
    "jobs": ("jobs", "scheduler"),
    "workflows": ("workflows", "tasks"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """One command: its settings and resources (store, secrets, connections) are made here, once."""
    from ..resources import Resources, use
    from ..settings import AqtraNb

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["server"] and not {"-h", "--help"} & set(argv[1:]):
        from .server import server

        return server(argv[1:])  # every other option is Jupyter's
    parser = _parser(argv[0] if argv else None)
    args, extra = parser.parse_known_args(argv)
    if extra and isinstance(getattr(args, "values", None), list) and all(_assignment(e) for e in extra):
        args.values += extra  # `records add E --json '{...}' field=value`: values after an option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    settings = AqtraNb()
    level = settings.log_level.upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        with use(Resources(settings)):
            return args.handler(args)
    except StepFailed as exc:
        _error(exc, args)
        return EXIT_FAILED
    except AqtraError as exc:
        _error(exc, args)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def console() -> NoReturn:
    """The `aqtra-nb` console script (and `python -m aqtra_nb.cli`): `main`, then a quick exit."""
    exit_quickly(main())


def exit_quickly(code: int) -> NoReturn:
    """End the process as `sys.exit(code)` would, less the interpreter tearing down its modules one by
    one: 0.1 s of every command (a recorded `run` imports about 1,300 modules). The steps of Python's own
    exit are taken in its order: wait for the other threads (and the thread pools' last work, e.g. the step
    cache's writes), run the exit handlers (logging, temporary folders, `weakref.finalize`), flush the
    standard streams; then `os._exit`. Where `threading._shutdown` (the first step's function) is not
    there, Python's own exit does it all."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is None:
        sys.exit(code)
    shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away (`| head`), or the stream was closed
            pass
    os._exit(code)


def _reader_went_away() -> int:
    """`aqtra-nb ... | head`: the reader closed the pipe. End quietly with the shell's status for SIGPIPE,
    stdout pointed at /dev/null so that flushing it at exit raises nothing either (Python's docs' recipe)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _assignment(text: str) -> bool:
    return "=" in text and not text.startswith("-")


def _error(exc: AqtraError, args: argparse.Namespace) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"status": "failed", "error": str(exc), "step": exc.step, "field": exc.field}))
    cause = exc.__cause__
    detail = ""
    if isinstance(exc, StepFailed) and cause is not None and getattr(args, "verbose", False):
        import traceback

        detail = "\n" + "".join(traceback.format_exception(cause))
    print(f"error: {exc}{detail}", file=sys.stderr)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `aqtra-nb`: with every group's commands, or (given a known command) with its group's."""
    parser = argparse.ArgumentParser(prog="aqtra-nb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = any(command in commands for commands in GROUPS.values())
    for group, commands in GROUPS.items():
        if not known or command in commands:
            importlib.import_module(f".{group}", __package__).register(sub)
    return parser
