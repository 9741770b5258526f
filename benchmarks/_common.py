"""What a benchmark's header line says about what it measured and where: the commit and the machine."""

from __future__ import annotations

import gc
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    """The checked-out commit's short hash, with "+dirty" when tracked files have uncommitted changes
    (untracked files do not count, as in `git describe --dirty`); "no git checkout" elsewhere."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no git checkout"
    return head + ("+dirty" if changes else "")


def load_average() -> float:
    """The 1-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine() -> str:
    """The processor, CPUs, load average and commit, for a table's heading."""
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load_average():.1f}, commit {commit()}"
    )


def generated(target: Path, write: Callable[[Path], object]) -> Path:
    """`target`, made by `write(staging)` in a temporary folder beside it and then renamed into place, so
    an interrupted generation is never taken for data."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        write(staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def best_of(queries: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best wall-clock seconds of each query; rounds interleave the implementations to spread noise."""
    best = dict.fromkeys(queries, math.inf)
    for _ in range(repeat):
        for name, query in queries.items():
            gc.collect()
            started = time.perf_counter()
            query()
            best[name] = min(best[name], time.perf_counter() - started)
    return best
