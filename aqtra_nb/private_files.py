"""Folders and files only their owner may open, whatever the umask: aqtra-nb's home, the SQLite store,
the secret key, run folders and logs, the published server's runtime files (as `ssh` keeps `~/.ssh`).

Each is created with its mode in the same system call (no window in which it is readable); an existing
one keeps the mode it has: a deployer may have opened a folder to a group on purpose."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """`path` as a folder; it and its missing parents are made 0700."""
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path`, made empty with mode 0600 if it does not exist, so that whatever opens it next (SQLite, a
    log writer) writes into a private file. Its folder must exist."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path
