"""Forked kernels for published servers: a jupyter_client kernel provisioner whose kernels are forked
by the kernel zygote (`zygote.py`) instead of started as new interpreters.

`ForkedKernelProvisioner` is jupyter_client's `LocalProvisioner` (ports, connection file, interrupts,
restarts, shutdown, kill and culling all work as for any local kernel) with one difference: its process
is a `ForkedKernel`, the zygote's child, not a `Popen`. The zygote reaps it and writes its exit code to
a file that `poll` reads. `aqtra-nb publish` selects it for its kernels
(`KernelProvisionerFactory.default_provisioner_name`); it is registered under the
`jupyter_client.kernel_provisioners` entry point as `aqtra-forked-provisioner`, so a kernel spec may
also name it.

A kernel whose command is not this interpreter's `-m ipykernel_launcher`, or a zygote that cannot start
(or exits), means a normal kernel start, said once in the server's log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from jupyter_core.paths import jupyter_runtime_dir

from ..jobs.forkserver import ForkServer
from .zygote import BOOT, READY_ENV, WARM_ENV

logger = logging.getLogger(__name__)

NAME = "aqtra-forked-provisioner"
LAUNCHER = ("-m", "ipykernel_launcher")


class ForkedKernel:
    """The `Popen` surface LocalProvisioner uses (poll, wait, send_signal, kill, terminate, pid), for a
    process that is the zygote's child: its exit code comes from the file the zygote writes."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, exit_file: Path) -> None:
        self.pid = pid
        self.exit_file = exit_file
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = int(self.exit_file.read_text())
                self.exit_file.unlink(missing_ok=True)
            except (OSError, ValueError):  # not reaped yet (or being written)
                if not psutil.pid_exists(self.pid):  # the zygote died before it could reap it
                    self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Blocking, like `Popen.wait`; LocalProvisioner calls it only once `poll` has an exit code."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"kernel process {self.pid} still running")
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # never a signal to a reaped pid that another process may have now
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Zygote:
    """This server process's kernel zygote: started once (`start`), used by every forked kernel."""

    def __init__(self) -> None:
        # Under the server's runtime folder (AQTRA_HOME's for a published server), not /tmp: a server
        # killed with SIGKILL leaves it where its other runtime files are.
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True)
        self._exits = Path(tempfile.mkdtemp(prefix="aqtra-kernel-exits-", dir=runtime))
        self._ready = self._exits / "ready"
        self._warm: list[str] = []
        self._server = ForkServer(
            boot=BOOT,
            environment=lambda: {
                **os.environ,
                READY_ENV: str(self._ready),
                WARM_ENV: json.dumps(self._warm),
            },
        )
        self._lock = threading.Lock()
        self._started = False
        self.broken: str | None = None  # why forking is off for this server

    def start(self, warm: Sequence[str] = ()) -> None:
        """Start importing now (the first kernel start then waits less), then run the flows of the app
        specs `warm` once (`zygote.warm_up`)."""
        with self._lock:
            if not self._started:
                self._warm = [str(spec) for spec in warm]
                self._server.start()
                self._started = True

    def ready(self) -> bool:
        """Its imports are done: a fork now does not wait for them. RuntimeError when it exited."""
        if self._server.exited():
            raise RuntimeError("the kernel zygote exited")
        return self._ready.exists()

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
        """A kernel forked on `argv` (after `python`); RuntimeError when the zygote is gone."""
        self.start()
        exit_file = self._exits / uuid.uuid4().hex
        pid = self._server.launch({"argv": argv, "env": env, "cwd": cwd, "exit": str(exit_file)})
        return ForkedKernel(pid, exit_file)

    def close(self) -> None:
        self._server.close()
        shutil.rmtree(self._exits, ignore_errors=True)


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote() -> Zygote:
    """The process's zygote (made on first use)."""
    global _zygote
    with _zygote_lock:
        if _zygote is None:
            _zygote = Zygote()
        return _zygote


def close_zygote() -> None:
    global _zygote
    with _zygote_lock:
        if _zygote is not None:
            _zygote.close()
            _zygote = None


def forkable(cmd: list[str]) -> bool:
    """A kernel command the zygote can become: this interpreter running `-m ipykernel_launcher`."""
    if len(cmd) < 3 or tuple(cmd[1:3]) != LAUNCHER:
        return False
    try:
        return os.path.samefile(shutil.which(cmd[0]) or cmd[0], sys.executable)
    except OSError:
        return False


class ForkedKernelProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel process is forked by the zygote when it can be."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        forks = zygote()
        if forks.broken is None and forkable(cmd):
            env = {**os.environ, **(kwargs.get("env") or {})}
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                forks.start()
                # While it imports (the server just started) a kernel, the pool's first as a rule,
                # starts as a new process rather than waiting for it.
                ready = forks.ready()
                process = await asyncio.to_thread(forks.fork, cmd[3:], env, cwd) if ready else None
            except (RuntimeError, OSError, ValueError) as exc:
                forks.broken = str(exc) or type(exc).__name__
                self.log.warning(
                    "[aqtra-nb] the kernel zygote is not available (%s): kernels start as new "
                    "processes (slower under a crowd)",
                    forks.broken,
                )
            else:
                if process is None:
                    self.log.info("[aqtra-nb] the kernel zygote is still importing: a new process")
                    return await super().launch_kernel(cmd, **kwargs)
                # LocalProvisioner's process is typed Popen; it uses only what ForkedKernel has
                self.process = process  # type: ignore[assignment]
                self.pid = self.pgid = process.pid  # the child made its own session before the reply
                self.cwd = cwd
                return self.connection_info
        elif forks.broken is None:
            self.log.info("[aqtra-nb] kernel command %s is not forkable: a new process", cmd[:3])
        return await super().launch_kernel(cmd, **kwargs)
