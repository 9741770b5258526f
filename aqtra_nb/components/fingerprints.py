"""What identifies the current version of an input's source without reading it, and the schemas kept by it.

An editor validates the flow on every keystroke and a dashboard plans it on every click; opening a CSV
with Dask or a Parquet dataset with Arrow to learn its columns each time costs more than all the rest of
planning. A local file's version is its path, inode, size and modification time (ns): a rewrite in
place, an atomic replace and a new file in a folder or glob each change it. Sources without a cheap
version (URLs, databases, HTTP) have none and are read every time.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Callable, Hashable

import pandas as pd

from ..lru import LRU

MAX_FILES = 10_000  # a dataset with more files is listed on every plan anyway; not worth a key


def local_fingerprint(path: str) -> tuple | None:
    """(path, inode, size, mtime_ns) of every file behind a local path, glob or folder; None for URLs,
    nothing found (the reader reports that) or more than MAX_FILES files."""
    if "://" in path:
        return None
    if os.path.isdir(path):
        files = [os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names]
    else:
        files = glob.glob(path)
    if not files or len(files) > MAX_FILES:
        return None
    found = []
    for name in sorted(files):
        try:
            info = os.stat(name)
        except OSError:
            return None
        found.append((name, info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(found)


def content_hash(path: str) -> str | None:
    """A hash of the names and bytes of every file behind a local path, glob or folder (None as for
    `local_fingerprint`): for sources whose size and modification time may stay while the data changes."""
    found = local_fingerprint(path)
    if found is None:
        return None
    digest = hashlib.blake2b(digest_size=16)
    for name, *_ in found:
        digest.update(name.encode() + b"\0")
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class SchemaMemo:
    """Empty frames (a reader's columns and dtypes) by key, least recently used out first."""

    def __init__(self, size: int = 512) -> None:
        self._frames: LRU[pd.DataFrame] = LRU(size)

    def get(self, key: Hashable, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        found = self._frames.get(key)
        if found is None:
            found = read()
            self._frames.put(key, found)
        return found.copy()

    def clear(self) -> None:
        self._frames.clear()


SCHEMAS = SchemaMemo()
