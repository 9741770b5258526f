"""The process one job run lives in: a notebook through papermill, or a flow through the engine.

This module imports nothing of aqtra_nb at module level: a worker can start it as a plain script
(`runpy.run_path`) and pay for papermill's imports only, as bare `papermill` does. A run's outcome goes
to `result.json` in the run folder; its stdout and stderr (and the kernel's) to the run log. The
supervising worker records the status from that file, or `crashed` if the process died without one.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger("aqtra_nb.jobs.child")

SUCCEEDED, FAILED, TIMED_OUT = "succeeded", "failed", "timed_out"


# -- papermill with a whole-run time limit -----------------------------------------------------------------


class KernelWatch:
    """Remembers the kernels papermill starts, so a run past its time limit can kill them (with their
    process group: whatever a cell started goes too). nbclient then sees a dead kernel and stops."""

    def __init__(self) -> None:
        self.managers: list[Any] = []
        self.fired = False

    def manager_class(self) -> type:
        from jupyter_client.manager import AsyncKernelManager

        watch = self

        transport = kernel_transport()

        class WatchedKernelManager(AsyncKernelManager):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("transport", transport)
                if kwargs["transport"] == "ipc":
                    # jupyter_client names ipc sockets after the connection file, or "kernel-ipc-N" in the
                    # working folder when it has none yet: two runs starting together in one folder then
                    # share sockets ("Invalid Signature"). A prefix of this kernel's own keeps them apart.
                    kwargs.setdefault("ip", ipc_prefix())
                super().__init__(*args, **kwargs)
                watch.managers.append(self)

        return WatchedKernelManager

    def kill(self) -> None:
        self.fired = True
        for manager in self.managers:
            pid = kill_kernel(manager)
            logger.warning("run time limit reached: killed kernel pid %s", pid)


def kill_kernel(manager: Any) -> int | None:
    """SIGKILL a kernel manager's kernel with its process group (what its cells started too), at once;
    returns the kernel's pid (None when it had none)."""
    provisioner = getattr(manager, "provisioner", None)
    pid, pgid = getattr(provisioner, "pid", None), getattr(provisioner, "pgid", None)
    try:
        if pgid:
            os.killpg(pgid, signal.SIGKILL)
        elif pid:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return pid


def kernel_transport() -> str:
    """`ipc` (Unix sockets beside the connection file) where it can be: no ports to race for when runs
    start together, and no "running over TCP without encryption" warning in the run log. The socket
    paths must stay under the 107-byte limit of a Unix socket address, else `tcp`."""
    if os.name != "posix":
        return "tcp"
    from jupyter_core.paths import jupyter_runtime_dir

    return "ipc" if len(jupyter_runtime_dir()) <= 50 else "tcp"


def ipc_prefix() -> str:
    """A path prefix of one kernel's Unix sockets, unique to it, in Jupyter's runtime folder (0700)."""
    import uuid

    from jupyter_core.paths import jupyter_runtime_dir

    folder = jupyter_runtime_dir()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return os.path.join(folder, f"aqtra-{uuid.uuid4().hex[:12]}-ipc")


def run_papermill(
    path: str,
    output_path: str,
    parameters: dict[str, Any],
    *,
    kernel: str | None,
    timeout: float | None,
    stream: Any,
    cwd: str,
    warm: Any = None,
) -> dict[str, Any]:
    """Execute with papermill; returns {status, error, seconds, failed_cell}. Never raises for what
    happens in the notebook: a raising cell is `failed`, a run past `timeout` is `timed_out`. `warm`, a
    `kernel_pool.WarmKernel`, is a kernel started for this run ahead of time (else papermill starts one)."""
    import papermill

    watch = warm.watch if warm is not None else KernelWatch()
    manager = {"km": warm.manager} if warm is not None else {}
    timer = threading.Timer(timeout, watch.kill) if timeout else None
    started = time.perf_counter()
    status, error = SUCCEEDED, None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                papermill.execute_notebook(
                    path,
                    output_path,
                    parameters=parameters,
                    kernel_name=kernel,
                    progress_bar=False,
                    stdout_file=stream,
                    stderr_file=stream,
                    cwd=cwd,
                    kernel_manager_class=watch.manager_class(),
                    **manager,
                )
            except papermill.PapermillExecutionError as exc:
                status, error = FAILED, f"{exc.ename}: {exc.evalue}"
            except Exception as exc:  # a dead kernel, a kernel that does not start, a broken notebook
                if _died_starting(exc) and attempt < KERNEL_START_ATTEMPTS and not watch.fired:
                    # No cell ran: a kernel lost at start (e.g. two kernels racing for the same ports
                    # when runs start together) is started again.
                    stream.write(f"[aqtra-nb] kernel died while starting ({exc}); starting it again\n")
                    stream.flush()
                    manager = {}  # a fresh kernel, not the warm one again
                    continue
                status, error = FAILED, f"{type(exc).__name__}: {exc}"
            break
    finally:
        if timer is not None:
            timer.cancel()
    if watch.fired:
        status, error = TIMED_OUT, f"run exceeded its time limit of {timeout:g} s; kernel killed"
    if error:
        stream.write(f"\n[aqtra-nb] {status}: {error}\n")
        stream.flush()
    failed_cell = mark_failure(Path(output_path), status, error) if status != SUCCEEDED else None
    return {
        "status": status,
        "error": error,
        "seconds": time.perf_counter() - started,
        "failed_cell": failed_cell,
    }


KERNEL_START_ATTEMPTS = 3


def _died_starting(exc: Exception) -> bool:
    return "before replying to kernel_info" in str(exc)


