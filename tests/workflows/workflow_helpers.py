"""Helpers the workflow tests import (a module of its own: `from conftest import` is ambiguous when
several test folders have a conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "notebooks" / "workflows"


def cli(*args: str, check: int | None = 0, **popen: object) -> subprocess.CompletedProcess:
    """`aqtra-nb ARGS` in a fresh process with this test's environment."""
    done = subprocess.run(
        [sys.executable, "-m", "aqtra_nb.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        **popen,
    )
    if check is not None:
        assert done.returncode == check, done.stdout + done.stderr
    return done
