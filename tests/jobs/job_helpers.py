"""Helpers the job tests share (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 120, message: str = "condition") -> Any:
    """`condition()`'s first true value, looked at every 0.1 s; an AssertionError naming `message` after
    `timeout` seconds (runs start kernels: a loaded machine is slow, never wrong)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")
