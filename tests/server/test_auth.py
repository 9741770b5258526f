"""Every route and method of the extension (enumerated from its registered handlers, not a kept list)
refuses requests without Jupyter's auth and answers with it; cookie-authenticated writes need XSRF."""

from __future__ import annotations

import re

import pytest
import requests
from server_process import TOKEN

from aqtra_nb.server.handlers import routes
from aqtra_nb.server.openapi import METHODS, path_template

pytestmark = pytest.mark.slow

SAMPLES = {
    "run_id": "nosuchrun",
    "name": "nosuchjob",
    "path": "nothing.flow.yaml",
    "workflow_id": "nosuchworkflow",
    "task_id": "nosuchtask",
    "id": "1",
}


def endpoints() -> list[tuple[str, str]]:
    found = []
    for pattern, handler in routes():
        path = re.sub(r"{(\w+)}", lambda m: SAMPLES[m.group(1)], path_template(pattern))
        found += [(method, path) for method in METHODS if method in vars(handler)]
    return found


def test_the_extension_registers_routes():
    assert len(endpoints()) >= 20


@pytest.mark.parametrize(("method", "path"), endpoints())
def test_every_route_needs_jupyter_auth(server, method, path):
    url = server.url + path
    for headers in ({}, {"Authorization": "token wrong-token"}, {"Authorization": "Bearer wrong"}):
        reply = requests.request(method, url, headers=headers, json={}, timeout=30, stream=True)
        assert reply.status_code in (401, 403), (method, path, headers, reply.status_code)
        reply.close()
    reply = requests.request(method, url, headers=server.headers, json={}, timeout=30, stream=True)
    assert reply.status_code not in (401, 403) and reply.status_code < 500, (method, path, reply.status_code)
    reply.close()


def test_cookie_authenticated_writes_need_the_xsrf_token(server):
    browser = requests.Session()
    browser.get(f"{server.url}/login")
    xsrf = browser.cookies.get("_xsrf")
    login = browser.post(
        f"{server.url}/login", data={"password": TOKEN, "_xsrf": xsrf}, allow_redirects=False
    )
    assert login.status_code in (302, 303), login.text[:300]
    assert browser.get(f"{server.url}/aqtra/api/components").status_code == 200  # a cookie read
    body = {"flow": {"flow": "x", "steps": []}}
    refused = browser.post(f"{server.url}/aqtra/api/flows/validate", json=body)
    assert refused.status_code == 403
    allowed = browser.post(
        f"{server.url}/aqtra/api/flows/validate", json=body, headers={"X-XSRFToken": browser.cookies["_xsrf"]}
    )
    assert allowed.status_code == 200
