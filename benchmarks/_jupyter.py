"""A real `jupyter server` with the aqtra-nb extension on loopback, for the benchmarks that drive one.

It is the tests' own server (tests/server/server_process.py: a free port, a token, started as a
subprocess and waited for until `GET /api/status` answers), as a context manager that stops it however
the benchmark ends, a failed start included.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "server"))

from server_process import TOKEN, JupyterServer  # noqa: E402

__all__ = ["TOKEN", "JupyterServer", "jupyter_server"]


@contextmanager
def jupyter_server(
    root: Path, env: dict[str, str], extra: list[str] | None = None
) -> Iterator[JupyterServer]:
    """A server over `root` (its log there too) with `env` on top of this process's environment and
    `extra` command-line options; `.url` and `.headers` (the token) to reach it."""
    server = JupyterServer(root, env, extra=extra)
    try:
        yield server.start()
    finally:
        server.stop()
