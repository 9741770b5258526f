"""The REST API against a real Jupyter server on loopback, used as a script would use it (`requests`)."""

from __future__ import annotations

import json
import stat
import time

import pytest
import requests

from aqtra_nb.server.handlers import routes

pytestmark = pytest.mark.slow


def follow(http: requests.Session, api: str, run_id: str) -> list[tuple[str, dict]]:
    """The run's server-sent events until `end`: (event, data) pairs."""
    events, kind = [], "message"
    with http.get(f"{api}/runs/{run_id}/events", stream=True, timeout=60) as reply:
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/event-stream")
        for line in reply.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
                if kind == "end":
                    break
    return events


def test_validate_preview_run_and_follow_a_flow_over_http(server, http):
    flow = (server.root / "sales.flow.yaml").read_text()
    checked = http.post(f"{server.api}/flows/validate", json={"flow": flow}).json()
    assert checked["ok"] and checked["errors"] == []
    assert checked["steps"]["totals"]["columns"] == {"status": "str", "n": "int64", "revenue": "float64"}

    preview = http.post(
        f"{server.api}/flows/preview",
        json={"flow": flow, "step": "big", "rows": 3, "parameters": {"min_amount": 90}},
    ).json()
    assert preview["columns"] == {"amount": "float64", "status": "str"}
    assert preview["rows"] == [[90.0, "paid"], [91.0, "shipped"], [92.0, "paid"]]

    started = http.post(
        f"{server.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"min_amount": 50}}
    )
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    events = follow(http, server.api, run_id)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "run_started" and kinds[-2:] == ["run_finished", "end"]
    finished = {data["step"]: data["rows"] for kind, data in events if kind == "step_finished"}
    assert finished == {"orders": 100, "big": 50, "slow": 50, "totals": 3}
    assert all(data["run_id"] == run_id for _, data in events)
    assert events[-1][1]["status"] == "succeeded"

    run = http.get(f"{server.api}/runs/{run_id[:8]}").json()
    assert run["status"] == "succeeded" and run["parameters"] == {"min_amount": 50}
    assert {s["step"]: s["rows"] for s in run["steps"]}["totals"] == 3
    listed = http.get(f"{server.api}/runs", params={"flow": "sales", "status": "succeeded"}).json()
    assert run_id in [r["id"] for r in listed["runs"]] and listed["total"] >= 1
    log = http.get(f"{server.api}/runs/{run_id}/log")
    assert "flow sales: succeeded" in log.text
    folder = server.root / "home" / "runs" / run_id  # private, as job run folders are
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "run.log").stat().st_mode) == 0o600


def test_errors_name_step_field_and_line(server, http):
    flow = (server.root / "sales.flow.yaml").read_text().replace("amount >= @min_amount", "amout >= 1")
    checked = http.post(f"{server.api}/flows/validate", json={"flow": flow}).json()
    assert not checked["ok"]
    [error] = checked["errors"]
    assert (
        error["step"] == "big" and error["field"] == "condition" and "Did you mean 'amount'" in error["error"]
    )
    assert flow.splitlines()[error["line"] - 1].strip().startswith("with: {condition")

    misspelt = http.post(
        f"{server.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"min_amont": 1}}
    )
    assert misspelt.status_code == 400
    assert misspelt.json()["field"] == "min_amont" and "min_amount" in misspelt.json()["error"]

    assert http.get(f"{server.api}/runs/nosuchrun").status_code == 404
    bad_json = http.post(f"{server.api}/flows/validate", data=b"{not json")
    assert bad_json.status_code == 400 and "not JSON" in bad_json.json()["error"]
    unknown_key = http.post(f"{server.api}/runs", json={"path": "sales.flow.yaml", "paramters": {}})
    assert unknown_key.status_code == 400 and unknown_key.json()["field"] == "paramters"
    assert http.get(f"{server.api}/runs", params={"status": "nope"}).status_code == 400


