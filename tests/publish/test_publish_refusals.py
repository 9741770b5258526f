"""What docs/publish.md says a visitor without the token gets, as the server answers it (#18): a GET,
an API path's too, is redirected to the sign-in page; other methods get 403."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.slow


def answer(server, method: str, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"token {token}"} if token else {}
    response = requests.request(
        method, server.base + path, headers=headers, allow_redirects=False, timeout=60
    )
    return response.status_code, response.headers.get("Location", "")


def test_without_the_token_a_get_goes_to_sign_in_and_other_methods_get_403(simple_server):
    for path in ("/", "/api/kernels", "/api/kernels/some-id", "/voila/files/logo.png"):
        status, location = answer(simple_server, "GET", path)
        assert status == 302 and location.startswith("/login?next="), (path, status, location)
        assert answer(simple_server, "GET", path, token="wrong")[0] == 302
    for method in ("POST", "DELETE"):
        assert answer(simple_server, method, "/api/kernels/some-id")[0] == 403
    assert answer(simple_server, "GET", "/voila/files/logo.png", token=simple_server.token)[0] == 200
