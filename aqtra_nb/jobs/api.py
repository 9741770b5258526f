"""The Python face of jobs, the same operations as `aqtra-nb jobs ...`, usable from a notebook."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from ..resources import store_or_current
from ..store import Store
from ..store.job_models import Job
from ..store.models import Run
from . import catalog
from .claims import enqueue_now, request_cancel
from .spec import JobSpec, job_from_document, load_job


def schedule(
    target: str | Path,
    *,
    name: str | None = None,
    cron: str | None = None,
    timezone: str = "UTC",
    parameters: dict[str, Any] | None = None,
    kernel: str | None = None,
    retries: int | dict[str, Any] = 0,
    timeout: float | str | None = None,
    concurrency: int = 1,
    catchup: str = "skip",
    notify: Any = None,
    replace: bool = False,
    store: Store | None = None,
) -> Job:
    """Add a job that runs `target` (a notebook or a flow file) on `cron` in `timezone`.

    Everything is checked now (cron, target, parameters against the notebook's parameters cell or the
    flow's declared parameters, the kernel); a problem raises an `AqtraError` naming the field."""
    target = Path(target)
    document = {
        "job": name or target.name.removesuffix(".ipynb").split(".flow.")[0],
        "target": str(target),
        "cron": cron,
        "timezone": timezone,
        "parameters": dict(parameters or {}),
        "kernel": kernel,
        "retries": retries,
        "timeout": timeout,
        "concurrency": concurrency,
        "catchup": catchup,
        "notify": notify,
    }
    return add(job_from_document(document), replace=replace, store=store)


def add(spec: JobSpec | str | Path, *, replace: bool = False, store: Store | None = None) -> Job:
    """Add a job from a JobSpec or a `*.job.yaml` file."""
    source = None
    if not isinstance(spec, JobSpec):
        source = str(spec)
        spec = load_job(spec)
    return catalog.add_job(store_or_current(store), spec, source=source, replace=replace)


def jobs(store: Store | None = None) -> list[Job]:
    return catalog.list_jobs(store_or_current(store))


def get(name: str, store: Store | None = None) -> Job:
    return catalog.get_job(store_or_current(store), name)


def pause(name: str, store: Store | None = None) -> Job:
    return catalog.set_paused(store_or_current(store), name, True)


def resume(name: str, store: Store | None = None) -> Job:
    return catalog.set_paused(store_or_current(store), name, False)


def remove(name: str, store: Store | None = None) -> None:
    catalog.remove_job(store_or_current(store), name)


def run(
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    wait: bool = False,
    store: Store | None = None,
    standby: subprocess.Popen | None = None,
) -> Run:
    """Queue a run of job `name` now (a scheduler picks it up), or with `wait=True` run it here, in a
    fresh process like a worker would, and return it when it has ended. `standby`: that process, started
    by the caller before it opened the store (`kernel_pool.start_standby` without a kernel name: the CLI);
    it is told the job's kernel here, and ends unused if the run cannot be queued."""
    try:
        store = store_or_current(store)
        job = catalog.get_job(store, name)
        if not wait:
            return store.run(enqueue_now(store, name, _checked(job, parameters)))
        return _run_here(store, job, parameters, standby)
    finally:
        _release(standby)


def _run_here(
    store: Store, job: Job, parameters: dict[str, Any] | None, standby: subprocess.Popen | None
) -> Run:
    from .kernel_pool import kernel_name, name_kernel, start_standby
    from .worker import Supervision, supervise, worker_name

    # one run: a plain new process (a fork server only pays off for a scheduler's many runs), started
    # before the parameters are checked and the run queued, so that its kernel starts meanwhile
    kernel = kernel_name({"kind": job.kind, "kernel": job.spec.get("kernel"), "target": job.target})
    if standby is not None:
        name_kernel(standby, kernel)
    elif kernel:
        standby = start_standby(store.url, kernel)
    try:
        run_id = enqueue_now(store, job.name, _checked(job, parameters), claim_by=f"local:{worker_name()}")
        settings = Supervision(heartbeat_interval=2.0, launcher="spawn", html_in_run=True, prestarted=standby)
        supervise(run_id, store.url, settings)
    finally:
        _release(standby)
    return store.run(run_id)


def _release(standby: subprocess.Popen | None) -> None:
    """Close a standby's stdin: one not handed its task stops its kernel and exits."""
    if standby is not None and standby.stdin is not None and not standby.stdin.closed:
        standby.stdin.close()


def _checked(job: Job, parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """`parameters` checked against the job's target and converted (None: the job's own)."""
    if not parameters:
        return parameters
    from .spec import validate_job

    spec = JobSpec.model_validate(job.spec)
    return validate_job(spec.model_copy(update={"parameters": {**spec.parameters, **parameters}}))


def cancel(run_id: str, store: Store | None = None) -> str:
    """Cancel a queued run, or ask the worker of a running one to kill it; returns the new state."""
    return request_cancel(store_or_current(store), run_id)


def log(run_id: str, store: Store | None = None) -> str:
    """The captured output of a job run (cell output, kernel messages, the outcome)."""
    from .worker import runs_dir

    run = store_or_current(store).run(run_id)
    path = runs_dir() / run.id / "run.log"
    for artifact in run.artifacts:
        if artifact.kind == "log":
            path = Path(artifact.uri)
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "".join(line for line in text.splitlines(keepends=True) if not KERNEL_NOISE.match(line))


# A kernel over TCP on loopback warns about it on every start (runs use IPC where they can), and one shut
# down when its run ends may report the interrupt jupyter_client sends first; neither is news
KERNEL_NOISE = re.compile(
    r"\[IPKernelApp\] (WARNING \| Kernel is running over TCP without encryption"
    r"|ERROR \| KeyboardInterrupt caught in kernel)"
)
