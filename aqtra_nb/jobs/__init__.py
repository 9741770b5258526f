"""Jobs: notebooks (papermill) and flows (the engine) run on cron schedules, with retries, timeouts and
notifications, by a scheduler that claims runs through the store and runs each in a fresh process.

Names are loaded on first use, so `aqtra-nb` and the run processes import only what they need."""

from __future__ import annotations

from aqtra_nb.lazy import lazy_exports

_EXPORTS = {
    "add": "api",
    "cancel": "api",
    "get": "api",
    "jobs": "api",
    "log": "api",
    "pause": "api",
    "remove": "api",
    "resume": "api",
    "run": "api",
    "schedule": "api",
    "CronSchedule": "cron",
    "ScheduleError": "cron",
    "NotebookOutcome": "notebook",
    "check_parameters": "notebook",
    "execute_notebook": "notebook",
    "notebook_parameters": "notebook",
    "Scheduler": "scheduler",
    "JobError": "spec",
    "JobSpec": "spec",
    "RetryPolicy": "spec",
    "load_job": "spec",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
