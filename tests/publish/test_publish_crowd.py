"""A published server under a crowd: kernels are capped, a visitor beyond the cap gets a clear busy page
that retries by itself (not an endless wait), a kernel whose page is gone is shut down, and one whose
page is open is kept."""

from __future__ import annotations

import time

import pytest
import requests
from publish_helpers import SIMPLE_APP, WAIT, write_notebook

from aqtra_nb.cli.publish import _options
from aqtra_nb.publish.crowd import FORKED_KERNEL_MB, KERNEL_MB, default_max_kernels
from aqtra_nb.publish.process import PublishedServer
from aqtra_nb.publish.server import ServeOptions, crowd_limits

pytestmark = pytest.mark.slow

GONE = 3  # seconds


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("crowd")
    write_notebook(folder / "app.ipynb", SIMPLE_APP)
    args = ["publish", "app.ipynb", "--port", "0", "--pool", "0", "--max-kernels", "1"]
    args += ["--queue-seconds", "1", "--cull-gone", str(GONE)]
    with PublishedServer(args, cwd=folder) as server:
        yield server


def visit(server: PublishedServer) -> requests.Response:
    return requests.get(server.url, timeout=120)


def until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_beyond_the_cap_a_busy_page_then_the_gone_page_s_kernel_is_freed(capped: PublishedServer):
    first = visit(capped)  # rendered with the one kernel; no browser keeps its page connected
    assert first.status_code == 200 and "APP-RENDERED" in first.text

    second = visit(capped)
    assert second.status_code == 503
    assert second.headers["Retry-After"].isdigit() and "no-store" in second.headers["Cache-Control"]
    assert "This dashboard is busy" in second.text and 'http-equiv="refresh"' in second.text
    assert "1 visitors are using it" in second.text and capped.token not in second.text

    # Nobody holds the first page: its kernel is shut down after GONE seconds, the next visitor is served.
    assert until(lambda: "its page is gone" in capped.output, GONE + 30), capped.output[-2000:]
    third = visit(capped)
    assert third.status_code == 200 and "APP-RENDERED" in third.text


def test_an_open_page_keeps_its_kernel_and_closing_it_frees_the_place(capped: PublishedServer, context):
    assert until(lambda: visit(capped).status_code == 503, 5)  # the last test's kernel holds the place
    assert until(lambda: capped.output.count("its page is gone") >= 2, GONE + 30)
    page = context.new_page()
    page.goto(capped.url, timeout=WAIT)
    page.locator(".square").wait_for(timeout=WAIT)  # widgets drawn: the page's websocket is open
    time.sleep(GONE + 4)  # connected: not gone, however quiet
    assert visit(capped).status_code == 503
    page.close(run_before_unload=True)  # the page's beacon shuts its kernel down
    assert until(lambda: visit(capped).status_code == 200, GONE + 30)


def test_limits_from_the_command_line_and_memory():
    assert default_max_kernels(kernel_mb=400, share=0.5) >= 2
    assert default_max_kernels(kernel_mb=10**9) == 2  # a machine too small still serves two visitors

    class Args:
        port, ip, public, timeout, cull_idle, pool = 0, "127.0.0.1", False, 10, 60, None
        pool_max, max_kernels, queue_seconds, cull_gone = 4, 6, 5.0, 30.0

    options = _options(Args(), pool=1)
    assert (options.pool, options.pool_max, options.max_kernels, options.queue_seconds) == (1, 4, 6, 5.0)
    Args.max_kernels = 0
    with pytest.raises(Exception, match="--max-kernels must be 1 or more"):
        _options(Args(), pool=1)


def test_the_kernel_cap_counts_forked_kernels_at_their_own_size(monkeypatch: pytest.MonkeyPatch):
    """A forked kernel shares the zygote's pages: the cap from memory lets more of them run."""
    monkeypatch.delenv("JUPYTER_DEFAULT_PROVISIONER_NAME", raising=False)
    forked = crowd_limits(ServeOptions(fork_kernels=True)).max_kernels
    started = crowd_limits(ServeOptions(fork_kernels=False)).max_kernels
    assert forked == default_max_kernels(FORKED_KERNEL_MB) and started == default_max_kernels(KERNEL_MB)
    monkeypatch.setenv("JUPYTER_DEFAULT_PROVISIONER_NAME", "local-provisioner")  # forking turned off
    assert crowd_limits(ServeOptions(fork_kernels=True)).max_kernels == started
    assert crowd_limits(ServeOptions(max_kernels=3)).max_kernels == 3
