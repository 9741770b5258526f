"""Temporary names of outputs being written, and removing those that killed writers left behind.

A writer writes `.<target>.<host>-<pid>-<random>.tmp` next to its target and renames it into place when
complete. A process killed meanwhile (SIGKILL, out of memory) leaves that file, possibly hundreds of
megabytes; the next write of the same target removes it once its writer is known to be gone: on this
host, the pid in its name is not running; from another host (or with a name without a pid, from older
versions), it has not changed for `STALE_SECONDS`. Only names of that target in that pattern are touched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import posixpath
import re
import socket
import uuid
from typing import Any

logger = logging.getLogger(__name__)

STALE_SECONDS = 3600.0  # a live writer changes its file far more often than this
HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def temporary_name(name: str) -> str:
    """A hidden name next to the target `name` that says which process writes it."""
    return f".{name}.{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.(?:(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)-)?[0-9a-f]{{8}}\.tmp")


def remove_stale(fs: Any, parent: str, name: str) -> None:
    """Remove the temporary files (or folders) of target `name` in `parent` whose writers are gone
    (`fs`: an fsspec filesystem). Never fails a write: problems are only logged."""
    pattern = _pattern(name)
    escaped = re.sub(r"([*?\[])", r"[\1]", f".{name}.")
    try:
        found = fs.glob(posixpath.join(parent, escaped + "*.tmp")) if parent else []
        for path in found:
            match = pattern.fullmatch(posixpath.basename(path))
            if match and _writer_gone(fs, path, match):
                fs.rm(path, recursive=True)
                logger.info("removed %s, left by a writer that was stopped", path)
    except (OSError, NotImplementedError, ValueError) as exc:
        logger.debug("could not clean up temporary files of %s: %s", name, exc)


def _writer_gone(fs: Any, path: str, match: re.Match[str]) -> bool:
    if match["host"] == HOST:
        return not _alive(int(match["pid"]))
    modified = fs.modified(path)
    if modified.tzinfo is None:
        modified = modified.astimezone()
    return (dt.datetime.now(dt.UTC) - modified).total_seconds() > STALE_SECONDS


def _alive(pid: int) -> bool:
    import psutil

    return pid == os.getpid() or psutil.pid_exists(pid)  # our own pid: another thread of ours writes it
    return True
