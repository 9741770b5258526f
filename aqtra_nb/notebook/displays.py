"""How jobs, runs, workflows and their tasks look in a notebook: status, next run, last runs, the files a
run wrote (output notebook, HTML, log). The store's models know nothing of displays; `register(shell)`
(run on `import aqtra_nb` in IPython) adds these as IPython formatters for them, by name, so nothing is
imported until such an object is shown."""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger(__name__)

STATUS_COLOURS = {
    "succeeded": "var(--jp-success-color1,#2e7d32)",
    "completed": "var(--jp-success-color1,#2e7d32)",
    "approved": "var(--jp-success-color1,#2e7d32)",
    "failed": "var(--jp-error-color1,#b00020)",
    "rejected": "var(--jp-error-color1,#b00020)",
    "timed_out": "var(--jp-error-color1,#b00020)",
    "running": "var(--jp-brand-color1,#1565c0)",
    "waiting": "var(--jp-warn-color1,#b26a00)",
    "open": "var(--jp-warn-color1,#b26a00)",
    "queued": "var(--jp-ui-font-color2,#666)",
}
ARTIFACT_NAMES = {"notebook": "output notebook", "html": "HTML", "log": "log"}


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat(sep=" ", timespec="seconds")


def _status(status: str | None) -> str:
    colour = STATUS_COLOURS.get(status or "", "inherit")
    return f'<span style="color:{colour};font-weight:600">{html.escape(status or "")}</span>'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(
        "<tr>" + "".join(f'<td style="text-align:left">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    heads = "".join(f'<th style="text-align:left">{html.escape(h)}</th>' for h in head)
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{cells}</tbody></table>"


def _fields(pairs: Sequence[tuple[str, str]]) -> str:
    return "".join(
        f'<div><span style="color:var(--jp-ui-font-color2,#666)">{html.escape(k)}</span> {v}</div>'
        for k, v in pairs
        if v
    )


def _loaded(obj: Any, name: str) -> Any:
    """A relationship of a store object if it was loaded (a detached object cannot load it now)."""
    from sqlalchemy import inspect

    return None if name in inspect(obj).unloaded else getattr(obj, name)


# -- runs -------------------------------------------------------------------------------------------------


def run_text(run: Any) -> str:
    """The run's repr, with its error and the files it wrote."""
    lines = [repr(run)]
    if run.error:
        lines.append(f"  error: {run.error}")
    lines += [f"  {ARTIFACT_NAMES.get(a.kind, a.kind)}: {a.uri}" for a in _loaded(run, "artifacts") or []]
    return "\n".join(lines)


def artifacts_html(run: Any) -> str:
    artifacts = _loaded(run, "artifacts") or []
    return "<br>".join(
        f"{html.escape(ARTIFACT_NAMES.get(a.kind, a.kind))}: <code>{html.escape(a.uri)}</code>"
        for a in artifacts
    )


def run_html(run: Any) -> str:
    seconds = f"{run.seconds:.2f} s" if run.seconds is not None else ""
    pairs = [
        ("status", _status(run.status)),
        ("started", html.escape(_when(run.started_at))),
        ("finished", html.escape(_when(run.finished_at))),
        ("took", seconds),
        ("attempt", str(run.attempt) if (run.attempt or 1) > 1 else ""),
        ("parameters", html.escape(", ".join(f"{k}={v!r}" for k, v in (run.parameters or {}).items()))),
        (
            "error",
            f'<span style="color:var(--jp-error-color1,#b00020)">{html.escape(run.error or "")}</span>'
            if run.error
            else "",
        ),
        ("files", artifacts_html(run)),
    ]
    return (
        f'<div class="aqtra-run"><b>{html.escape(run.kind)} run {html.escape(run.name)}</b> '
        f"<code>{html.escape(run.id)}</code>{_fields(pairs)}</div>"
    )


# -- jobs -------------------------------------------------------------------------------------------------


def _job_state(job: Any) -> str:
    if job.paused:
        return "paused"
    cron = job.spec.get("cron")
    return f"cron {cron} ({job.spec.get('timezone', 'UTC')})" if cron else "on demand"


def _next_run(job: Any) -> dt.datetime | None:
    from ..jobs.cron import next_due

    try:
        return next_due(job)
    except Exception:  # a schedule that no longer parses: the job's display still shows
        return None


def last_runs(job: Any, limit: int = 5) -> list[Any] | None:
    """The job's latest runs from the current store (None when it cannot be read)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from ..resources import current
    from ..store.models import Run

    try:
        store = current().store
        with store.session() as session:
            query = (
                select(Run)
                .where(Run.job_id == job.id)
                .options(selectinload(Run.artifacts))
                .order_by(Run.queued_at.desc(), Run.started_at.desc())
                .limit(limit)
            )
            return list(session.scalars(query))
    except Exception:
        logger.debug("cannot read the runs of job %r", job.name, exc_info=True)
        return None


def job_text(job: Any) -> str:
    """The job's repr, with its next run and last runs."""
    due = _next_run(job)
    lines = [repr(job)] + ([f"  next run: {_when(due)}"] if due else [])
    runs = last_runs(job)
    lines += [f"  {repr(run)}" for run in runs or []]
    return "\n".join(lines)


def job_html(job: Any) -> str:
    due = _next_run(job)
    runs = last_runs(job)
    pairs = [
        ("target", f"<code>{html.escape(job.target)}</code>"),
        ("schedule", html.escape(_job_state(job))),
        ("next run", html.escape(_when(due)) if due else ("" if job.paused else "when asked (jobs.run)")),
        (
            "parameters",
            html.escape(", ".join(f"{k}={v!r}" for k, v in (job.spec.get("parameters") or {}).items())),
        ),
    ]
    if runs:
        rows = [
            [
                f"<code>{html.escape(r.id)}</code>",
                _status(r.status),
                html.escape(_when(r.started_at if r.status != "queued" else r.queued_at)),
                f"{r.seconds:.2f} s" if r.seconds is not None else "",
                artifacts_html(r) or html.escape(r.error or ""),
            ]
            for r in runs
        ]
        listing = "<div>last runs</div>" + _table(["run", "status", "when", "took", "files"], rows)
    else:
        listing = "<div>never run</div>" if runs == [] else ""
    return (
        f'<div class="aqtra-job"><b>job {html.escape(job.name)}</b> ({html.escape(job.kind)})'
        f"{_fields(pairs)}{listing}</div>"
    )


# -- workflows and tasks ------------------------------------------------------------------------------------


def workflow_html(instance: Any) -> str:
    record = f"{instance.entity} #{instance.record_id}" if instance.entity and instance.record_id else ""
    pairs = [
        ("status", _status(instance.status)),
        ("step", f"<code>{html.escape(instance.current_step or '')}</code>" if instance.current_step else ""),
        ("record", html.escape(record)),
        ("message", html.escape(instance.message or "")),
        ("error", html.escape(instance.error or "")),
        ("started", html.escape(_when(instance.created_at))),
        ("updated", html.escape(_when(instance.updated_at))),
        ("finished", html.escape(_when(instance.finished_at))),
    ]
    return (
        f'<div class="aqtra-workflow"><b>workflow {html.escape(instance.name)}</b> '
        f"<code>{html.escape(instance.id)}</code>{_fields(pairs)}</div>"
    )


def task_html(task: Any) -> str:
    options = (task.options or {}).get("options") or []
    pairs = [
        ("status", _status(task.status)),
        ("message", html.escape(task.message or "")),
        ("options", html.escape(", ".join(map(str, options)))),
        ("assignee", html.escape(task.assignee or "")),
        ("decision", html.escape(" ".join(filter(None, [task.decision, task.option])))),
        ("decided by", html.escape(task.decided_by or "")),
        ("comment", html.escape(task.comment or "")),
        (
            "workflow",
            f"<code>{html.escape(task.workflow_id)}</code> step <code>{html.escape(task.step_id)}</code>",
        ),
        ("asked", html.escape(_when(task.created_at))),
    ]
    return (
        f'<div class="aqtra-task"><b>task: {html.escape(task.title)}</b> '
        f"<code>{html.escape(task.id)}</code>{_fields(pairs)}</div>"
    )


#: (module, class name) -> (text, HTML)
DISPLAYS: dict[tuple[str, str], tuple[Callable[[Any], str], Callable[[Any], str] | None]] = {
    ("aqtra_nb.store.job_models", "Job"): (job_text, job_html),
    ("aqtra_nb.store.models", "Run"): (run_text, run_html),
    ("aqtra_nb.store.workflow_models", "WorkflowInstance"): (repr, workflow_html),
    ("aqtra_nb.store.workflow_models", "WorkflowTask"): (repr, task_html),
}


def register(shell: Any) -> None:
    """Show the store's objects with these displays in this IPython shell."""
    formatters = shell.display_formatter.formatters
    for (module, name), (text, rich) in DISPLAYS.items():
        formatters["text/plain"].for_type_by_name(module, name, _pretty(text))
        if rich is not None:
            formatters["text/html"].for_type_by_name(module, name, rich)


def _pretty(text: Callable[[Any], str]) -> Callable[[Any, Any, bool], None]:
    def printer(obj: Any, p: Any, cycle: bool) -> None:
        p.text(text(obj))

    return printer
