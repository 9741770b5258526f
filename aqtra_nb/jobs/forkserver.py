"""A fork server: one single-threaded process that has imported papermill and the engine, and forks a
fresh process for each run. A run then starts in milliseconds instead of paying seconds of imports, and
is still a process of its own with its own kernel.

(multiprocessing's forkserver re-imports the parent's `__main__` in every child, which costs as much as
it saves under pytest, Jupyter or a console script; this one takes a task and forks, nothing else.)

Protocol over the server's stdin/stdout, one JSON object per line: task in, `{"pid": N}` out. The server
reaps its children and writes each exit code to the task's `exit` file. When the scheduler's end of the
pipe closes (it exited or was killed) the server exits, and its runs die with it (PDEATHSIG), so a lost
scheduler's runs are reported `crashed` by the next one rather than finishing unrecorded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

_BOOT = "from aqtra_nb.jobs.forkserver import serve; serve()"


class ForkServer:
    """The scheduler's handle on its fork server (started on first use, shared by the run threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server now (it warms up while the scheduler does its first ticks)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._process is None or self._process.poll() is not None:
            from .worker import child_environment

            self._process = subprocess.Popen(
                [sys.executable, "-c", _BOOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
                env=child_environment(),  # the settings of the process that starts it, for every run
            )

    def launch(self, task: dict[str, Any]) -> int:
        with self._lock:
            self._start()
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(task) + "\n")
            self._process.stdin.flush()
            reply = self._process.stdout.readline()
        if not reply:
            raise RuntimeError("the fork server exited")
        return int(json.loads(reply)["pid"])

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.stdin.close()
                self._process.wait(10)
            self._process = None


def serve() -> None:
    """The server's loop (runs in the fork server process)."""
    from . import child

    child.warm()
    from . import flow_run

    flow_run.warm()

    exits: dict[int, str] = {}

    def reap(*_: object) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            path = exits.pop(pid, None)
            if path:
                Path(path + ".tmp").write_text(str(os.waitstatus_to_exitcode(status)))
                os.replace(path + ".tmp", path)

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        task = json.loads(line)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            code = 1
            try:
                code = child.main(task)
            finally:
                os._exit(code)
        exits[pid] = task["exit"]
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()
