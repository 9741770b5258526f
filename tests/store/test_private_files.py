"""What aqtra-nb keeps in its home is the user's alone, whatever the umask: the folder, the SQLite store
(and its -wal and -shm files), the secret key, run folders and their logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, os, sys
from pathlib import Path
from aqtra_nb import Flow
from aqtra_nb.jobs import api
from aqtra_nb.resources import current

home = current().settings.home_path
flow = Flow("tiny")
flow.sample_data("rows", table="regions")
flow.save("tiny.flow.yaml")
flow.run(progress=False)                      # the store: home and aqtra.db made, a run recorded
current().secrets.set("PRIVATE", "value")     # the key file
run = api.run(api.schedule("tiny.flow.yaml", name="tiny").name, wait=True)
paths = {
    "home": home, "db": home / "aqtra.db", "wal": home / "aqtra.db-wal", "shm": home / "aqtra.db-shm",
    "key": home / "secret.key", "runs": home / "runs", "run": home / "runs" / run.id,
    "log": home / "runs" / run.id / "run.log",
}
print(json.dumps({"status": run.status, **{k: oct(p.stat().st_mode & 0o777) for k, p in paths.items()}}))
"""


@pytest.mark.slow  # a job run in its own process
def test_home_store_key_run_folders_and_logs_are_private_under_umask_022(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQTRA_")}
    env["AQTRA_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr
    modes = json.loads(done.stdout.splitlines()[-1])
    assert modes.pop("status") == "succeeded"
    folders = {"home", "runs", "run"}
    assert modes == {k: "0o700" if k in folders else "0o600" for k in modes}
