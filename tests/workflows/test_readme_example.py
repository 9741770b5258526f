"""The README's workflow example as a new user runs it: no SMTP server, a fresh home, real `aqtra-nb`
processes from the checkout's root. It finishes, the email lands in the outbox, and the order file goes
under the home, not into the checkout. Notification settings that cannot work fail at start."""

from __future__ import annotations

import json
import re

import pytest
from workflow_helpers import EXAMPLES, cli

from aqtra_nb import workflows

ROOT = EXAMPLES.parents[1]


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    for name in ("AQTRA_DATABASE_URL", "AQTRA_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.mark.slow
def test_the_readme_workflow_example_finishes_without_a_mail_server(fresh_home):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Workflows and approvals", 1)[1].split("\n## ", 1)[0]
    commands = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    assert "aqtra-nb records add notebooks/workflows/purchase_models.py:Requisition" in commands
    assert "--record Requisition:1" in commands and "aqtra-nb outbox" in commands
    before = set(EXAMPLES.iterdir())

    added = cli(
        "records",
        "add",
        "notebooks/workflows/purchase_models.py:Requisition",
        "item=chairs",
        "amount=900",
        "requester=ann@example.com",
        cwd=ROOT,
    )
    assert added.stdout.strip() == "added Requisition 1"
    started = cli(
        "workflows",
        "start",
        "notebooks/workflows/purchase_request.workflow.yaml",
        "--record",
        "Requisition:1",
        cwd=ROOT,
    )
    assert "waiting at ask_manager" in started.stdout
    (task,) = json.loads(cli("tasks", "list", "--json", cwd=ROOT).stdout)
    approved = cli("tasks", "approve", task["id"], "--option", "rush", cwd=ROOT)
    assert "succeeded: approved by" in approved.stdout, approved.stdout + approved.stderr

    outbox = cli("outbox", cwd=ROOT).stdout
    assert "ann@example.com" in outbox and "Purchase of chairs approved (rush)" in outbox
    shown = json.loads(cli("workflows", "show", task["workflow_id"], "--json", cwd=ROOT).stdout)
    (kept,) = shown["results"]["tell_requester"]["delivered"]
    assert kept.startswith(str(fresh_home / "outbox")) and kept.endswith(".eml")
    (order,) = (fresh_home / "workflows").glob("*/orders/order-1.csv")
    assert "chairs" in order.read_text()
    assert set(EXAMPLES.iterdir()) == before  # nothing written beside the example
    assert not (EXAMPLES / "orders").exists()


def test_a_missing_smtp_connection_fails_when_the_workflow_starts(fresh_home, tmp_path):
    path = tmp_path / "tell.workflow.yaml"
    path.write_text(
        "workflow: tell\nsteps:\n"
        "  - {id: first, kind: notify, webhook: 'https://example.com/hook', subject: hi}\n"
        "  - {id: mail, kind: notify, email: [ann@example.com], smtp: mial, subject: hi}\n"
        "  - {id: done, kind: finish}\n"
    )
    with pytest.raises(workflows.WorkflowValidationError) as info:
        workflows.start(path)
    error = info.value
    assert (error.step, error.field) == ("mail", "smtp")
    assert "its email cannot be sent" in str(error) and "unknown connection 'mial'" in str(error)
    assert workflows.instances() == []  # refused before anything ran (the webhook was not called)

    path.write_text(
        "workflow: tell\nsteps:\n"
        "  - id: hook\n    kind: notify\n    webhook: https://example.com/hook\n"
        "    headers: {Authorization: 'Bearer ${secret:HOOK_TOKEN}'}\n    subject: hi\n"
        "  - {id: done, kind: finish}\n"
    )
    done = cli("workflows", "start", str(path), check=2)
    assert "step 'hook', field 'headers.Authorization'" in done.stderr
    assert "secret 'HOOK_TOKEN' is not stored; `aqtra-nb secrets set HOOK_TOKEN`" in done.stderr
