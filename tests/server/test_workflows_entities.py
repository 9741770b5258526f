"""Workflows, their tasks and entity records through the API."""

from __future__ import annotations

import pytest
from server_process import wait_for_status

pytestmark = pytest.mark.slow


def test_records_are_created_listed_filtered_updated_and_deleted(server, http):
    api = f"{server.api}/entities/Ticket"
    made = [http.post(api, json={"title": f"t{i}", "priority": i}) for i in range(5)]
    assert all(r.status_code == 201 for r in made)
    first = made[0].json()
    assert first["title"] == "t0" and isinstance(first["id"], int)
    listed = http.get(api, params={"filter": "priority >= 3", "order_by": "-priority"}).json()
    assert [r["title"] for r in listed["records"]] == ["t4", "t3"] and listed["total"] == 2
    assert http.get(api, params={"limit": 2, "offset": 1}).json()["records"][0]["title"] == "t1"
    updated = http.put(f"{api}/{first['id']}", json={"priority": 9})
    assert updated.status_code == 200 and updated.json()["priority"] == 9
    bad = http.post(api, json={"title": "x", "priority": "high"})
    assert bad.status_code == 400 and "priority" in (bad.json()["field"] or "") + bad.json()["error"]
    unknown_column = http.get(api, params={"filter": "priorty > 1"})
    assert unknown_column.status_code == 400 and "priority" in unknown_column.json()["error"]
    assert http.delete(f"{api}/{first['id']}").status_code == 200
    assert http.get(f"{api}/{first['id']}").status_code == 404
    assert http.get(f"{server.api}/entities/Nope").status_code == 404
    assert http.get(f"{server.api}/entities/os:system").status_code == 400


def test_a_workflow_waits_for_a_task_approved_over_http(server, http):
    ticket = http.post(f"{server.api}/entities/Ticket", json={"title": "printer"}).json()
    started = http.post(
        f"{server.api}/workflows", json={"path": "close.workflow.yaml", "record": f"Ticket:{ticket['id']}"}
    )
    assert started.status_code == 202, started.text
    workflow_id = started.json()["id"]
    waiting = wait_for_status(http, f"{server.api}/workflows/{workflow_id}", "waiting")
    task = waiting["open_task"]
    assert task["title"] == "Close printer?" and task["options"] == ["now", "later"]
    assert task["id"] in [t["id"] for t in http.get(f"{server.api}/tasks").json()["tasks"]]

    wrong = http.post(f"{server.api}/tasks/{task['id']}/approve", json={"option": "soon"})
    assert wrong.status_code == 400 and "soon" in wrong.json()["error"]
    approved = http.post(
        f"{server.api}/tasks/{task['id']}/approve", json={"option": "later", "comment": "ok"}
    )
    assert approved.status_code == 202
    done = wait_for_status(http, f"{server.api}/workflows/{workflow_id}", "succeeded")
    assert done["message"] == "ticket deferred"
    assert http.get(f"{server.api}/entities/Ticket/{ticket['id']}").json()["status"] == "deferred"
    again = http.post(f"{server.api}/tasks/{task['id']}/reject", json={})
    assert again.status_code == 400 and "already" in again.json()["error"]
    assert http.post(f"{server.api}/workflows/{workflow_id}/cancel", json={}).status_code == 400


def test_a_task_rejected_over_http_ends_the_workflow_rejected_by_the_signed_in_user(server, http):
    ticket = http.post(f"{server.api}/entities/Ticket", json={"title": "lamp"}).json()
    started = http.post(
        f"{server.api}/workflows", json={"path": "close.workflow.yaml", "record": ticket["id"]}
    )
    workflow_id = started.json()["id"]
    task = wait_for_status(http, f"{server.api}/workflows/{workflow_id}", "waiting")["open_task"]
    assert http.post(f"{server.api}/tasks/{task['id']}/reject", json={}).status_code == 202
    done = wait_for_status(http, f"{server.api}/workflows/{workflow_id}", "rejected")
    decided = next(t for t in http.get(f"{server.api}/tasks", params={"status": "rejected"}).json()["tasks"])
    assert decided["id"] == task["id"] and decided["decided_by"]
    assert done["message"] == f"rejected by {decided['decided_by']}"


def test_a_workflow_is_cancelled_with_its_task(server, http):
    ticket = http.post(f"{server.api}/entities/Ticket", json={"title": "desk"}).json()
    started = http.post(
        f"{server.api}/workflows", json={"path": "close.workflow.yaml", "record": ticket["id"]}
    )
    workflow_id = started.json()["id"]
    wait_for_status(http, f"{server.api}/workflows/{workflow_id}", "waiting")
    cancelled = http.post(f"{server.api}/workflows/{workflow_id}/cancel", json={"reason": "duplicate"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert http.get(f"{server.api}/tasks", params={"status": "open"}).json()["tasks"] == [] or all(
        t["workflow_id"] != workflow_id for t in http.get(f"{server.api}/tasks").json()["tasks"]
    )
    assert http.get(f"{server.api}/workflows/nope").status_code in (400, 404)
