"""The component reference in docs/flows.md is generated from the registry and must be current."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_component_reference_is_current():
    spec = importlib.util.spec_from_file_location("gen_components", ROOT / "docs" / "gen_components.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "flows.md").read_text()
    assert text.endswith(module.reference()), "docs/flows.md is stale: run python docs/gen_components.py"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . && aqtra-nb demo" in readme
    assert 'pip install -e ".[test]" && python -m pytest' in readme
    assert 'pip install -e ".[test]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()


def test_data_doc_example_runs(tmp_path):
    """The Python example of docs/data.md runs as written (SQLite in a temporary folder)."""
    import re
    import subprocess
    import sys

    text = (ROOT / "docs" / "data.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "filter pushed into reader: amount >= 200.0 and status in ('paid', 'shipped')" in done.stdout
    assert "reads only: region, status, amount" in done.stdout
    assert "regions written" in done.stdout


def test_cache_doc_example_runs(tmp_path):
    """The Python example of docs/cache.md runs as written and prints what it says."""
    import os
    import re
    import subprocess
    import sys

    text = (ROOT / "docs" / "cache.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    env = {**os.environ, "AQTRA_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    expected = re.search(r"# (\{'orders'.*\})", blocks[0]).group(1)
    assert done.stdout.strip() == expected
