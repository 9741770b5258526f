"""Run status: one string enum shared by Python, the database and (later) the front end."""

from enum import StrEnum


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    timed_out = "timed_out"
    cancelled = "cancelled"
    crashed = "crashed"

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.queued, RunStatus.running)