def mark_failure(output_path: Path, status: str, error: str | None) -> int | None:
    """The index of the cell that failed; a cell cut off by a timeout or a dead kernel gets an error output
    and papermill's failure marker, so the output notebook shows where the run stopped."""
    if not output_path.exists():
        return None
    document = json.loads(output_path.read_text(encoding="utf-8"))
    cells = document.get("cells", [])
    for index, cell in enumerate(cells):
        meta = (cell.get("metadata") or {}).get("papermill") or {}
        if meta.get("exception") or any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index
    started = [
        i
        for i, cell in enumerate(cells)
        if cell.get("cell_type") == "code"
        and ((cell.get("metadata") or {}).get("papermill") or {}).get("start_time")
    ]
    for index in started[-1:]:  # the cell that was running when the kernel was killed or died
        cell = cells[index]
        cell["metadata"]["papermill"].update(exception=True, status="failed")
        ename = "TimeoutError" if status == TIMED_OUT else "DeadKernelError"
        cell.setdefault("outputs", []).append(
            {"output_type": "error", "ename": ename, "evalue": error or "", "traceback": [error or ""]}
        )
        document.setdefault("metadata", {}).setdefault("papermill", {})["exception"] = True
        output_path.write_text(json.dumps(document, indent=1), encoding="utf-8")
        return index
    return None


# -- the run process ---------------------------------------------------------------------------------------


def main(task: dict[str, Any], warm: Any = None) -> int:
    """Run one task (a dict from the worker) in this process; the outcome goes to `task["result"]`.
    `warm`: the kernel a standby process started for it (`kernel_pool`)."""
    without_iri_syntax_checks()
    _detach(task["log"])
    if task["kind"] == "notebook":
        environment = _export_settings(task)
        if warm is not None:
            warm = _prepared(warm, task, environment)
        with open(task["log"], "a", encoding="utf-8", buffering=1) as stream:
            outcome = run_papermill(
                task["target"],
                task["output"],
                task["parameters"],
                kernel=task.get("kernel"),
                timeout=task.get("timeout"),
                stream=stream,
                cwd=task["cwd"],
                warm=warm,
            )
        outcome["warm_kernel"] = warm is not None
        if warm is not None:
            warm.shutdown()  # papermill leaves a kernel it did not start running
            warm.hand_output_to(task["log"])
        if task.get("html") and Path(task["output"]).exists():
            return _report_then_render(task, outcome)
    else:
        from aqtra_nb.jobs.flow_run import run_flow_task

        outcome = run_flow_task(task)
    _report(task, outcome)
    return 0


def _report(task: dict[str, Any], outcome: dict[str, Any]) -> None:
    tmp = task["result"] + ".tmp"
    Path(tmp).write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(tmp, task["result"])


def _report_then_render(task: dict[str, Any], outcome: dict[str, Any]) -> int:
    """For a one-shot supervisor (`jobs run --wait`, `html` in the task): report the outcome with the
    HTML copy's path, which the supervisor records and returns on, then make the copy here (nbformat is
    loaded; the cold supervisor would import it and nbconvert while the user waits). This process
    outlives the supervisor for that: it no longer dies with it."""
    from aqtra_nb.jobs.html import render_html

    output = Path(task["output"])
    outcome["html"] = str(output.with_suffix(".html"))
    _die_with_parent(False)
    _report(task, outcome)
    if render_html(output) is None:
        print("[aqtra-nb] the HTML copy could not be made (see above)", file=sys.stderr, flush=True)
    return 0


def _prepared(warm: Any, task: dict[str, Any], environment: dict[str, str]) -> Any:
    """The warm kernel, in the run's folder with its settings; None (papermill starts a kernel) if it
    died since it started or cannot be prepared."""
    try:
        if warm.alive():
            warm.prepare(task["cwd"], environment)
            return warm
    except Exception as exc:
        print(f"[aqtra-nb] the warm kernel failed ({exc}); starting a fresh one", flush=True)
    warm.shutdown()
    warm.hand_output_to(task["log"])
    return None


def _export_settings(task: dict[str, Any]) -> dict[str, str]:
    """The notebook's kernel reads its settings from the environment: the supervisor's, with its store,
    and this run as the parent of the runs it records. Returns what was set."""
    from aqtra_nb.settings import AqtraNb

    overrides = {"database_url": task["store_url"]} if task.get("store_url") else {}
    overrides["parent_run"] = task["run_id"]  # flow runs the notebook records are this run's children
    environment = AqtraNb().environment(**overrides)
    os.environ.update(environment)
    return environment


def _detach(log: str) -> None:
    """Own process group (the worker kills the group), output into the log, and die with the parent."""
    try:
        os.setsid()
    except OSError:
        pass  # already a session leader (started with start_new_session)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    die_with_parent()


def die_with_parent() -> None:
    _die_with_parent(True)


def _die_with_parent(yes: bool) -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(
                1, signal.SIGKILL if yes else 0
            )  # PR_SET_PDEATHSIG
        except OSError:
            pass


def warm() -> None:
    """Imports a run process would otherwise pay for after its task came (in the fork server, and in a
    standby started on its own while its kernel boots)."""
    without_iri_syntax_checks()
    import jupyter_client.manager  # noqa: F401
    import papermill  # noqa: F401

    import aqtra_nb.settings  # noqa: F401  (the kernel's settings: `_export_settings`)


def without_iri_syntax_checks() -> None:
    """Importing jsonschema (nbformat does, so papermill does) imports `rfc3987_syntax` when it is
    installed (jupyter-events asks for it), which builds its Lark grammars there and then: 0.65 s, most of
    papermill's import. They serve only the `iri` formats of a format checker, which nbformat, nbclient
    and papermill never use. A run process refuses that import (a None in `sys.modules` is an ImportError,
    which jsonschema takes as the package missing). Never in a server: jupyter-events checks formats."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[-1])))
