"""`aqtra-nb publish` / `aqtra-nb apps` as a subprocess: for snapshots, benchmarks and tests.

Voilà must own its process (it installs signal handlers and runs the event loop in the main thread), so
code that needs a server next to it starts one here and reads the printed URL (with its token).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

URL_LINE = re.compile(r"Serving .* at (?P<url>http://\S+)")


class PublishedServer:
    """One `aqtra-nb` server process; `output` collects its stdout and stderr as they arrive."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self.url = ""
        self.process: subprocess.Popen | None = None

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def base(self) -> str:
        """The server's address without the query: http://127.0.0.1:PORT"""
        return self.url.split("?")[0].rstrip("/")

    @property
    def token(self) -> str:
        match = re.search(r"[?&]token=([^&\s]+)", self.url)
        return match.group(1) if match else ""

    def __enter__(self) -> PublishedServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> PublishedServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aqtra_nb.cli", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        ready = threading.Event()

        def read() -> None:
            assert self.process and self.process.stdout
            for line in self.process.stdout:
                self.lines.append(line)
                match = URL_LINE.search(line)
                if match and not self.url:
                    self.url = match.group("url")
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.1):
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"server did not start in {timeout} s:\n{self.output}")
        if not self.url:
            self.stop()
            raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.output}")
        return self

    def wait_for_output(self, text: str, timeout: float = 120) -> None:
        """Block until the server has printed `text` (e.g. "is filled": its kernel pool is started)."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"server exited while waiting for {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server did not print {text!r} in {timeout} s:\n{self.output}")
            time.sleep(0.1)

    def stop(self) -> str:
        """SIGTERM (Voilà shuts its kernels down), then wait; returns everything the server printed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        time.sleep(0.1)
        return self.output
