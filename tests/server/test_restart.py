"""A server killed while runs go on loses no run record; the API works on PostgreSQL and over TLS."""

from __future__ import annotations

import subprocess

import pytest
import requests
from server_process import wait_for_status
from server_root import make_root, start_server
from test_api import follow

pytestmark = pytest.mark.slow


def test_a_killed_server_leaves_no_run_unsettled(tmp_path):
    root = make_root(tmp_path)
    first = start_server(root, None, extra=["--AqtraNb.run_workers=1"])
    http = requests.Session()
    http.headers.update(first.headers)
    going = http.post(
        f"{first.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"pause": 60}}
    ).json()
    waiting = http.post(
        f"{first.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"pause": 0}}
    ).json()
    wait_for_status(http, f"{first.api}/runs/{going['run_id']}", "running")
    assert http.get(f"{first.api}/runs/{waiting['run_id']}").json()["status"] == "queued"  # one worker
    first.kill()

    second = start_server(root, None)
    try:
        crashed = http.get(f"{second.api}/runs/{going['run_id']}").json()
        assert crashed["status"] == "crashed" and "server stopped" in crashed["error"]
        events = follow(http, second.api, waiting["run_id"])  # started again by the new server
        assert events[-1][1]["status"] == "succeeded"
    finally:
        second.stop()


def test_the_api_on_postgresql(tmp_path, postgres_database):
    root = make_root(tmp_path)
    server = start_server(root, postgres_database)
    http = requests.Session()
    http.headers.update(server.headers)
    try:
        run_id = http.post(f"{server.api}/runs", json={"path": "sales.flow.yaml"}).json()["run_id"]
        assert follow(http, server.api, run_id)[-1][1]["status"] == "succeeded"
        listed = http.get(f"{server.api}/runs").json()
        assert [r["id"] for r in listed["runs"]] == [run_id]
        assert "aqtra_runs_finished_total" in http.get(f"{server.api}/metrics").text
    finally:
        server.stop()


def test_the_api_over_tls(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    root = make_root(tmp_path / "root")
    server = start_server(root, None, extra=[f"--ServerApp.certfile={cert}", f"--ServerApp.keyfile={key}"])
    try:
        assert server.url.startswith("https://")
        reply = requests.get(f"{server.api}/components", headers=server.headers, verify=str(cert), timeout=30)
        assert reply.status_code == 200 and reply.json()["components"]
        refused = requests.get(f"{server.api}/components", verify=str(cert), timeout=30)
        assert refused.status_code == 403
    finally:
        server.stop()
