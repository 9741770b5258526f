"""The example purchase-request workflow end to end: waits for a manager, approved from Python and from
the CLI, rejected, auto-approved; the record, the order file and the emails show which branch ran."""

from __future__ import annotations

import getpass
import json

import pandas as pd
import pytest
from workflow_helpers import EXAMPLES, cli

from aqtra_nb import workflows
from aqtra_nb.cli import main
from aqtra_nb.workflows import tasks

WORKFLOW = EXAMPLES / "purchase_request.workflow.yaml"


def test_waits_for_a_manager_then_follows_the_picked_option(store_url, smtp, purchase_request, tmp_path):
    request = purchase_request.create(
        item="laptop", amount=1200.0, requester="ann@example.com", department="it"
    )
    wf = workflows.start(WORKFLOW, {"out_dir": str(tmp_path)}, record=request)
    assert wf.status == "waiting" and wf.current_step == "ask_manager"
    assert purchase_request.get(request.id).status == "draft"  # nothing decided yet
    (task,) = tasks.list(assignee="manager")
    assert task.title == "Approve laptop for 1200.0 (it)?"
    assert task.options["options"] == ["standard", "rush"]
    with pytest.raises(workflows.WorkflowError, match="no option 'rushh'. Did you mean 'rush'"):
        tasks.approve(task.id, option="rushh")
    with pytest.raises(workflows.WorkflowError, match="pick an option to approve"):
        tasks.approve(task.id)

    wf = tasks.approve(task.id, option="rush", by="maria")
    assert wf.status == "succeeded" and wf.message == "approved by maria, order placed"
    record = purchase_request.get(request.id)
    assert (record.status, record.priority, record.decided_by) == ("approved", "rush", "maria")
    assert record.updated_by == "workflow:purchase_request"
    order = pd.read_csv(tmp_path / f"order-{request.id}.csv")
    assert order.to_dict("records") == [
        {
            "id": request.id,
            "item": "laptop",
            "amount": 1200.0,
            "department": "it",
            "priority": "rush",
            "decided_by": "maria",
        }
    ]
    ((sender, recipients, message),) = smtp.messages
    assert recipients == ["ann@example.com"] and sender == "workflows@example.com"
    assert message["Subject"] == "Purchase of laptop approved (rush)"
    ran = [(s.step_id, s.status) for s in workflows.history(wf.id)]
    assert ran == [
        ("check_amount", "finished"),
        ("ask_manager", "finished"),
        ("approve_rush", "finished"),
        ("place_order", "finished"),
        ("tell_requester", "finished"),
        ("done", "finished"),
    ]
    assert wf.results["place_order"]["status"] == "succeeded" and wf.results["place_order"]["rows"] == 1
    with pytest.raises(workflows.WorkflowError, match="already approved by maria"):
        tasks.reject(task.id)


