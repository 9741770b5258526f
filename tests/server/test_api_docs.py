"""docs/api.md's curl examples, run as written against a real server (the start command excepted)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from server_process import TOKEN

pytestmark = pytest.mark.slow

DOC = Path(__file__).parents[2] / "docs" / "api.md"
BLOCKS = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)


def test_the_doc_has_examples():
    assert len(BLOCKS) >= 7 and "jupyter server" in BLOCKS[0]


@pytest.mark.parametrize("block", BLOCKS[1:], ids=lambda b: b.split("\n")[0][:60])
def test_curl_example(server, block):
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        env={**os.environ, "URL": server.url, "TOKEN": TOKEN},
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Forbidden" not in out and "Traceback" not in out
    if "min_amont" in block:
        assert '"field": "min_amont"' in out
    else:
        assert not re.search(r'"error": ?"', out), out[:2000]  # `"error": null` in events is fine
    if "/events" in block:
        assert "event: end" in out and '"status": "succeeded"' in out
    if "flows/validate" in block:
        assert '"ok": true' in out
