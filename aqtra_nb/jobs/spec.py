"""`JobSpec`: what to run (a notebook or a flow), with which parameters, when, and what to do when it fails.

A job file (`*.job.yaml`) is this model as YAML; `aqtra-nb jobs add` and `aqtra_nb.jobs.schedule` build
the same object. Everything a run needs is checked when the job is added (`validate_job`): the cron
expression and time zone, that the target exists, that each parameter is declared with a value of its
type, and that the kernel is installed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from ..errors import AqtraError, FlowValidationError, NotFound, ParameterError
from ..spec.models import SpecModel

JOB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class JobError(AqtraError):
    """A job cannot be added or run as given (the message names the job file and field)."""


class JobNotFound(JobError, NotFound):
    """No job has the name given."""


def seconds(value: Any) -> float | None:
    """`90`, `"90s"`, `"15m"`, `"2h"` as seconds."""
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return None if value is None else float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use seconds, or e.g. '90s', '15m', '2h')")
    return float(match.group(1)) * _UNITS[match.group(2)]


class RetryPolicy(SpecModel):
    """Retries of a failed, timed-out or crashed run: `count` more attempts, the n-th after
    `backoff * factor**(n-1)` seconds."""

    count: int = Field(default=0, ge=0, le=100, description="Attempts after the first one.")
    backoff: float = Field(default=60.0, ge=0, description="Seconds before the first retry (or '5m').")
    factor: float = Field(default=2.0, ge=1, description="Each further retry waits this many times longer.")

    _seconds = field_validator("backoff", mode="before")(lambda v: seconds(v))

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt + 1`."""
        return self.backoff * self.factor ** max(attempt - 1, 0)


