"""Steps that run work: a failing flow fails the workflow at that step, and `resume` after the fix runs
it again; a notebook step runs papermill on a real kernel."""

from __future__ import annotations

import json

import nbformat
import pytest

from aqtra_nb import workflows
from aqtra_nb.cli import main

FLOW = """
flow: count_rows
parameters:
  path: {type: string}
steps:
  - {id: rows, component: read_csv, with: {path: "${path}"}}
  - {id: big, component: filter, input: rows, with: {condition: "n > 1"}}
"""

WITH_FLOW = """
workflow: counting
parameters:
  data: {type: string}
steps:
  - id: count
    kind: run_flow
    flow: count.flow.yaml
    parameters: {path: "${data}"}
  - id: enough
    kind: if
    condition: "`count.rows` >= 2 and `count.status` == 'succeeded'"
    then: yes
    else: no
  - {id: yes, kind: finish, message: "${count.rows} rows in run ${count.run_id}"}
  - {id: no, kind: finish, status: failed, message: "only ${count.rows}"}
"""


def test_a_failed_step_is_kept_and_resume_runs_it_again(sqlite_store, tmp_path, capsys):
    (tmp_path / "count.flow.yaml").write_text(FLOW)
    (tmp_path / "counting.workflow.yaml").write_text(WITH_FLOW)
    data = tmp_path / "data.csv"
    assert main(["workflows", "start", str(tmp_path / "counting.workflow.yaml"), "-p", f"data={data}"]) == 1
    out = capsys.readouterr().out
    assert "failed at count" in out and "step 'count'" in out and "data.csv" in out
    (wf,) = workflows.instances(name="counting")
    assert [(s.step_id, s.status) for s in workflows.history(wf.id)] == [("count", "failed")]

    data.write_text("n\n1\n2\n3\n")
    done = workflows.resume(wf.id)
    assert done.status == "succeeded"
    run_id = done.results["count"]["run_id"]
    assert done.message == f"2 rows in run {run_id}"
    from aqtra_nb.runs import default_store

    assert default_store().run(run_id).status == "succeeded"  # the flow run is in the run store
    assert main(["workflows", "show", wf.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [h["status"] for h in shown["history"]] == ["failed", "finished", "finished", "finished"]


def notebook(path, source: str) -> None:
    book = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("limit = 5\nlabel = 'x'")
    params.metadata["tags"] = ["parameters"]
    book.cells = [params, nbformat.v4.new_code_cell(source)]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(book, path)


@pytest.mark.slow
def test_run_notebook_step(sqlite_store, tmp_path):
    notebook(tmp_path / "check.ipynb", "assert limit < 10, f'{label}: limit {limit} too high'")
    (tmp_path / "nb.workflow.yaml").write_text(
        "workflow: nb\nparameters:\n  limit: {type: integer}\nsteps:\n"
        "  - {id: check, kind: run_notebook, notebook: check.ipynb, parameters: {limit: '${limit}', label: run}, "
        "timeout: 120}\n"
        "  - {id: done, kind: finish, message: '${check.status}'}\n"
    )
    good = workflows.start(tmp_path / "nb.workflow.yaml", {"limit": 3})
    assert good.status == "succeeded" and good.message == "succeeded"
    output = nbformat.read(good.results["check"]["output_path"], as_version=4)
    assert "limit = 3" in output.cells[1].source  # papermill's injected parameters
    bad = workflows.start(tmp_path / "nb.workflow.yaml", {"limit": 30})
    assert bad.status == "failed" and bad.current_step == "check"
    assert "run: limit 30 too high" in bad.error


@pytest.mark.slow
def test_docs_example_runs(tmp_path):
    """The Python example of docs/workflows.md runs as written, in a fresh process and store."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "workflows.md").read_text()
    block = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    env = dict(os.environ, AQTRA_HOME=str(tmp_path), AQTRA_DATABASE_URL=f"sqlite:///{tmp_path / 'docs.db'}")
    done = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "waiting ask",
        "Refund taxi (250.0)?",
        "succeeded refunded",
        "approved maria",
        "['check', 'ask', 'approved', 'done']",
    ]


ASK = """
workflow: ask
steps:
  - {id: ask, kind: ask_confirmation, title: "go?", approve: yes, reject: no}
  - {id: yes, kind: finish}
  - {id: no, kind: finish, status: cancelled}
"""


def test_two_deciders_at_once_only_one_wins(store_url, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from aqtra_nb.workflows import tasks

    (tmp_path / "ask.workflow.yaml").write_text(ASK)
    wf = workflows.start(tmp_path / "ask.workflow.yaml")
    (task,) = tasks.list()
    barrier = __import__("threading").Barrier(2)

    def decide(decision: str):
        barrier.wait()
        try:
            return tasks.decide(task.id, decision, by=decision)
        except workflows.WorkflowError as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(decide, ["approved", "rejected"]))
    errors = [o for o in outcomes if isinstance(o, workflows.WorkflowError)]
    assert len(errors) == 1
    final = workflows.get(wf.id)
    decided = tasks.get(task.id)
    assert final.status == ("succeeded" if decided.status == "approved" else "cancelled")
    assert final.results["ask"]["by"] == decided.decided_by == decided.status


def test_a_secret_in_a_webhook_header_never_reaches_the_store_or_the_error(sqlite_store, tmp_path):
    from http_server import ApiServer

    from aqtra_nb.runs import default_store
    from aqtra_nb.secrets import SecretStore

    planted = "wf-hook-s3cret-7731"
    SecretStore(default_store()).set("WF_HOOK", planted)
    with ApiServer() as api:
        (tmp_path / "hook.workflow.yaml").write_text(
            "workflow: hook\nsteps:\n"
            f"  - {{id: tell, kind: notify, webhook: '{api.url}/fail', subject: s,"
            " headers: {Authorization: 'Bearer ${secret:WF_HOOK}'}}\n"
            "  - {id: done, kind: finish}\n"
        )
        wf = workflows.start(tmp_path / "hook.workflow.yaml")
        assert api.hits["/fail"] == 1  # the server got the header (and echoed it in its error page)
    assert wf.status == "failed" and f"webhook {api.url}/fail answered 500" in wf.error
    assert planted not in wf.error and "Bearer ***" in wf.error
    default_store().engine.dispose()  # checkpoint nothing in memory: read the file and its WAL as they are
    for path in tmp_path.glob("aqtra.db*"):
        assert planted.encode() not in path.read_bytes(), path


def test_a_draft_runs_on_resume_and_a_waiting_workflow_is_not_resumed(sqlite_store, tmp_path, capsys):
    from aqtra_nb.workflows import tasks

    (tmp_path / "ask.workflow.yaml").write_text(ASK)
    assert main(["workflows", "start", str(tmp_path / "ask.workflow.yaml"), "--draft", "--json"]) == 0
    draft = json.loads(capsys.readouterr().out)
    assert draft["status"] == "draft" and tasks.list() == []
    assert workflows.resume(draft["id"]).status == "waiting"
    (task,) = tasks.list()
    assert main(["workflows", "resume", draft["id"]]) == 2
    assert f"waits for task {task.id} (ask)" in capsys.readouterr().err
    assert main(["tasks", "approve", task.id, "--no-run"]) == 0
    assert "running" in capsys.readouterr().out  # decided, not yet run on
    assert workflows.resume(draft["id"]).status == "succeeded"
    with pytest.raises(workflows.WorkflowError, match="give 'Entity:ID', an id"):
        workflows.start(tmp_path / "ask.workflow.yaml", record={"name": "no id"})
