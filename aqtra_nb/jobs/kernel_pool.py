"""Warm kernels for the fork server: per kernel name, one run process forked ahead of time that has
started its kernel and waits for a task. A run of that kernel takes it (the kernel start, most of a
trivial notebook's run, is already done) and the fork server forks the next one. Each standby serves one
run and ends with it, so every run still gets a fresh kernel of its own, a child of its run process as a
cold start's is (killed with it, at a time limit, on cancel).

The kernel starts before its run is known, so the run's folder and settings reach it as a first, silent
execution (`os.chdir`, `os.environ`); its own process output goes to a file that is added to the run's
log when the run ends. A standby whose kernel dies exits; the fork server forks another.

Imports nothing of aqtra_nb at module level (it runs in the fork server's children).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_CHECK = 1.0  # seconds between checks that a waiting standby's kernel is alive
KERNEL_DIED = 3  # a standby's exit code when its kernel died before a task came


class WarmKernel:
    """A started kernel (its manager and the KernelWatch that made it) and the file its output went to."""

    def __init__(self, kernel_name: str) -> None:
        from jupyter_core.utils import run_sync

        from .child import KernelWatch

        self.output = Path(tempfile.mkstemp(prefix="aqtra-standby-", suffix=".log")[1])
        fd = os.open(self.output, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, 1)  # the kernel inherits these; the run's log is not known yet
        os.dup2(fd, 2)
        os.close(fd)
        self.watch = KernelWatch()
        self.manager = self.watch.manager_class()(kernel_name=kernel_name)
        run_sync(self.manager.start_kernel)()
        self.client: Any = None

    def connect(self) -> None:
        """A client connected and the kernel answering, before the run comes (`prepare` then only
        executes)."""
        from jupyter_core.utils import run_sync

        run_sync(self._connect)()

    async def _connect(self) -> None:
        self.client = self.manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)

    def alive(self) -> bool:
        process = getattr(self.manager.provisioner, "process", None)
        return process is not None and process.poll() is None

    def prepare(self, cwd: str, environment: dict[str, str]) -> None:
        """Give the kernel the run's working folder and settings before the notebook's first cell."""
        from jupyter_core.utils import run_sync

        code = f"import os as _os\n_os.chdir({cwd!r})\n_os.environ.update({environment!r})\ndel _os"
        run_sync(self._execute)(code)

    async def _execute(self, code: str) -> None:
        if self.client is None:
            await self._connect()
        try:
            reply = await self.client.execute_interactive(code, silent=True, store_history=False, timeout=60)
        finally:
            self.client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"preparing the warm kernel failed: {reply['content']}")

    def shutdown(self) -> None:
        """Kill the kernel and its process group at once (it served its one run, nothing in it is kept;
        jupyter_client's shutdown interrupts and waits first: 0.1 s a run), then remove its connection
        file and sockets."""
        from jupyter_core.utils import run_sync

        from .child import kill_kernel

        kill_kernel(self.manager)
        try:
            run_sync(self.manager.cleanup_resources)()
        except Exception:  # nothing left to remove
            pass

    def hand_output_to(self, log: str) -> None:
        """Append what the kernel process printed to the run's log; the file is removed."""
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace")
            if text:
                with open(log, "a", encoding="utf-8") as stream:
                    stream.write(text)
        finally:
            self.output.unlink(missing_ok=True)


def standby(kernel_name: str | None, tasks: int) -> int:
    """The body of a standby process: start the kernel, wait for one task on the `tasks` pipe (one JSON
    line), run it with the kernel. Exits without running anything when the pipe closes (the fork server
    ended) or the kernel dies (the fork server forks another standby). While the kernel boots, papermill
    is imported (forked standbys have it already).

    `kernel_name` None: started before its job was read (`start_standby`); the name comes first on the
    pipe, a line of its own. An empty name: no kernel to start (a flow, a notebook that names none), the
    task is run as a cold run process runs it."""
    from . import child

    child.die_with_parent()
    try:
        os.setsid()
    except OSError:
        pass  # started as a session leader already (`start_standby`)
    if kernel_name is None:
        import jupyter_client.manager  # noqa: F401  (what starting the kernel needs, while its name comes)

        kernel_name = _read_line(tasks)
        if kernel_name is None:  # the supervisor gave up first (no such job, bad parameters)
            return KERNEL_DIED
        if not kernel_name:
            task = _wait_for_task(tasks, None)
            return KERNEL_DIED if task is None else child.main(task)
    try:
        kernel = WarmKernel(kernel_name)
    except Exception as exc:  # no such kernel, or it would not start: cold starts will say why
        print(f"[aqtra-nb] warm kernel {kernel_name!r} did not start: {exc}", file=sys.stderr)
        return KERNEL_DIED
    child.warm()  # a no-op in the fork server's standbys: forked with these imported
    try:
        kernel.connect()
    except Exception as exc:  # it died booting
        print(f"[aqtra-nb] warm kernel {kernel_name!r} did not answer: {exc}", file=sys.stderr)
        kernel.shutdown()
        return KERNEL_DIED
    task = _wait_for_task(tasks, kernel)
    if task is None:
        kernel.shutdown()
        kernel.output.unlink(missing_ok=True)
        return KERNEL_DIED
    return child.main(task, warm=kernel)


def _wait_for_task(tasks: int, kernel: WarmKernel | None) -> dict[str, Any] | None:
    data = b""
    while True:
        ready, _, _ = select.select([tasks], [], [], KERNEL_CHECK)
        if not ready:
            if kernel is not None and not kernel.alive():
                return None
            continue
        chunk = os.read(tasks, 1 << 16)
        if not chunk:
            return None
        data += chunk
        if data.endswith(b"\n"):
            os.close(tasks)
            return json.loads(data)


def _read_line(tasks: int) -> str | None:
    """One line from the pipe, a byte at a time (the task after it stays in the pipe); None at its end."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(tasks, 1)
        if not byte:
            return None
        line += byte
    return line[:-1].decode()


def start_standby(store_url: str | None, kernel: str | None = None) -> subprocess.Popen:
    """A standby run process started on its own, before its run is known: a one-shot supervisor's (`jobs
    run --wait`), so that its Python, its imports and its kernel start while the supervisor opens the store,
    checks the parameters and queues the run. Without `kernel`, `name_kernel` gives the name when the job
    has been read; the task then goes to its stdin (`worker.RunProcess`); closing stdin unused ends it."""
    boot = "import sys; from aqtra_nb.jobs.kernel_pool import standby; sys.exit(standby((sys.argv[1:] or [None])[0], 0))"
    return subprocess.Popen(
        [sys.executable, "-c", boot, *([kernel] if kernel is not None else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=child_environment(store_url),
    )


def name_kernel(process: subprocess.Popen, kernel: str | None) -> None:
    """Tell a standby started without a kernel name which kernel to start (None: none, a plain run
    process). A standby that has ended is left for the hand-over to notice (`worker._hand_over`)."""
    try:
        process.stdin.write(f"{kernel or ''}\n".encode())  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
    except (BrokenPipeError, ValueError):
        pass


def child_environment(store_url: str | None = None) -> dict[str, str]:
    """The environment of a process this one starts: ours, with the current settings (and the run's
    store) as `AQTRA_*` variables, so that it reads the settings this process was given."""
    from ..resources import current

    overrides = {"database_url": store_url} if store_url else {}
    return {**os.environ, **current().settings.environment(**overrides)}


def kernel_name(task: dict[str, Any]) -> str | None:
    """The kernel a notebook task runs on: the job's, else the notebook's own (as papermill picks it);
    None for flows and notebooks that name none."""
    if task.get("kind") != "notebook":
        return None
    if task.get("kernel"):
        return task["kernel"]
    try:
        document = json.loads(Path(task["target"]).read_text(encoding="utf-8"))
        return document["metadata"]["kernelspec"]["name"] or None
    except (OSError, ValueError, KeyError, TypeError):
        return None
