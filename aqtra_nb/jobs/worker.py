"""Running one claimed run: a fresh process per run (with its own kernel), supervised until it ends.

The supervisor heartbeats the run row, kills the run's process tree (kernel included) at its time limit
or when a cancel is requested, and records the outcome: the status the run process wrote to its result
file, or `crashed` if it died without one. Output notebooks are rendered to HTML here, after the status
is recorded, so a run is not slowed by nbconvert (a one-shot supervisor, `jobs run --wait`, has the run
process render it: nbformat is loaded there already). The same `supervise` runs in the local pool (threads
of the scheduler, run processes forked from a warm fork server) and as a Dask task on a cluster worker
(run processes started from scratch)."""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..private_files import private_file, private_folder
from ..resources import current
from ..spec.status import RunStatus
from ..store import Store
from ..store.job_models import Job
from ..store.models import Run
from . import child
from .claims import add_artifact, finish_run, heartbeat
from .forkserver import ForkServer
from .kernel_pool import child_environment

logger = logging.getLogger(__name__)

Launcher = Literal["fork", "spawn"]
KILL_GRACE = 10.0  # seconds past the time limit before the worker kills a run that did not stop itself


def open_store(url: str | None) -> Store:
    """The store at `url`, else the current resources' (a Dask worker's own settings)."""
    return current().store if url is None else _store_at(url)


@functools.lru_cache(maxsize=8)
def _store_at(url: str) -> Store:
    # one store per process and URL: a Dask worker reuses it across runs
    return Store(url, upgrade=False)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def runs_dir() -> Path:
    return current().runs_dir()


def run_files(folder: Path, *, events: bool) -> dict[str, str | None]:
    """Where a run process writes, in its run folder: log, result, exit code and (flows) events."""
    return {
        "log": str(folder / "run.log"),
        "result": str(folder / "result.json"),
        "exit": str(folder / "exit_code"),
        "events": str(folder / "events.jsonl") if events else None,
    }


def build_task(store: Store, run_id: str, store_url: str | None) -> dict[str, Any]:
    """Everything the run process needs, as plain data (it opens no database for notebooks)."""
    with store.session() as session:
        run = session.get(Run, run_id)
        job = session.get(Job, run.job_id) if run is not None and run.job_id is not None else None
        if run is None or job is None:
            raise LookupError(f"run {run_id} or its job no longer exists")
        spec = dict(job.spec)
        folder = private_folder(runs_dir() / run_id)
        private_file(folder / "run.log")
        target = Path(job.target)
        return {
            "run_id": run_id,
            "job": job.name,
            "kind": job.kind,
            "target": str(target),
            "parameters": dict(run.parameters or {}),
            "kernel": spec.get("kernel"),
            "timeout": spec.get("timeout"),
            "notify": spec.get("notify"),
            "cwd": str(target.parent),
            "output": str(folder / target.name) if job.kind == "notebook" else None,
            **run_files(folder, events=job.kind == "flow"),
            "store_url": store_url,
        }


# -- run processes ---------------------------------------------------------------------------------------


_FORK_SERVER = ForkServer()


def fork_server() -> ForkServer:
    """This process's fork server (one per scheduler or notebook process)."""
    return _FORK_SERVER


