"""Job notifications: when a run ends for good (succeeded, or failed with no retry left), email and/or
webhook per the job's `notify` (sent by `aqtra_nb.notify`). The scheduler sends them when it settles a
run, so a run whose worker died is reported too."""

from __future__ import annotations

import logging

from ..store import Store
from ..store.job_models import Job
from ..store.models import Run

logger = logging.getLogger(__name__)


def notify_run(store: Store, run_id: str, status: str, *, retrying: bool) -> bool:
    """Send the job's notification for this run if its `on` list asks for it; True if one was sent."""
    with store.session() as session:
        run = session.get(Run, run_id)
        job = session.get(Job, run.job_id) if run is not None and run.job_id is not None else None
    if run is None or job is None or not job.spec.get("notify") or retrying or status == "cancelled":
        return False  # a cancel is the user's own doing: nothing to report
    from ..notify import Notify, Outcome, send

    outcome: Outcome = "success" if status == "succeeded" else "failure"
    notify = Notify.model_validate(job.spec["notify"])
    if not notify.wants(outcome):
        return False
    subject = f"[aqtra-nb] job {job.name}: run {run.id} {status}"
    lines = [
        f"Job {job.name} ({job.kind} {job.target})",
        f"Run {run.id}, attempt {run.attempt}: {status}",
        f"Scheduled for {run.scheduled_for}, finished {run.finished_at}",
    ]
    if run.error:
        lines.append(f"Error: {run.error}")
    lines.append(f"Details: aqtra-nb runs show {run.id}; log: aqtra-nb runs log {run.id}")
    payload = {
        "job": job.name,
        "run_id": run.id,
        "status": status,
        "attempt": run.attempt,
        "scheduled_for": run.scheduled_for.isoformat() if run.scheduled_for else None,
        "error": run.error,
    }
    try:
        send(notify, subject=subject, body="\n".join(lines), payload=payload)
    except Exception:  # a mail server that is down must not stop the scheduler
        logger.exception("job %s: notification for run %s failed", job.name, run.id)
        return False
    return True
