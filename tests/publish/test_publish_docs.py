"""The Python example of docs/publish.md runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_publish_doc_example_runs(tmp_path: Path):
    text = (ROOT / "docs" / "publish.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "{'min_amount': 250.0, 'region': 'south'}" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_readme_and_architecture_point_to_the_publishing_doc():
    assert "docs/publish.md" in (ROOT / "README.md").read_text()
    assert "aqtra_nb/publish/" in (ROOT / "docs" / "architecture.md").read_text()
