"""Running a flow the way users do (`Flow.run`, `aqtra-nb run`): the engine, plus the run record.

The implementation is `recording.run_flow` (inner code such as jobs and workflows uses it from there);
this module is its public name, with `default_store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .recording import run_flow

if TYPE_CHECKING:
    from .store import Store

__all__ = ["default_store", "run_flow"]


def default_store() -> Store:
    """The current resources' store (`resources.current()`): the settings' database (`$AQTRA_DATABASE_URL`
    or `$AQTRA_HOME/aqtra.db`) unless an edge made other resources current; opened once per process."""
    from .resources import current

    return current().store
