"""Installing the package enables the extension; `aqtra-nb server` starts Jupyter with it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from server_process import TOKEN, free_port

pytestmark = pytest.mark.slow


def test_the_installed_config_enables_the_extension():
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_server.extension.serverextension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert re.search(r"aqtra_nb\.server\s+enabled", text), text
    assert re.search(r"aqtra_nb\.server\s+OK", text), text


def test_aqtra_nb_server_starts_jupyter_with_the_api(tmp_path: Path):
    port = free_port()
    command = [
        sys.executable, "-m", "aqtra_nb.cli", "server", "--no-lab", "--no-browser", "--allow-root",
        f"--port={port}", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp_path}",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                reply = requests.get(
                    f"http://127.0.0.1:{port}/aqtra/api/components",
                    headers={"Authorization": f"token {TOKEN}"},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()[1][-2000:]
                time.sleep(0.3)
        assert reply.status_code == 200 and len(reply.json()["components"]) >= 30
    finally:
        process.terminate()
        process.wait(30)