class JobSpec(SpecModel):
    """A scheduled (or on-demand) run of a notebook or a flow."""

    job: str = Field(description="Job name: letters, digits, '_', '-', '.'.")
    target: str = Field(description="A notebook (*.ipynb) or a flow file (*.flow.yaml, *.flow.json).")
    description: str = Field("", description="What the job is for.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Parameter values for each run.")
    kernel: str | None = Field(None, description="Jupyter kernel; default: the notebook's own kernelspec.")
    cron: str | None = Field(None, description="Cron expression; no cron: the job runs only when asked.")
    timezone: str = Field("UTC", description="IANA time zone the cron expression is read in.")
    retries: RetryPolicy = Field(default_factory=RetryPolicy, description="Retry policy (or just a count).")
    timeout: float | None = Field(None, gt=0, description="Seconds (or '30m') a run may take in all.")
    concurrency: int = Field(1, ge=1, description="Runs of this job at the same time, at most.")
    catchup: Literal["skip", "once"] = Field(
        "skip", description="Runs missed while no scheduler ran: skip them, or run once for all of them."
    )
    notify: Any = Field(None, description="Email/webhook notification on failure and/or success.")

    @field_validator("job")
    @classmethod
    def _name(cls, value: str) -> str:
        if not JOB_NAME.match(value):
            raise ValueError("a job name holds letters, digits, '_', '-' and '.' (at most 200)")
        return value

    @field_validator("retries", mode="before")
    @classmethod
    def _retry_count(cls, value: Any) -> Any:
        return {"count": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return seconds(value)

    @field_validator("notify", mode="before")
    @classmethod
    def _notify(cls, value: Any) -> Any:
        if value is None:
            return None
        from ..notify import Notify

        return Notify.model_validate(value)

    @property
    def kind(self) -> Literal["notebook", "flow"]:
        return "notebook" if self.target.endswith(".ipynb") else "flow"


def load_job(path: str | Path) -> JobSpec:
    """A `*.job.yaml` file as a JobSpec; a relative target resolves against the file's folder."""
    from ..spec.io import parse_yaml, read_spec_file

    path = Path(path)
    document = parse_yaml(read_spec_file(path, "job", JobError), source=str(path), error=JobError)
    if not isinstance(document, dict):
        raise JobError("a job file is a mapping with keys `job`, `target`, `cron`, ...", file=str(path))
    if isinstance(document.get("target"), str) and not Path(document["target"]).is_absolute():
        document["target"] = str((path.parent / document["target"]).resolve())
    return job_from_document(document, source=str(path))


def job_from_document(document: dict[str, Any], *, source: str | None = None) -> JobSpec:
    """Validate plain data as a JobSpec; pydantic's first error becomes one message naming the field."""
    try:
        return JobSpec.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        field = ".".join(str(p) for p in first["loc"]) or None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown key; a job has: {', '.join(JobSpec.model_fields)}"
        raise JobError(message, file=source, field=field) from None


def validate_job(spec: JobSpec, *, source: str | None = None) -> dict[str, Any]:
    """Check everything a run will need; returns the parameters converted to their declared types."""
    from .cron import CronSchedule

    where = source or f"job {spec.job!r}"
    if spec.cron is not None:
        try:
            CronSchedule(spec.cron, spec.timezone)
        except AqtraError as exc:
            raise exc.at(file=where) from None
    elif spec.timezone != "UTC":
        CronSchedule("* * * * *", spec.timezone)
    _check_notify(spec.notify, where)
    target = Path(spec.target)
    if spec.kind == "notebook":
        from .notebook import check_parameters, read_notebook

        if not target.is_file():
            raise JobError(f"notebook not found: {target}", file=where, field="target")
        try:
            values = check_parameters(target, spec.parameters)
        except AqtraError as exc:
            raise _field(exc, "parameters").at(file=where) from None
        kernel = spec.kernel or ((read_notebook(target).get("metadata") or {}).get("kernelspec") or {}).get(
            "name"
        )
        check_kernel(kernel, where=where)
        return values
    if not re.search(r"\.flow\.(ya?ml|json)$", target.name):
        raise JobError(
            f"target {target.name!r} is neither a notebook (*.ipynb) nor a flow file (*.flow.yaml)",
            file=where,
            field="target",
        )
    from ..spec import load_flow, resolve_parameters
    from ..store.store import plain

    try:
        flow = load_flow(target)
    except FlowValidationError as exc:
        if not target.is_file():
            raise JobError(f"flow file not found: {target}", file=where, field="target") from None
        raise exc.at(field="target") from None
    try:
        return plain(resolve_parameters(flow.parameters, spec.parameters))
    except ParameterError as exc:
        raise _field(exc, "parameters").at(file=where) from None


def _check_notify(notify: Any, where: str) -> None:
    """The mail server a job's email needs (a named `smtp` connection that exists and is one; else
    `$AQTRA_SMTP_URL`, a connection `smtp`, or the outbox), resolved now rather than when a run ends."""
    if notify is None or not notify.email:
        return
    from ..notify import email_transport

    try:
        email_transport(notify.smtp)
    except AqtraError as exc:
        raise JobError(f"its email cannot be sent: {exc.message}", file=where, field="notify.smtp") from None


def _field(exc: AqtraError, prefix: str) -> AqtraError:
    exc.field = f"{prefix}.{exc.field}" if exc.field else prefix
    return exc.at()


def check_kernel(name: str | None, *, where: str) -> None:
    """The kernel must be installed where the workers run (here)."""
    from jupyter_client.kernelspec import KernelSpecManager

    if not name:
        raise JobError(
            "the notebook names no kernel (metadata.kernelspec); set `kernel`", file=where, field="kernel"
        )
    installed = KernelSpecManager().find_kernel_specs()
    if name not in installed:
        from ..errors import did_you_mean

        raise JobError(
            f"no Jupyter kernel named {name!r}.{did_you_mean(name, installed)} Installed: "
            f"{', '.join(sorted(installed)) or 'none'}",
            file=where,
            field="kernel",
        )