class RunProcess:
    """A run's process, however it was started: wait, exit code, kill with every descendant."""

    def __init__(self, task: dict[str, Any], launcher: Launcher, prestarted: Any = None) -> None:
        self.launcher = launcher
        self._exit = Path(task["exit"])
        # a run process that renders the HTML copy reports its outcome first: that ends the run
        self._result = Path(task["result"]) if task.get("html") else None
        if prestarted is not None and _hand_over(prestarted, task):
            self._popen, self.pid = prestarted, prestarted.pid
        elif launcher == "fork":
            self.pid = _FORK_SERVER.launch(task)
            self._popen = None
        else:
            env = child_environment(task.get("store_url"))
            plain = {k: v for k, v in task.items() if k != "store_url"}
            boot = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
            with open(task["log"], "ab") as log:
                self._popen = subprocess.Popen(
                    [sys.executable, "-c", boot, child.__file__, json.dumps(plain)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=env,
                )
            self.pid = self._popen.pid

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        if self._popen is None:
            import psutil

            deadline = time.monotonic() + timeout
            while not self._exit.exists():
                if time.monotonic() >= deadline:
                    return None if psutil.pid_exists(self.pid) or self._exit.exists() else -1
                time.sleep(0.02)
            return int(self._exit.read_text())
        if self._result is not None:
            deadline = time.monotonic() + timeout
            while (code := self._popen.poll()) is None and not self._result.exists():
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.01)
            return 0 if code is None else code
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL the run process, its kernel and whatever they started."""
        kill_tree(self.pid)
        self.wait(5)


def _hand_over(process: subprocess.Popen, task: dict[str, Any]) -> bool:
    """Give a prestarted run process its task; False if it has ended (its kernel did not start)."""
    if process.poll() is not None:
        return False
    assert process.stdin is not None  # started with stdin=PIPE
    try:
        process.stdin.write(json.dumps(task).encode() + b"\n")
        process.stdin.close()
    except (BrokenPipeError, ValueError):
        return False
    return True


def kill_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            if os.getpgid(process.pid) == process.pid:  # a group leader (a kernel): its group goes too
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            pass


# -- supervision -----------------------------------------------------------------------------------------


@dataclass
class Supervision:
    heartbeat_interval: float = 5.0
    launcher: Launcher = "fork"
    # the run process renders the HTML copy before it reports: for a one-shot supervisor (`jobs run
    # --wait`), which would otherwise import nbformat and nbconvert cold after the run, the user waiting
    html_in_run: bool = False
    prestarted: Any = None  # a one-shot supervisor's run process (`kernel_pool.start_standby`)


class Heartbeat:
    """Beats for a run from a thread of its own, from the moment the run is taken, so that a slow start
    (a fork server still warming up, a busy machine) is never mistaken for a dead worker."""

    def __init__(self, store: Store, run_id: str, interval: float) -> None:
        self.store, self.run_id, self.interval = store, run_id, interval
        self.pid: int | None = None
        self.running, self.cancel = True, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.running, self.cancel = heartbeat(self.store, self.run_id, pid=self.pid)
            except Exception:  # a database hiccup: beat again next time
                logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def supervise(run_id: str, store_url: str | None = None, settings: Supervision | None = None) -> str:
    """Run a claimed run to its end and record it; returns the final status. Never raises."""
    settings = settings or Supervision()
    store = open_store(store_url)
    beat = Heartbeat(store, run_id, settings.heartbeat_interval)
    try:
        return _supervise(store, run_id, store_url, settings, beat)
    finally:
        beat.stop()


def _supervise(
    store: Store, run_id: str, store_url: str | None, settings: Supervision, beat: Heartbeat
) -> str:
    try:
        task = build_task(store, run_id, store_url)
    except Exception as exc:
        logger.exception("run %s cannot start", run_id)
        finish_run(store, run_id, RunStatus.failed, seconds=0.0, error=f"cannot start: {exc}")
        return RunStatus.failed.value
    return run_task(store, task, settings, beat)


def run_task(store: Store, task: dict[str, Any], settings: Supervision, beat: Heartbeat) -> str:
    """Start the run process of `task` (a job's, or a run the Jupyter server made) and see it to its end."""
    run_id = task["run_id"]
    started = time.monotonic()
    deadline = started + task["timeout"] + KILL_GRACE if task.get("timeout") else None
    Path(task["result"]).unlink(missing_ok=True)
    Path(task["exit"]).unlink(missing_ok=True)
    task["html"] = settings.html_in_run
    try:
        process = RunProcess(task, settings.launcher, settings.prestarted)
    except Exception as exc:
        logger.exception("run %s: the run process did not start", run_id)
        finish_run(store, run_id, RunStatus.crashed, seconds=0.0, error=f"run process did not start: {exc}")
        return RunStatus.crashed.value
    beat.pid = process.pid
    logger.info("started run %s (%s) in pid %s", run_id, task.get("job") or task["target"], process.pid)
    forced: tuple[RunStatus, str] | None = None
    exit_code = None
    while True:
        if not beat.running or beat.cancel:
            process.kill()
            forced = (
                (RunStatus.cancelled, "cancelled while running")
                if beat.cancel
                else (RunStatus.crashed, "the run was finished by someone else")
            )
            break
        if deadline is not None and time.monotonic() > deadline:
            process.kill()
            forced = (RunStatus.timed_out, f"run exceeded its time limit of {task['timeout']:g} s; killed")
            break
        exit_code = process.wait(min(settings.heartbeat_interval, 0.5))
        if exit_code is not None:
            break
    return _record(store, task, process, exit_code, forced, time.monotonic() - started)


def _record(
    store: Store,
    task: dict[str, Any],
    process: RunProcess,
    exit_code: int | None,
    forced: tuple[RunStatus, str] | None,
    seconds: float,
) -> str:
    run_id = task["run_id"]
    outcome = _read_result(task["result"])
    error: str | None
    if forced is not None:
        status, error = forced
    elif outcome is not None:
        status, error = RunStatus(outcome["status"]), outcome.get("error")
    else:
        status = RunStatus.crashed
        error = f"the run process exited with code {exit_code} without an outcome (killed or out of memory?)"
    if forced is not None or outcome is None:
        with open(task["log"], "a", encoding="utf-8") as log:
            log.write(f"\n[aqtra-nb] {status}: {error}\n")
    artifacts: dict[str, Any] = {"log": task["log"]}
    if task.get("output") and Path(task["output"]).exists():
        artifacts["notebook"] = task["output"]
        if outcome is not None and outcome.get("html"):  # made by the run process (`Supervision.html_in_run`)
            artifacts["html"] = outcome["html"]
        if status != RunStatus.succeeded and outcome is None:
            child.mark_failure(Path(task["output"]), status.value, error)
    recorded = finish_run(store, run_id, status, seconds=seconds, error=error, artifacts=artifacts)
    if not recorded:
        logger.warning("run %s was finished by someone else; outcome %s not recorded", run_id, status)
    logger.info("run %s %s in %.2f s", run_id, status, seconds)
    if "notebook" in artifacts and "html" not in artifacts:
        from .html import render_html

        html = render_html(Path(task["output"]))
        if html is not None:
            add_artifact(store, run_id, "html", html)
    return status.value


def _read_result(path: str) -> dict[str, Any] | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
