"""Notebook parameters read from the `parameters` cell, checked before a run; papermill execution ends in
the right status with the output notebook, its HTML and the log kept."""

from __future__ import annotations

import json

import pytest

from aqtra_nb.errors import AqtraError, ParameterError
from aqtra_nb.jobs import check_parameters, execute_notebook, notebook_parameters

PARAMS = """\
import datetime
day: str = "2024-01-01"  # a comment
n = 3
ratio = 0.5
flag: bool = False
regions = ["North", "South"]
limit: int | None = None
%matplotlib inline
anything = None
started = datetime.date.today()
"""


def test_types_come_from_annotations_then_literal_defaults(notebook):
    params = notebook_parameters(notebook("p.ipynb", PARAMS))
    kinds = {name: (p.type if p.typed else None) for name, p in params.items()}
    assert kinds == {
        "day": "string",
        "n": "integer",
        "ratio": "number",
        "flag": "boolean",
        "regions": "list",
        "limit": "integer",
        "anything": None,
        "started": None,
    }
    assert params["n"].default == 3 and params["regions"].default == ["North", "South"]
    assert not any(p.required for p in params.values())


def test_check_parameters_converts_and_names_what_is_wrong(notebook):
    path = notebook("p.ipynb", PARAMS)
    assert check_parameters(path, {"n": "7", "ratio": 2, "flag": "true", "anything": {"a": 1}}) == {
        "n": 7,
        "ratio": 2.0,
        "flag": True,
        "anything": {"a": 1},
    }
    with pytest.raises(ParameterError) as info:
        check_parameters(path, {"ration": 1.0})
    message = str(info.value)
    assert (
        "p.ipynb" in message and "unknown parameter 'ration'" in message and "Did you mean 'ratio'" in message
    )
    assert info.value.field == "ration"
    with pytest.raises(ParameterError) as info:
        check_parameters(path, {"n": "many"})
    assert "p.ipynb" in str(info.value) and "parameter 'n' expects an integer" in str(info.value)


def test_notebook_without_parameters_cell_or_missing(notebook, tmp_path):
    path = notebook("plain.ipynb", None, "print(1)")
    assert notebook_parameters(path) == {}
    assert check_parameters(path, {}) == {}
    with pytest.raises(ParameterError, match="no cell tagged `parameters`"):
        check_parameters(path, {"x": 1})
    with pytest.raises(AqtraError, match="notebook not found"):
        notebook_parameters(tmp_path / "nope.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(AqtraError, match="not a readable notebook"):
        notebook_parameters(tmp_path / "bad.ipynb")


@pytest.mark.slow
def test_execute_success_keeps_notebook_html_and_log(notebook, tmp_path):
    path = notebook("ok.ipynb", "n = 1\nname = 'x'", "print('hello', n * 2, name)", "n * 10")
    outcome = execute_notebook(path, {"n": "21"}, output_path=tmp_path / "out" / "ok.ipynb")
    assert outcome.ok and outcome.error is None
    assert "hello 42 x" in outcome.log_path.read_text()
    out = json.loads(outcome.output_path.read_text())
    assert "".join(out["cells"][-1]["outputs"][0]["data"]["text/plain"]) == "210"
    assert "hello 42 x" in outcome.html_path.read_text()


@pytest.mark.slow
def test_execute_failure_marks_the_failing_cell(notebook, tmp_path):
    path = notebook("bad.ipynb", "n = 1", "x = n + 1", "raise ValueError(f'boom {x}')", "print('never')")
    outcome = execute_notebook(path, {}, output_path=tmp_path / "out" / "bad.ipynb")
    assert outcome.status == "failed" and outcome.error == "ValueError: boom 2"
    cells = json.loads(outcome.output_path.read_text())["cells"]
    failed = cells[outcome.failed_cell]
    assert "raise ValueError" in "".join(failed["source"])
    assert failed["metadata"]["papermill"]["exception"] is True
    assert any(o["output_type"] == "error" for o in failed["outputs"])
    assert "never" not in outcome.log_path.read_text()
    assert "boom 2" in outcome.log_path.read_text()


@pytest.mark.slow
def test_hung_cell_is_killed_at_the_timeout(notebook, tmp_path):
    import psutil

    path = notebook(
        "hang.ipynb",
        None,
        "import os\nopen('kernel.pid', 'w').write(str(os.getpid()))\nprint('started', flush=True)",
        "import time\ntime.sleep(600)",
    )
    outcome = execute_notebook(path, {}, output_path=tmp_path / "out" / "hang.ipynb", timeout=12)
    assert outcome.status == "timed_out" and "time limit of 12 s" in outcome.error
    assert outcome.seconds < 30
    kernel_pid = int((tmp_path / "kernel.pid").read_text())
    assert not psutil.pid_exists(kernel_pid) or psutil.Process(kernel_pid).status() == psutil.STATUS_ZOMBIE
    log = outcome.log_path.read_text()
    assert "started" in log and "timed_out" in log
    cells = json.loads(outcome.output_path.read_text())["cells"]
    assert "time.sleep(600)" in "".join(cells[outcome.failed_cell]["source"])


@pytest.mark.slow
def test_kernel_that_dies_fails_the_run_with_the_cell_marked(notebook, tmp_path):
    path = notebook(
        "dies.ipynb", None, "print('about to die', flush=True)", "import os\nos._exit(3)", "print(1)"
    )
    outcome = execute_notebook(path, {}, output_path=tmp_path / "out" / "dies.ipynb", timeout=120)
    assert outcome.status == "failed" and "DeadKernelError" in outcome.error
    cells = json.loads(outcome.output_path.read_text())["cells"]
    assert "os._exit(3)" in "".join(cells[outcome.failed_cell]["source"])
    assert "about to die" in outcome.log_path.read_text()
