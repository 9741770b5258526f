"""A real `aqtra-nb publish` server on loopback: the page, its API, its kernel websocket and its files
refuse requests without the token; sources and tracebacks stay hidden; the token is printed once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from publish_helpers import write_notebook
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from aqtra_nb.publish.process import PublishedServer

pytestmark = pytest.mark.slow


def get(server: PublishedServer, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(server.base + path, headers=headers, allow_redirects=False, timeout=60, **kwargs)


def refused(response: requests.Response) -> bool:
    """Jupyter's auth answers a browser GET with a redirect to the sign-in page, an API call with 403."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


@pytest.fixture(scope="module")
def rendered(simple_server: PublishedServer) -> str:
    response = requests.get(simple_server.url, timeout=120)  # the printed URL, with its token
    assert response.status_code == 200
    return response.text


def kernel_id(page: str) -> str:
    match = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page)
    assert match, "no kernel id in the page"
    return match.group(1)


def test_page_with_the_printed_token_renders_the_app_in_its_folder(rendered: str, simple_app_dir: Path):
    assert f"APP-RENDERED in {simple_app_dir}" in rendered
    assert "application/vnd.jupyter.widget-view+json" in rendered


def test_page_refuses_requests_without_the_token(simple_server: PublishedServer):
    for response in (get(simple_server, "/"), get(simple_server, "/?token=not-the-token")):
        assert refused(response), response.status_code
        assert "APP-RENDERED" not in response.text


def test_sources_are_stripped(rendered: str):
    assert "setattr(square" not in rendered
    assert "import ipywidgets" not in rendered


def test_kernel_api_refuses_requests_without_the_token(simple_server: PublishedServer, rendered: str):
    kid = kernel_id(rendered)
    assert refused(get(simple_server, f"/api/kernels/{kid}"))
    assert refused(get(simple_server, f"/api/kernels/{kid}", token="wrong"))
    assert requests.delete(f"{simple_server.base}/api/kernels/{kid}", timeout=30).status_code == 403
    answer = get(simple_server, f"/api/kernels/{kid}", token=simple_server.token)
    assert answer.status_code == 200 and answer.json()["id"] == kid


def websocket_status(url: str, headers: dict[str, str]) -> int:
    async def connect() -> int:
        try:
            connection = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=30))
        except HTTPClientError as exc:
            return exc.code
        connection.close()
        return 101

    # A thread of its own: Playwright's sync API (other tests) leaves an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, connect()).result()


def test_kernel_websocket_refuses_connections_without_the_token(
    simple_server: PublishedServer, rendered: str
):
    url = simple_server.base.replace("http://", "ws://") + f"/api/kernels/{kernel_id(rendered)}/channels"
    assert websocket_status(url, {}) == 403
    assert websocket_status(url, {"Authorization": "token wrong"}) == 403
    assert websocket_status(url, {"Authorization": f"token {simple_server.token}"}) == 101


def test_the_pre_heated_kernels_request_channel_needs_the_server_key(
    simple_server: PublishedServer, rendered: str
):
    """The pooled kernel learns the visitor's request over a websocket: Voilà's own unauthenticated
    `/voila/query/<kernel>` is gone, and ours needs the key only the server's kernels know."""
    base = simple_server.base.replace("http://", "ws://")
    kid = kernel_id(rendered)
    token = {"Authorization": f"token {simple_server.token}"}
    for headers in ({}, token):  # no such websocket (a redirect to sign-in or to a file, not a channel)
        assert websocket_status(f"{base}/voila/query/{kid}", headers) in (302, 403, 404)
    assert websocket_status(f"{base}/aqtra-query/guess/voila/query/{kid}", {}) == 403
    assert websocket_status(f"{base}/aqtra-query/guess/voila/query/{kid}", token) == 403
    assert "Using pre-heated kernel" in simple_server.output  # the page came from the pool


def test_files_next_to_the_app_need_the_token_and_only_images_are_served(simple_server: PublishedServer):
    assert refused(get(simple_server, "/voila/files/logo.png"))
    image = get(simple_server, "/voila/files/logo.png", token=simple_server.token)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    for private in ("data.csv", "app.ipynb"):
        assert get(simple_server, f"/voila/files/{private}", token=simple_server.token).status_code == 403


def test_visitors_cannot_switch_the_template_or_theme(simple_server: PublishedServer):
    """`?template=reveal` had third-party CDN links, `?template=../../etc` a 500 (issue 17, item 8)."""
    for extra in ("&template=reveal", "&template=classic", "&template=..%2F..%2Fetc", "&theme=dark"):
        response = requests.get(simple_server.url + extra, timeout=120)
        assert response.status_code == 200, (extra, response.status_code)
        assert "APP-RENDERED" in response.text
        for cdn in ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com"):
            assert cdn not in response.text, (extra, cdn)


