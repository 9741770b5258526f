"""A fork server: one single-threaded process that has imported papermill and the engine, and forks a
fresh process for each run. A run then starts in milliseconds instead of paying seconds of imports, and
is still a process of its own with its own kernel.

(multiprocessing's forkserver re-imports the parent's `__main__` in every child, which costs as much as
it saves under pytest, Jupyter or a console script; this one takes a task and forks, nothing else.)

Protocol over the server's stdin/stdout, one JSON object per line: task in, `{"pid": N}` out. The server
reaps its children and writes each exit code to the task's `exit` file. When the scheduler's end of the
pipe closes (it exited or was killed) the server exits, and its runs die with it (PDEATHSIG), so a lost
scheduler's runs are reported `crashed` by the next one rather than finishing unrecorded.

For each kernel name notebook runs have used, the server keeps one standby run process whose kernel is
already started (`kernel_pool.py`): the next run of that kernel is handed to it, skipping the kernel
start, and another standby is forked. Each standby serves one run, so no run sees another's kernel.

What the server has imported and warmed up is frozen out of garbage collection (`gc.freeze()`) before
its first fork, as CPython documents for processes that fork without exec: a child's full collection
would otherwise walk every inherited object (~330,000 in the kernel zygote, ~0.15 s) and, writing to
their headers, copy the pages they live on (~80 MB a child that forking had shared).
"""

from __future__ import annotations

import functools
import gc
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_BOOT = "from aqtra_nb.jobs.forkserver import serve; serve()"


class ForkServer:
    """The scheduler's handle on its fork server (started on first use, shared by the run threads)."""

    def __init__(self, boot: str = _BOOT, environment: Callable[[], dict[str, str]] | None = None) -> None:
        """`boot`: the server's code (`python -c`), `environment`: its environment (default: the run
        settings of `worker.child_environment`). Published servers' kernel zygote reuses both ends
        (`publish/zygote.py`)."""
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._boot = boot
        self._environment = environment

    def start(self) -> None:
        """Start the server now (it warms up while the scheduler does its first ticks)."""
        with self._lock:
            self._start()

    def _start(self) -> subprocess.Popen[str]:
        """The running server, started if it is not (or no longer) running."""
        if self._process is None or self._process.poll() is not None:
            from .worker import child_environment

            self._process = subprocess.Popen(
                [sys.executable, "-c", self._boot],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
                # the settings of the process that starts it, for every run
                env=(self._environment or child_environment)(),
            )
        return self._process

    def exited(self) -> bool:
        """Whether the server was started and has exited."""
        return self._process is not None and self._process.poll() is not None

    def launch(self, task: dict[str, Any]) -> int:
        with self._lock:
            process = self._start()
            assert process.stdin is not None and process.stdout is not None  # both pipes
            process.stdin.write(json.dumps(task) + "\n")
            process.stdin.flush()
            reply = process.stdout.readline()
        if not reply:
            raise RuntimeError("the fork server exited")
        return int(json.loads(reply)["pid"])

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                assert self._process.stdin is not None  # a pipe
                self._process.stdin.close()
                self._process.wait(10)
            self._process = None


def serve() -> None:
    """The server's loop (runs in the fork server process)."""
    from . import child

    child.warm()
    from . import flow_run

    flow_run.warm()
    ServerLoop().loop()


class ServerLoop:
    """Forks a run process per task; for each kernel name runs have used, keeps a standby run process
    with its kernel started (`kernel_pool`), handed the next task of that kernel."""

    def __init__(self) -> None:
        self.exits: dict[int, str] = {}  # run process -> its exit code file
        self.standbys: dict[str, tuple[int, int]] = {}  # kernel name -> (pid, write end of its task pipe)
        self.wanted: set[str] = set()
        self.failures: dict[str, int] = {}  # standbys of a kernel that ended unused since its last run
        self.ended: set[int] = set()  # reaped processes that were no run (standbys)
        signal.signal(signal.SIGCHLD, self.reap)

    def reap(self, *_: object) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            path = self.exits.pop(pid, None)
            if path:
                Path(path + ".tmp").write_text(str(os.waitstatus_to_exitcode(status)))
                os.replace(path + ".tmp", path)
            else:
                self.ended.add(pid)

    def loop(self) -> None:
        gc.freeze()  # everything so far lives as long as this process: children's collections skip it
        buffer = b""
        while True:
            ready, _, _ = select.select([0], [], [], STANDBY_CHECK)
            self.replenish()
            if not ready:
                continue
            chunk = os.read(0, 1 << 16)
            if not chunk:  # the scheduler is gone
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                pid = self.launch(line)
                sys.stdout.write(json.dumps({"pid": pid}) + "\n")
                sys.stdout.flush()
                self.replenish()
        self.close()

    def launch(self, line: bytes) -> int:
        from . import child, kernel_pool

        task = json.loads(line)
        name = kernel_pool.kernel_name(task)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = self._hand_to_standby(name, line) if name in self.standbys else None
            if pid is None:
                pid = self.fork(lambda: child.main(task))
            self.exits[pid] = task["exit"]
            if name is not None:
                self.wanted.add(name)
                self.failures[name] = 0
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        return pid

    def _hand_to_standby(self, name: str, line: bytes) -> int | None:
        pid, tasks = self.standbys.pop(name)
        try:
            if pid in self.ended:
                return None
            os.write(tasks, line + b"\n")
            return pid
        except BrokenPipeError:  # it ended a moment ago (its kernel died): a cold start instead
            return None
        finally:
            os.close(tasks)

    def replenish(self) -> None:
        """A standby for every kernel name runs have used, in place of those taken or ended."""
        from . import kernel_pool

        for name, (pid, tasks) in list(self.standbys.items()):
            if pid in self.ended:  # its kernel died (or never started)
                os.close(tasks)
                del self.standbys[name]
                self.failures[name] = self.failures.get(name, 0) + 1
                if self.failures[name] >= STANDBY_ATTEMPTS:  # a kernel that will not start: not again
                    self.wanted.discard(name)  # until a run of it (started cold) asks for one
        self.ended.clear()
        for name in sorted(self.wanted - self.standbys.keys()):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
            try:
                read, write = os.pipe()
                pid = self.fork(functools.partial(kernel_pool.standby, name, read), close=write)
                os.close(read)
                self.standbys[name] = (pid, write)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})

    def fork(self, body: Callable[[], int], close: int | None = None) -> int:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            # the write ends of standbys' task pipes are the server's alone: a standby sees its close
            for tasks in [tasks for _, tasks in self.standbys.values()] + (
                [close] if close is not None else []
            ):
                os.close(tasks)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            code = 1
            try:
                code = body()
            finally:
                os._exit(code)
        return pid

    def close(self) -> None:
        """Standbys see their pipe close, stop their kernels and exit; wait a little for them."""
        pids = {pid for pid, _ in self.standbys.values()}
        for _, tasks in self.standbys.values():
            os.close(tasks)
        self.standbys.clear()
        deadline = time.monotonic() + 10
        while pids - self.ended and time.monotonic() < deadline:
            time.sleep(0.05)


STANDBY_CHECK = 1.0  # seconds between looks for standbys to replace while no task comes
STANDBY_ATTEMPTS = 3
