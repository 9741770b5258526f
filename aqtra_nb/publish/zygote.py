"""The kernel zygote: one process that has imported what a published dashboard's kernel needs
(ipykernel, IPython, pandas, ipywidgets, anywidget, the app's UI and engine modules) and forks a child
per kernel that becomes an `IPKernelApp` on the connection file its kernel manager wrote.

A visitor's kernel then starts with its imports done (and their pages shared with the zygote until
written) instead of paying a fresh interpreter, ~1 s of imports and the kernel's own start on a machine
that a crowd already keeps busy. Each child is still a process of its own, in a session of its own, with
its own working folder, environment, connection file and session key: nothing a visitor's code does
reaches another kernel, nor the zygote.

It is the jobs' fork server (`jobs/forkserver.py`) with another boot and another child body: the same
protocol (a task per line on stdin, `{"pid": N}` back, each child's exit code written to the task's
`exit` file once the zygote reaps it) and the same exit when the server's end of the pipe closes. The
zygote never starts a kernel app, an event loop or a thread of its own, so each fork is of a
single-threaded process. Once its imports are done it creates the file named by `AQTRA_ZYGOTE_READY`;
until then kernels start as new processes (`provisioner.py`, the kernel manager's side). What forked
kernels do share is what cannot differ after a fork: the interpreter's string-hash seed, and the step
cache's memory part as the zygote left it after running the published apps' flows once (`warm_up`;
each kernel's later runs are its own). The zygote's heap is frozen out of garbage collection before it
forks (`ServerLoop.loop`), so a kernel's collections neither walk it nor copy its pages.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import threading
from typing import Any

from ..jobs.forkserver import ServerLoop

# What a published dashboard's kernel imports: the kernel itself, then the app's modules (a notebook
# app imports a subset). Only imports: nothing here may start a thread or open a connection.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # the kernel's `debugger_class` trait imports it when the kernel is made
    "IPython.core.oinspect",
    "IPython.core.interactiveshell",
    "numpy",
    "pandas",
    "pyarrow",
    "ipywidgets",
    "anywidget",
    "dask.dataframe",
    "aqtra_nb.publish.page",
    "aqtra_nb.publish.query",
    "aqtra_nb.ui.app",
    "aqtra_nb.ui.build",
    "aqtra_nb.ui.resync",
    "aqtra_nb.engine.run",
    "aqtra_nb.components.registry",
    "aqtra_nb.components.inputs",
    "aqtra_nb.components.relational",
    "aqtra_nb.components.window",
    "aqtra_nb.recording",
    # A run recorded in the store (SQLAlchemy, its SQLite dialect, the migrations, the secrets' crypto).
    "aqtra_nb.store",
    "aqtra_nb.runs",
    "aqtra_nb.secrets",
    "sqlalchemy.dialects.sqlite",
    # A pre-heated kernel waits for its visitor with Voilà's `wait_for_request`: importing Voilà (and
    # jupyter_server, jupyter_events, jsonschema with its IRI grammars) took ~1.9 CPU s of every pooled
    # kernel in a crowd, more than the app's own start and run.
    "voila.utils",
    "websockets.asyncio.client",  # what `voila.utils`' `websockets.connect` imports on first use
)

READY_ENV = "AQTRA_ZYGOTE_READY"  # a file the zygote creates once its imports are done
WARM_ENV = "AQTRA_ZYGOTE_APPS"  # JSON list of the app specs whose flows the zygote runs once
WARM_SECONDS = 120  # longest wait for one app's first run

BOOT = (
    "import sys; sys.path[:1] = [] if sys.path and sys.path[0] == '' else sys.path[:1]; "
    "from aqtra_nb.publish.zygote import serve; serve()"
)


def serve() -> None:
    """The zygote's body: import, check it is single-threaded, then fork kernels on request."""
    import importlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C at the server's terminal is the server's
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part (anywidget, dask) not installed: its kernels import it
            pass
    warm_up(json.loads(os.environ.pop(WARM_ENV, "[]")))
    if threading.active_count() > 1:
        names = ", ".join(thread.name for thread in threading.enumerate())
        sys.exit(f"[aqtra-nb] kernel zygote: an import started threads ({names}); not forking kernels")
    ready = os.environ.pop(READY_ENV, None)
    if ready:
        open(ready, "w").close()  # noqa: SIM115 - an empty file: the zygote takes tasks now
    _Zygote().loop()