def test_flow_files_stay_under_the_root_keep_comments_and_are_versioned(server, http):
    for bad in ["../outside.flow.yaml", "%2Fetc%2Fpasswd", "data/orders.csv", "..%2F..%2Fx.flow.yaml"]:
        reply = http.get(f"{server.api}/flows/{bad}")
        assert reply.status_code in (400, 404), bad
    read = http.get(f"{server.api}/flows/sales.flow.yaml").json()
    assert read["flow"]["flow"] == "sales" and "# a comment the editor keeps" in read["content"]
    edited = read["content"].replace("default: 10", "default: 20")
    saved = http.put(f"{server.api}/flows/copy/sales.flow.yaml", json={"flow": edited})
    assert saved.status_code == 200
    assert (server.root / "copy" / "sales.flow.yaml").read_text() == edited
    again = http.put(
        f"{server.api}/flows/copy/sales.flow.yaml", json={"flow": edited, "base_hash": read["hash"]}
    )
    assert again.status_code == 409  # the file changed since `read`
    broken = http.put(f"{server.api}/flows/copy/sales.flow.yaml", json={"flow": "flow: x\nstepz: []\n"})
    assert broken.status_code == 400 and (server.root / "copy" / "sales.flow.yaml").read_text() == edited
    as_json = http.put(f"{server.api}/flows/j.flow.json", json={"flow": read["flow"]})
    assert (
        as_json.status_code == 200 and json.loads((server.root / "j.flow.json").read_text()) == read["flow"]
    )
    assert as_json.json()["version"] != saved.json()["version"]


def test_jobs_are_created_checked_run_and_deleted(server, http):
    bad = http.post(f"{server.api}/jobs", json={"target": "sales.flow.yaml", "cron": "61 * * * *"})
    assert bad.status_code == 400 and "cron" in (bad.json()["field"] or "") + bad.json()["error"]
    wrong = http.post(f"{server.api}/jobs", json={"target": "sales.flow.yaml", "parameters": {"min": 1}})
    assert wrong.status_code == 400
    form = http.get(f"{server.api}/schedule/parameters", params={"target": "sales.flow.yaml"}).json()
    assert form["parameters"]["properties"]["min_amount"]["default"] == 10
    assert http.get(f"{server.api}/schedule/parameters", params={"target": "../x.ipynb"}).status_code == 400
    for outside in ["../sales.flow.yaml", "/etc/passwd"]:
        refused = http.post(f"{server.api}/jobs", json={"target": outside})
        assert refused.status_code == 400 and refused.json()["field"] == "target", refused.text
    created = http.post(
        f"{server.api}/jobs", json={"target": "sales.flow.yaml", "name": "nightly", "cron": "0 3 * * *"}
    )
    assert created.status_code == 201 and created.json()["next_run"]
    assert "nightly" in [j["name"] for j in http.get(f"{server.api}/jobs").json()["jobs"]]
    assert http.post(f"{server.api}/jobs/nightly/pause").json()["paused"] is True
    assert http.post(f"{server.api}/jobs/nightly/resume").json()["paused"] is False
    queued = http.post(f"{server.api}/jobs/nightly/run", json={"parameters": {"min_amount": 5}})
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    assert http.get(f"{server.api}/runs", params={"job": "nightly"}).json()["total"] == 1
    assert http.delete(f"{server.api}/jobs/nightly").status_code == 200
    assert http.get(f"{server.api}/jobs/nightly").status_code == 404


def test_a_run_starts_again_with_its_parameters(server, http):
    first = http.post(
        f"{server.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"min_amount": 95}}
    )
    run_id = first.json()["run_id"]
    assert follow(http, server.api, run_id)[-1][1]["status"] == "succeeded"
    again = http.post(f"{server.api}/runs/{run_id}/rerun")
    assert again.status_code == 202 and again.json()["run_id"] != run_id
    events = follow(http, server.api, again.json()["run_id"])
    assert events[-1][1]["status"] == "succeeded"
    assert {d["step"]: d["rows"] for k, d in events if k == "step_finished"}["big"] == 5  # min_amount 95
    rerun = http.get(f"{server.api}/runs/{again.json()['run_id']}").json()
    assert rerun["parameters"] == {"min_amount": 95} and rerun["name"] == "sales"
    assert http.post(f"{server.api}/runs/nosuchrun/rerun").status_code == 404


