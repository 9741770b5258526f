"""Fixtures of the engine's step-cache tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from aqtra_nb.engine.cache import StepCache
from aqtra_nb.resources import current


@pytest.fixture
def cache() -> StepCache:
    """The tests' step cache, emptied (memory and disk) before and after each test, writing every step's
    output to disk (by default only those worth it are: see test_step_cache's last test)."""
    found = current().step_cache()
    default = found.min_seconds
    found.flush()
    found.clear()
    found.forget_memory()
    found.min_seconds = -1
    yield found
    found.flush()
    found.min_seconds = default
    found.clear()
    found.forget_memory()


@pytest.fixture
def orders_csv(tmp_path: Path, sales) -> Path:
    """The sales data's orders as a CSV file."""
    path = tmp_path / "orders.csv"
    sales["orders"].to_csv(path, index=False)
    return path