def warm_up(specs: list[str]) -> None:
    """Build each published app (`*.app.yaml`) and run its flows once at their defaults, as a visitor's
    kernel does first, then drop the widgets. Forked kernels inherit the step cache's memory part (their
    first run reads its steps from memory) and every code path the run took already ran once (lazy
    imports, first-call set-ups): a visitor's first run costs ~0.03 instead of ~0.25 CPU s. A failure
    only leaves the cache cold. Ends every thread the runs started: a fork copies only the forking
    thread, so a pool whose workers are gone would never run a child's work."""
    if not specs:
        return
    import tempfile

    import ipywidgets

    from ..resources import current
    from ..store import Store
    from ..store.recorder import flush_records, stop_writer
    from ..ui import App

    with tempfile.TemporaryDirectory(prefix="aqtra-zygote-") as folder:
        # Recorded, into a store of its own that is then thrown away: what a kernel's first recorded
        # run set up and compiled (SQLAlchemy's ORM statements, ~35 ms CPU a kernel) is done once, and
        # nothing of the zygote's appears in the run history.
        store = Store(f"sqlite:///{folder}/warm-up.db")
        try:
            for spec in specs:
                try:
                    app = App.from_yaml(spec, record=store)
                    if app.run_on_start:
                        app.start()
                        app.wait(WARM_SECONDS)
                except Exception as exc:  # noqa: BLE001 - a kernel then runs the app from a cold cache
                    print(
                        f"[aqtra-nb] kernel zygote: {spec} not pre-run ({exc})", file=sys.stderr, flush=True
                    )
                finally:
                    ipywidgets.Widget.close_all()  # no widget of the zygote's in a visitor's kernel
            flush_records(WARM_SECONDS)
        finally:
            stop_writer()
            store.close()
    cache = current().step_cache()
    if cache is not None:
        cache.drain()
    threaded: Any = sys.modules.get("dask.threaded")
    if threaded is not None:  # the in-memory engine's per-thread Dask pools (their threads ended)
        for pools in list(threaded.pools.values()):
            for pool in pools.values():
                pool.shutdown(wait=True)
        threaded.pools.clear()
        if threaded.default_pool is not None:
            threaded.default_pool.shutdown(wait=True)
            threaded.default_pool = None
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join(WARM_SECONDS)


class _Zygote(ServerLoop):
    """The fork server's loop and reaping; each task forks a kernel (and there are no standbys)."""

    def launch(self, line: bytes) -> int:
        task = json.loads(line)
        ready, started = os.pipe()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = self.fork(lambda: become_kernel(task, started), close=ready)
            self.exits[pid] = task["exit"]
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        os.close(started)
        # The pid is the kernel's process group only once it has its own session: wait for that, so
        # an interrupt sent at once reaches the right group (EOF also when it failed before).
        os.read(ready, 1)
        os.close(ready)
        return pid


def become_kernel(task: dict[str, Any], started: int) -> int:
    """In the forked child: a session of its own, the kernel manager's folder and environment, then
    the kernel app on the connection file (`task["argv"]` is the kernel spec's command after `python`).
    """
    os.setsid()
    os.write(started, b"1")
    os.close(started)
    os.dup2(2, 1)  # stdout was the zygote's reply pipe: the kernel prints where the server logs
    os.chdir(task["cwd"])
    os.environ.clear()
    os.environ.update(task["env"])
    # ipykernel exits when its parent goes: the parent it watches is the zygote, not the server (the
    # trait's default read JPY_PARENT_PID when the zygote imported it).
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    # No IPython history: a dashboard's kernel runs its notebook once, and 50 visitors' kernels would
    # each open (and lock, to write) the user's one history database, on a thread of their own.
    argv = [*task["argv"], f"--IPKernelApp.parent_handle={os.getppid()}", "--HistoryManager.enabled=False"]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _fresh_random_state()
    import ipykernel_launcher
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [ipykernel_launcher.__file__, *argv]
    try:
        app = IPKernelApp.instance()
        app.initialize(argv)
        _register_at_kernel_start()
        app.start()
    finally:
        atexit._run_exitfuncs()  # what a normal interpreter's exit runs (IPython saves its history)
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def _register_at_kernel_start() -> None:
    """What imported modules do when they are imported in a running kernel, done now that there is one:
    ipywidgets registers its comm targets at import only if IPython runs. Without them the page's
    widget manager cannot ask for all states at once (`jupyter.widget.control`) and falls back to one
    request per widget (100 round trips for the sales dashboard), and a widget the page creates fails."""
    widgets = sys.modules.get("ipywidgets")
    if widgets is not None:
        widgets.register_comm_target()


def _fresh_random_state() -> None:
    """Python's `random` reseeds in a forked child by itself; numpy's global generator does not, so two
    kernels would draw the same numbers."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
