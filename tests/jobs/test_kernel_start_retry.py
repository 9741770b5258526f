"""A notebook run whose kernel dies before it answers (no cell ran yet: e.g. two kernels racing for the
same ports when runs start together) starts the kernel again, up to `KERNEL_START_ATTEMPTS` times; a
kernel that never starts is a failed run with the reason, not a hang. Real kernels, real papermill."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from aqtra_nb.jobs.child import KERNEL_START_ATTEMPTS, SUCCEEDED, run_papermill

pytestmark = pytest.mark.slow

# Exits at once while its countdown file says so, then becomes a normal IPython kernel.
LAUNCHER = """\
import sys
from pathlib import Path

countdown = Path(sys.argv.pop(1))
left = int(countdown.read_text())
if left > 0:
    countdown.write_text(str(left - 1))
    sys.exit(1)
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def flaky_kernel(root: Path, monkeypatch: pytest.MonkeyPatch, failures: int) -> Path:
    """A kernelspec `flaky` whose first `failures` starts die; returns its countdown file."""
    countdown = root / "countdown"
    countdown.write_text(str(failures))
    launcher = root / "launcher.py"
    launcher.write_text(LAUNCHER)
    spec = root / "share" / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(launcher), str(countdown), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "flaky", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(root / "share" / "jupyter"))
    return countdown


def run(notebook: Path, tmp_path: Path) -> tuple[dict, str]:
    log = io.StringIO()
    outcome = run_papermill(
        str(notebook),
        str(tmp_path / "out.ipynb"),
        {},
        kernel="flaky",
        timeout=120,
        stream=log,
        cwd=str(tmp_path),
    )
    return outcome, log.getvalue()


def test_a_kernel_that_dies_starting_is_started_again(tmp_path: Path, monkeypatch, notebook):
    countdown = flaky_kernel(tmp_path, monkeypatch, failures=1)
    path = notebook("hello.ipynb", None, "print('RAN' + '-ONCE')", kernel="flaky")
    outcome, log = run(path, tmp_path)
    assert outcome["status"] == SUCCEEDED, (outcome, log)
    assert countdown.read_text() == "0"
    assert log.count("kernel died while starting") == 1
    assert "RAN-ONCE" in (tmp_path / "out.ipynb").read_text()


def test_a_kernel_that_never_starts_fails_the_run_after_the_attempts(tmp_path: Path, monkeypatch, notebook):
    countdown = flaky_kernel(tmp_path, monkeypatch, failures=KERNEL_START_ATTEMPTS + 5)
    path = notebook("hello.ipynb", None, "print('never')", kernel="flaky")
    outcome, log = run(path, tmp_path)
    assert outcome["status"] == "failed"
    assert "kernel_info" in outcome["error"]
    assert log.count("kernel died while starting") == KERNEL_START_ATTEMPTS - 1
    assert int(countdown.read_text()) == 5  # exactly KERNEL_START_ATTEMPTS starts
