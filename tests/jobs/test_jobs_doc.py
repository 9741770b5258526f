"""The Python example of docs/jobs.md runs as written, and the example scheduled notebook works as a job."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_jobs_doc_example_runs(tmp_path):
    text = (ROOT / "docs" / "jobs.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "import" in b]
    assert len(blocks) == 1
    env = dict(os.environ, AQTRA_HOME=str(tmp_path / "home"))
    env.pop("AQTRA_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "NotebookParameter(type='integer'" in lines[0]
    assert lines[1] == "succeeded {'n': 12} ['html', 'log', 'notebook']"
    assert lines[2] == "n squared is 144"
    assert lines[3] == "cancelled"


def test_example_scheduled_notebook_as_a_job(tmp_path):
    from aqtra_nb import jobs
    from aqtra_nb.store import Store

    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    notebook = ROOT / "notebooks" / "05-scheduled-report.ipynb"
    declared = jobs.notebook_parameters(notebook)
    assert {name: p.type for name, p in declared.items()} == {
        "scale": "number",
        "min_amount": "number",
        "region": "string",
        "output_dir": "string",
    }
    out = tmp_path / "report"
    jobs.schedule(
        notebook, name="report", parameters={"region": "North", "output_dir": str(out)}, store=store
    )
    run = jobs.run("report", {"min_amount": "500"}, wait=True, store=store)
    assert run.status == "succeeded", jobs.log(run.id, store)
    summary = (out / "summary.csv").read_text().splitlines()
    assert (
        summary[0] == '"region","orders","revenue"' and len(summary) == 2 and summary[1].startswith('"North"')
    )
    assert "orders >= 500.0" in jobs.log(run.id, store)
    store.close()