def test_a_crowd_of_bad_requests_gets_plain_answers_and_one_log_line_each(simple_server: PublishedServer):
    """Issue 17, item 9: no 500, no traceback, no token (right or wrong) in the log."""
    before = len(simple_server.output.splitlines())
    token = simple_server.token
    paths = [
        "/logout",
        "/voila/templates/x",
        f"/voila/templates/x?token={token}",
        "/voila/api/nope",
        f"/api/kernels/nope?token={token}",
        f"/voila/static/nope.js?token={token}",
        "/?token=WRONG-TOKEN-1",
    ] * 5
    for path in paths:
        response = requests.get(simple_server.base + path, allow_redirects=False, timeout=30)
        assert response.status_code < 500, (path, response.status_code)
    posted = requests.post(simple_server.base + "/api/kernels?token=WRONG-TOKEN-2", timeout=30)
    assert posted.status_code == 403
    new = simple_server.output.splitlines()[before:]
    assert len(new) <= 3 * (len(paths) + 1), "\n".join(new[:50])
    text = "\n".join(new)
    assert "Traceback" not in text and "WRONG-TOKEN" not in text and token not in text


def test_token_is_printed_once_and_never_logged(simple_server: PublishedServer, rendered: str):
    token = simple_server.token
    assert len(token) >= 32
    # Requests that fail are logged with their URL: the token in them must be scrubbed.
    get(simple_server, f"/voila/files/missing.png?token={token}")
    get(simple_server, f"/api/kernels/00000000-0000-0000-0000-000000000000?token={token}")
    output = simple_server.stop()
    assert output.count(token) == 1, output
    assert "Serving app app.ipynb at" in output


def test_public_needs_no_token_and_warns(simple_app_dir: Path):
    server = PublishedServer(["publish", "app.ipynb", "--port", "0", "--public"], cwd=simple_app_dir).start()
    try:
        assert "WARNING: --public: no authentication" in server.output
        assert server.token == ""
        response = get(server, "/")
        assert response.status_code == 200 and "APP-RENDERED" in response.text
    finally:
        server.stop()


def test_a_failing_cell_shows_no_traceback(tmp_path: Path):
    write_notebook(
        tmp_path / "broken.ipynb",
        "print('BEFORE-' + 'FAILURE')",
        "raise ValueError('internal detail ' + 'xyz')",
    )
    server = PublishedServer(["publish", "broken.ipynb", "--port", "0"], cwd=tmp_path).start()
    try:
        page = requests.get(server.url, timeout=120).text
    finally:
        server.stop()
    assert "BEFORE-FAILURE" in page
    assert "Traceback" not in page and "internal detail xyz" not in page and "ValueError" not in page


def test_gallery_lists_apps_and_renders_them_in_their_folders(tmp_path: Path):
    write_notebook(tmp_path / "first.ipynb", "import os; print('FIRST-' + 'APP', os.getcwd())")
    write_notebook(tmp_path / "team" / "second.ipynb", "import os; print('SECOND-' + 'APP', os.getcwd())")
    write_notebook(tmp_path / ".hidden" / "secret.ipynb", "print('no')")
    server = PublishedServer(["apps", ".", "--port", "0"], cwd=tmp_path).start()
    try:
        assert "Serving 2 apps at" in server.output
        assert refused(get(server, "/"))
        gallery = requests.get(server.url, timeout=60)
        assert gallery.status_code == 200
        assert "first.ipynb" in gallery.text and "team" in gallery.text and "secret" not in gallery.text
        assert refused(get(server, "/voila/render/team/second.ipynb"))
        second = get(server, "/voila/render/team/second.ipynb", token=server.token)
        assert second.status_code == 200
        assert f"SECOND-APP {tmp_path / 'team'}" in second.text
    finally:
        server.stop()


def test_runtime_files_stay_private_in_aqtra_home(tmp_path: Path, simple_app_dir: Path):
    """Jupyter's notebook-signing key and database and Voilà's kernel connection files go to
    `AQTRA_HOME/publish` (0700), not the user's Jupyter folders, under umask 022."""
    user_home, aqtra_home = tmp_path / "user", tmp_path / "aqtra"
    user_home.mkdir()
    env = {
        "HOME": str(user_home),
        "AQTRA_HOME": str(aqtra_home),
        "JUPYTER_DATA_DIR": "",
        "JUPYTER_RUNTIME_DIR": "",
    }
    server = PublishedServer(["publish", "app.ipynb", "--port", "0"], cwd=simple_app_dir, env=env)
    server.env = {k: v for k, v in server.env.items() if v != "" and not k.startswith("XDG_")}
    with umask(0o022):
        server.start()
    try:
        assert requests.get(server.url, timeout=120).status_code == 200  # a page: the notebook is read
        runtime = aqtra_home / "publish"
        connections = [p for p in runtime.glob("voila_*/*.json")]
        assert connections, sorted(runtime.rglob("*"))  # the kernels' connection files are here
    finally:
        server.stop()
    jupyter = sorted(p.relative_to(user_home) for p in user_home.rglob("*") if "jupyter" in str(p))
    assert jupyter == [], jupyter
    assert (runtime / "notebook_secret").is_file() and (runtime / "nbsignatures.db").is_file()
    assert mode(aqtra_home) == mode(runtime) == 0o700
    assert mode(runtime / "notebook_secret") == mode(runtime / "nbsignatures.db") == 0o600


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@contextlib.contextmanager
def umask(value: int):
    previous = os.umask(value)  # the server process inherits it
    try:
        yield
    finally:
        os.umask(previous)
