"""The data layer: the run store (SQLite by default, PostgreSQL by URL), migrated on open."""

from .database import StoreError, default_url
from .recorder import RunRecorder
from .store import Store

__all__ = ["RunRecorder", "Store", "StoreError", "default_url"]
