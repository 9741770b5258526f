"""What the step-cache tests share (their fixtures are in this folder's conftest.py)."""

from __future__ import annotations

from aqtra_nb.engine.cache import StepCache


def cold(cache: StepCache) -> None:
    """As a new process would see the cache: what was saved is on disk, nothing is in memory."""
    cache.flush()
    cache.forget_memory()


def cached(result) -> dict[str, bool]:
    """Per step, whether the run loaded it from the cache."""
    return {sid: step.cached for sid, step in result.steps.items()}
