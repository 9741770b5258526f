"""Jobs: notebooks (papermill) and flows (the engine) run on cron schedules, with retries, timeouts and
notifications, by a scheduler that claims runs through the store and runs each in a fresh process."""

from .api import add, cancel, get, jobs, log, pause, remove, resume, run, schedule
from .cron import CronSchedule, ScheduleError
from .notebook import NotebookOutcome, check_parameters, execute_notebook, notebook_parameters
from .scheduler import Scheduler
from .spec import JobError, JobSpec, RetryPolicy, load_job

__all__ = [
    "CronSchedule",
    "JobError",
    "JobSpec",
    "NotebookOutcome",
    "RetryPolicy",
    "ScheduleError",
    "Scheduler",
    "add",
    "cancel",
    "check_parameters",
    "execute_notebook",
    "get",
    "jobs",
    "load_job",
    "log",
    "notebook_parameters",
    "pause",
    "remove",
    "resume",
    "run",
    "schedule",
]
