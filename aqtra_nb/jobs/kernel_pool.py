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


def standby(kernel_name: str, tasks: int) -> int:
    """The body of a standby process: start the kernel, wait for one task on the `tasks` pipe (one JSON
    line), run it with the kernel. Exits without running anything when the pipe closes (the fork server
    ended) or the kernel dies (the fork server forks another standby). While the kernel boots, papermill
    is imported (forked standbys have it already)."""
    from . import child

    child.die_with_parent()
    try:
        os.setsid()
    except OSError:
        pass  # started as a session leader already (`worker.prestart`)
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


def _wait_for_task(tasks: int, kernel: WarmKernel) -> dict[str, Any] | None:
    data = b""
    while True:
        ready, _, _ = select.select([tasks], [], [], KERNEL_CHECK)
        if not ready:
            if not kernel.alive():
                return None
            continue
        chunk = os.read(tasks, 1 << 16)
        if not chunk:
            return None
        data += chunk
        if data.endswith(b"\n"):
            os.close(tasks)
            return json.loads(data)


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
