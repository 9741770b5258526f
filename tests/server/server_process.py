"""A real `jupyter server` on loopback, as a subprocess, with the aqtra-nb extension enabled by its
installed config (not by the test)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the start probe of a TLS server

TOKEN = "aqtra-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    def __init__(self, root: Path, env: dict[str, str], *, extra: list[str] | None = None) -> None:
        self.root, self.env, self.extra = root, env, list(extra or [])
        self.port = free_port()
        self.scheme = "https" if any("certfile" in a for a in self.extra) else "http"
        self.process: subprocess.Popen | None = None
        self.log = root / f"jupyter-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/aqtra/api"

    def start(self) -> JupyterServer:
        command = [
            sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
            f"--port={self.port}", "--ip=127.0.0.1", f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={TOKEN}", "--ServerApp.port_retries=0", *self.extra,
        ]  # fmt: skip
        env = {**os.environ, **self.env}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited: {self.log.read_text()[-3000:]}")
            try:
                requests.get(f"{self.url}/api/status", headers=self.headers, timeout=2, verify=False)  # noqa: S501
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError(f"jupyter server did not start: {self.log.read_text()[-3000:]}")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for_status(http: requests.Session, url: str, status: str, timeout: float = 60.0) -> dict:
    """GET `url` until its JSON `status` is `status`; the last reply otherwise, in the failure."""
    deadline = time.monotonic() + timeout
    found: dict = {}
    while time.monotonic() < deadline:
        found = http.get(url, timeout=30).json()
        if found.get("status") == status:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{url} never became {status}: {found}")