def test_cancel_a_running_run(server, http):
    started = http.post(f"{server.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"pause": 60}})
    run_id = started.json()["run_id"]
    for _ in range(100):
        if http.get(f"{server.api}/runs/{run_id}").json()["status"] == "running":
            break
    assert http.post(f"{server.api}/runs/{run_id}/cancel").json()["state"] in ("cancelling", "cancelled")
    events = follow(http, server.api, run_id)
    assert events[-1][1]["status"] == "cancelled"


def test_run_replies_kept_while_the_store_is_unchanged_and_never_stale(server, http):
    """`GET runs` and `GET runs/{id}` are served from the read cache between commits; a commit by
    another process (here: this test's own connection to the server's database) shows at once."""
    from sqlalchemy import update

    from aqtra_nb.store import Store
    from aqtra_nb.store.models import Run

    store = Store(f"sqlite:///{server.root / 'home' / 'aqtra.db'}")
    with store.session.begin() as session:
        session.add(Run(id="cachedrun01", name="cache-check", status="running"))
    listed = [http.get(f"{server.api}/runs", params={"flow": "cache-check"}).json() for _ in range(3)]
    assert listed[0] == listed[1] == listed[2] and listed[0]["runs"][0]["status"] == "running"
    assert http.get(f"{server.api}/runs/cachedrun01").json()["status"] == "running"
    with store.session.begin() as session:
        session.execute(update(Run).where(Run.id == "cachedrun01").values(status="failed", error="x"))
    after = http.get(f"{server.api}/runs", params={"flow": "cache-check"}).json()
    assert after["runs"][0]["status"] == "failed" and after["runs"][0]["error"] == "x"
    assert http.get(f"{server.api}/runs/cachedrun01").json()["status"] == "failed"
    with store.session.begin() as session:
        session.add(Run(id="cachedrun02", name="cache-check", status="queued"))
    assert http.get(f"{server.api}/runs", params={"flow": "cache-check"}).json()["total"] == 2
    assert http.get(f"{server.api}/runs/nosuchrun").status_code == 404
    store.close()


def test_metrics_in_prometheus_format(server, http):
    http.get(f"{server.api}/components")
    text = http.get(f"{server.api}/metrics").text
    for name in [
        "aqtra_runs_started_total",
        "aqtra_runs_finished_total",
        "aqtra_run_duration_seconds_bucket",
        "aqtra_queue_depth",
        "aqtra_queue_oldest_age_seconds",
        'aqtra_api_request_duration_seconds_count{code="200",method="GET",route="/aqtra/api/components"}',
    ]:
        assert name in text, name


def test_the_server_freezes_its_startup_heap_and_reports_its_collections(server, http):
    """AqtraNb.gc_freeze (on by default): once started, the server's heap is frozen out of garbage
    collection; the metrics say how much, and count collections and where short calls ran."""

    def metric(text: str, name: str) -> float:
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    deadline = time.monotonic() + 60
    while metric(text := http.get(f"{server.api}/metrics").text, "aqtra_server_gc_frozen_objects") == 0:
        assert time.monotonic() < deadline, "the heap was never frozen"
        time.sleep(0.2)
    assert metric(text, "aqtra_server_gc_frozen_objects") > 100_000  # Jupyter, Lab and aqtra-nb
    assert 'aqtra_server_gc_collections_total{generation="0"}' in text
    assert 'aqtra_server_gc_pause_seconds_total{generation="2"}' in text
    flow = (server.root / "sales.flow.yaml").read_text()
    for _ in range(3):  # the same validation again: memoized, so it runs on the loop
        assert http.post(f"{server.api}/flows/validate", json={"flow": flow}).json()["ok"]
    text = http.get(f"{server.api}/metrics").text
    assert metric(text, 'aqtra_server_calls_total{on="inline"}') >= 1


def test_openapi_documents_exactly_the_registered_routes(server, http):
    from aqtra_nb.server.openapi import METHODS, path_template

    document = http.get(f"{server.api}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    registered = {
        (path_template(pattern), method)
        for pattern, handler in routes()
        for method in METHODS
        if method in vars(handler)
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert registered == documented
    for name in ["flows/validate", "flows/preview", "flows/{path}", "runs", "runs/{run_id}/events", "jobs",
                 "components", "schema/flow", "schema/app", "metrics", "openapi.json"]:  # fmt: skip
        assert f"/aqtra/api/{name}" in document["paths"], name
    validate = document["paths"]["/aqtra/api/flows/validate"]["post"]
    schema_ref = validate["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.rsplit("/", 1)[-1] in document["components"]["schemas"]
