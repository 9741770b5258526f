"""`aqtra-nb` ends without tearing its modules down (`cli.exit_quickly`), yet as Python's own exit would:
background writes finished, output flushed, exit codes kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

FLOW = """\
flow: small
steps:
  - {id: orders, component: read_csv, with: {path: data.csv}}
  - {id: totals, component: derive, input: orders, with: {columns: {value: "amount * 2"}}}
"""


def aqtra(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "AQTRA_HOME": str(tmp_path / "home"), **env}
    environment.pop("AQTRA_DATABASE_URL", None)
    command = [sys.executable, "-m", "aqtra_nb.cli", *args]
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)


@pytest.fixture
def flow(tmp_path):
    (tmp_path / "data.csv").write_text("region,amount\nnorth,1\nsouth,2\n")
    (tmp_path / "small.flow.yaml").write_text(FLOW)
    return tmp_path / "small.flow.yaml"


def test_a_run_ends_with_its_record_and_its_step_cache_writes_done(tmp_path, flow):
    """The step cache writes on a thread of its own; the command waits for it before it ends."""
    done = aqtra(tmp_path, "run", "--no-progress", flow.name, AQTRA_CACHE_MIN_SECONDS="-1")
    assert done.returncode == 0, done.stderr
    assert "totals" in done.stdout
    written = sorted(p.name.split(".")[1] for p in (tmp_path / "home" / "cache").rglob("*.parquet"))
    assert len(written) == 2, written  # both steps' outputs on disk
    listed = aqtra(tmp_path, "runs", "list", "--json")
    assert [run["status"] for run in json.loads(listed.stdout)] == ["succeeded"]


def test_long_output_is_all_there_and_exit_codes_are_kept(tmp_path, flow):
    schema = aqtra(tmp_path, "schema")
    assert schema.returncode == 0 and len(schema.stdout) > 50_000
    assert json.loads(schema.stdout)["title"]  # the whole document, flushed
    mistake = aqtra(tmp_path, "validate", "missing.flow.yaml")
    assert mistake.returncode == 2 and "flow file not found: missing.flow.yaml" in mistake.stderr
    assert "Traceback" not in mistake.stderr
    assert aqtra(tmp_path, "no-such-command").returncode == 2  # argparse's own exit