@pytest.mark.slow
def test_approve_and_reject_from_the_cli(sqlite_store, smtp, purchase_request, tmp_path, capsys):
    """Start and approve in real `aqtra-nb` processes; the quick commands through `cli.main` in-process."""
    big = purchase_request.create(item="server", amount=9000.0, requester="bob@example.com")
    other = purchase_request.create(item="desk", amount=800.0, requester="cy@example.com")
    started = cli(
        "workflows",
        "start",
        str(WORKFLOW),
        "--record",
        f"Requisition:{big.id}",
        "-p",
        f"out_dir={tmp_path}",
        "--json",
    )
    info = json.loads(started.stdout)
    assert info["status"] == "waiting" and info["step"] == "ask_manager"
    assert main(["workflows", "start", str(WORKFLOW), "--record", str(other.id), "--json"]) == 0
    second = json.loads(capsys.readouterr().out)

    assert main(["tasks", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["title"] for t in listed] == [
        "Approve server for 9000.0 (general)?",
        "Approve desk for 800.0 (general)?",
    ]
    assert main(["tasks", "approve", info["task"], "--option", "fast"]) == 2
    err = capsys.readouterr().err
    assert "has no option 'fast'" in err and "Options: standard, rush" in err and "Traceback" not in err

    approved = cli("tasks", "approve", info["task"], "--option", "standard", "--by", "lee")
    assert "succeeded: approved by lee, order placed" in approved.stdout
    assert main(["tasks", "reject", second["task"], "--by", "lee", "--comment", "over budget"]) == 0
    rejected = capsys.readouterr().out
    assert f"{second['id'][:12]}: rejected by lee" in rejected, rejected  # a rejection, not a cancel

    assert purchase_request.get(big.id).priority == "standard"
    assert (tmp_path / f"order-{big.id}.csv").exists()
    assert purchase_request.get(other.id).status == "rejected"
    subjects = sorted(m["Subject"] for _, _, m in smtp.messages)
    assert subjects == ["Purchase of desk rejected", "Purchase of server approved (standard)"]
    rejection = next(m for _, _, m in smtp.messages if "rejected" in m["Subject"])
    assert "rejected by lee. over budget" in rejection.get_payload()
    assert main(["tasks", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no open tasks"
    assert main(["workflows", "list", "--status", "rejected"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(second["id"][:12]) and f"Requisition:{other.id}" in line
    assert main(["workflows", "show", second["id"][:8]]) == 0
    shown = capsys.readouterr().out
    assert "mark_rejected" in shown and "tell_rejected" in shown and "approve_standard" not in shown


def test_small_amounts_are_approved_without_a_task(sqlite_store, smtp, purchase_request, tmp_path):
    small = purchase_request.create(item="mouse", amount=25.0, requester="dan@example.com")
    wf = workflows.start(WORKFLOW, {"out_dir": str(tmp_path)}, record=f"Requisition:{small.id}")
    assert wf.status == "succeeded" and tasks.list() == []
    assert purchase_request.get(small.id).decided_by == "automatic"
    assert wf.results["check_amount"] == {"value": False}
    with pytest.raises(
        workflows.WorkflowError, match="works on a purchase_models:Requisition record: give one"
    ):
        workflows.start(WORKFLOW)
    # parameters are typed
    with pytest.raises(Exception, match="auto_approve_limit"):
        workflows.start(WORKFLOW, {"auto_approve_limit": "lots"}, record=small)


def test_without_by_the_cli_says_it_took_the_os_user(store_url, smtp, purchase_request, tmp_path, capsys):
    """`tasks reject` and `workflows cancel` without `--by` record the operating-system user and say so;
    the rejection reads as one (status `rejected`), the cancel as a cancel."""
    user = getpass.getuser()
    first = purchase_request.create(item="lamp", amount=900.0, requester="di@example.com")
    wf = workflows.start(WORKFLOW, {"out_dir": str(tmp_path)}, record=first)
    (task,) = tasks.list()
    assert main(["tasks", "reject", task.id]) == 0
    out = capsys.readouterr().out
    assert f"task {task.id} rejected by {user}, the OS user (--by NAME to name who)" in out
    assert f"{wf.id[:12]}: rejected by {user}" in out
    assert (workflows.get(wf.id).status, tasks.get(task.id).decided_by) == ("rejected", user)
    with pytest.raises(workflows.WorkflowError, match="was rejected; nothing to cancel"):
        workflows.cancel(wf.id)

    second = workflows.start(
        WORKFLOW,
        {"out_dir": str(tmp_path)},
        record=purchase_request.create(item="rug", amount=800.0, requester="ed@example.com"),
    )
    assert main(["workflows", "cancel", second.id]) == 0
    out = capsys.readouterr().out
    assert f"workflow {second.id[:12]} cancelled by {user}, the OS user" in out
    assert f"{second.id[:12]}: cancelled by {user}" in out
    assert main(["tasks", "list", "--all", "--json"]) == 0
    decided = {t["id"]: t["status"] for t in json.loads(capsys.readouterr().out)}
    assert decided[task.id] == "rejected"
