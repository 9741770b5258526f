"""What a run process imports before its task comes (`jobs/child.py`): papermill without jsonschema's
`rfc3987_syntax` grammars (0.65 s of its import), notebooks still validated; a process that imported
jsonschema already (a server: jupyter-events checks formats) is left as it is."""

from __future__ import annotations

import subprocess
import sys

WARM_THEN_VALIDATE = """
import sys
from aqtra_nb.jobs import child
child.warm()
import nbformat
nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))
print(sys.modules.get("rfc3987_syntax") is None, "papermill" in sys.modules)  # None: refused
"""

SERVER_FIRST = """
import sys
import jsonschema
from aqtra_nb.jobs import child
child.without_iri_syntax_checks()
print(sys.modules.get("rfc3987_syntax", "absent") is not None)
"""


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_run_process_imports_papermill_without_the_iri_grammars():
    assert run(WARM_THEN_VALIDATE) == "True True"


def test_a_process_that_has_jsonschema_already_keeps_its_format_checkers():
    assert run(SERVER_FIRST) == "True"
