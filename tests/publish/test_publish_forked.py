"""Forked kernels (publish/zygote.py, publish/provisioner.py): kernels the zygote forks are processes of
their own that share no state, can be interrupted, restarted and killed like any kernel, a zygote that
cannot start means normal kernels (said in the log), and a published page renders through them."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from publish_helpers import WAIT, copy_dashboard, write_notebook

from aqtra_nb.publish import provisioner
from aqtra_nb.publish.process import PublishedServer
from aqtra_nb.publish.visitor import Visitor, missing_models
from aqtra_nb.publish.zygote import READY_ENV
from aqtra_nb.store import Store

pytestmark = pytest.mark.slow

READY = 60  # seconds a kernel gets to answer


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch):
    """Kernel managers of this process use the forked provisioner; the zygote is closed afterwards."""
    factory = KernelProvisionerFactory.instance()
    monkeypatch.setattr(factory, "default_provisioner_name", provisioner.NAME)
    yield provisioner.zygote()
    provisioner.close_zygote()


async def start(folder: Path, **env: str) -> tuple[AsyncKernelManager, object]:
    manager = AsyncKernelManager(kernel_name="python3")
    await manager.start_kernel(cwd=str(folder), env={**os.environ, **env})
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=READY)
    return manager, client


async def run(client, code: str) -> str:
    """The kernel's stdout for `code` (an error's name and value if it raised)."""
    out: list[str] = []

    def collect(message: dict) -> None:
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            out.append(f"{message['content']['ename']}: {message['content']['evalue']}")

    await client.execute_interactive(code, timeout=READY, output_hook=collect)
    return "".join(out).strip()


async def stop(*kernels) -> None:
    for manager, client in kernels:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def until(condition, seconds: float = READY) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def ready(forked):
    """The zygote started and done importing (before, kernels start as new processes)."""
    forked.start()
    assert until(forked.ready), "the kernel zygote did not finish its imports"


def test_while_the_zygote_imports_kernels_start_as_new_processes(forked, tmp_path: Path):
    async def scenario() -> None:
        kernel = await start(tmp_path)  # the zygote was not started: it starts now, importing
        try:
            assert not isinstance(kernel[0].provisioner.process, provisioner.ForkedKernel)
            assert await run(kernel[1], "print('answers')") == "answers"
        finally:
            await stop(kernel)

    asyncio.run(scenario())


def test_two_visitors_kernels_are_separate_processes_that_share_nothing(ready, tmp_path: Path):
    first_folder, second_folder = tmp_path / "first", tmp_path / "second"
    first_folder.mkdir()
    second_folder.mkdir()

    async def scenario() -> None:
        first = await start(first_folder, VISITOR="one")
        second = await start(second_folder, VISITOR="two")
        try:
            for manager, _ in (first, second):
                assert isinstance(manager.provisioner.process, provisioner.ForkedKernel)
            probe = (
                "import os, sys, numpy, aqtra_nb\n"
                "print(os.getpid(), os.getpgid(0), os.getsid(0), os.getcwd(), os.environ['VISITOR'],"
                " numpy.random.randint(1 << 30), 'secret' in globals(), hasattr(aqtra_nb, 'visitor'))"
            )
            await run(first[1], "secret = 42\nimport aqtra_nb\naqtra_nb.visitor = 'one'")
            one = (await run(first[1], probe)).split()
            two = (await run(second[1], probe)).split()
        finally:
            await stop(first, second)
        pid_one, pid_two = int(one[0]), int(two[0])
        assert pid_one != pid_two
        assert pid_one == first[0].provisioner.pid and pid_two == second[0].provisioner.pid
        # each its own session and process group (an interrupt or kill reaches one visitor's kernel only)
        assert one[1] == one[2] == one[0] and two[1] == two[2] == two[0]
        assert (one[3], one[4]) == (str(first_folder), "one")
        assert (two[3], two[4]) == (str(second_folder), "two")
        assert one[5] != two[5], "numpy's global generator was not reseeded in the fork"
        assert one[6:] == ["True", "True"]  # the first kernel's own state...
        assert two[6:] == ["False", "False"]  # ...did not reach the second (nor a module they share)

    asyncio.run(scenario())


async def first_output(client, msg_id: str) -> None:
    """Wait until the execution `msg_id` printed something (it is running its code)."""
    while True:
        message = await client.get_iopub_msg(timeout=READY)
        if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "stream":
            return


async def reply_to(client, msg_id: str) -> dict:
    while True:
        message = await client.get_shell_msg(timeout=READY)
        if message["parent_header"].get("msg_id") == msg_id:
            return message


def test_a_forked_kernel_can_be_interrupted_restarted_and_killed(ready, tmp_path: Path):
    async def scenario() -> int:
        manager, client = await start(tmp_path)
        try:
            running = client.execute("import time\nprint('started', flush=True)\ntime.sleep(600)")
            await first_output(client, running)
            await manager.interrupt_kernel()
            assert (await reply_to(client, running))["content"]["ename"] == "KeyboardInterrupt"
            assert await run(client, "print('still here')") == "still here"

            before = manager.provisioner.pid
            await manager.restart_kernel(now=True)
            await client.wait_for_ready(timeout=READY)
            assert manager.provisioner.pid != before
            assert isinstance(manager.provisioner.process, provisioner.ForkedKernel)
            assert await run(client, "print('restarted')") == "restarted"

            pid = manager.provisioner.pid
            os.kill(pid, signal.SIGKILL)  # killed from outside: the zygote reaps it and reports the exit
            for _ in range(READY * 10):
                if not await manager.is_alive():
                    break
                await asyncio.sleep(0.1)
            assert not await manager.is_alive()
            assert await manager.provisioner.poll() == -signal.SIGKILL
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)
        return pid

    pid = asyncio.run(scenario())
    assert not psutil.pid_exists(pid)


def test_a_forked_kernel_offers_the_widgets_comm_targets(ready, tmp_path: Path):
    """ipywidgets registers them when imported in a running kernel; the zygote imported it before any
    kernel existed. Without `jupyter.widget.control` a page asks for each widget's state on its own."""

    async def scenario() -> str:
        manager, client = await start(tmp_path)
        try:
            assert psutil.Process(manager.provisioner.pid).parent().pid != os.getpid()  # forked
            return await run(client, "import comm; print(sorted(comm.get_comm_manager().targets))")
        finally:
            await stop((manager, client))

    targets = asyncio.run(scenario())
    assert "'jupyter.widget'" in targets and "'jupyter.widget.control'" in targets


COLLECT = """import gc, psutil
process = psutil.Process()
before = process.memory_full_info().uss
gc.collect()
print(gc.get_freeze_count(), (process.memory_full_info().uss - before) >> 20, get_ipython().history_manager.enabled)
"""


def test_a_forked_kernel_s_collections_leave_the_zygote_s_heap_alone(ready, tmp_path: Path):
    """The zygote's imports are frozen out of garbage collection before it forks (`ServerLoop.loop`): a
    kernel's full collection walks none of them and copies none of the pages it shares with the zygote
    (without the freeze: ~0.15 s and ~80 MB a kernel, every visitor's). Nor does it keep IPython's
    history (one database for every visitor's kernel)."""

    async def scenario() -> str:
        manager, client = await start(tmp_path)
        try:
            assert psutil.Process(manager.provisioner.pid).parent().pid != os.getpid()  # forked
            return await run(client, COLLECT)
        finally:
            await stop((manager, client))

    frozen, copied_mb, history = asyncio.run(scenario()).split()
    assert int(frozen) > 100_000 and int(copied_mb) < 20, (frozen, copied_mb)
    assert history == "False"


FIRST_RUN = """from aqtra_nb.ui import App
from ipywidgets.widgets.widget import _instances
before = len(_instances)
app = App.from_yaml('sales_dashboard.app.yaml')
app.start()
steps = app.runners['sales'].wait(60).steps
print(before, sum(s.cached for s in steps.values()), len(steps))
"""
OWN_RUN = """app.run(region='North')
result = app.runners['sales'].wait(60)
print(sorted(result['net']['region'].unique()), sum(s.cached for s in result.steps.values()))
"""


def test_forked_kernels_start_with_the_apps_flows_run_and_keep_their_own_state(
    forked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The zygote runs a published app's flows once (`zygote.warm_up`): a forked kernel's first run of
    the app reads every step from the step cache's memory, which only the zygote can have filled
    (nothing is written to disk here), and starts with none of the zygote's widgets nor its runs. What
    one visitor's kernel then runs stays its own."""
    folder = copy_dashboard(tmp_path)
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AQTRA_CACHE_MIN_SECONDS", "1000")  # no step is worth writing to disk
    forked.start(warm=[str(folder / "sales_dashboard.app.yaml")])
    assert until(forked.ready), "the kernel zygote did not finish its imports and its warm-up"

    async def scenario() -> tuple[str, str, str]:
        first, second = await start(folder), await start(folder)
        try:
            assert psutil.Process(first[0].provisioner.pid).parent().pid != os.getpid()  # forked
            warm = await run(first[1], FIRST_RUN)
            own = await run(first[1], OWN_RUN)
            other = await run(second[1], FIRST_RUN)
            return warm, own, other
        finally:
            await stop(first, second)

    warm, own, other = asyncio.run(scenario())
    widgets, cached, steps = (int(n) for n in warm.split())
    assert widgets == 0 and int(steps) > 0 and cached == steps, warm
    assert own.startswith("['North']") and not own.endswith(f" {steps}"), own  # ran, not all cached
    assert other.split() == warm.split(), other  # the first visitor's run changed nothing of the second's
    # The run history holds the kernels' three runs: the zygote recorded its warm-up into a store of its own.
    assert len(Store(f"sqlite:///{tmp_path / 'home' / 'aqtra.db'}").runs()) == 3


def test_shutdown_ends_the_forked_process(ready, tmp_path: Path):
    async def scenario() -> int:
        manager, client = await start(tmp_path)
        pid = manager.provisioner.pid
        assert psutil.Process(pid).parent().pid == _zygote_pid()
        await stop((manager, client))
        return pid

    pid = asyncio.run(scenario())
    assert not psutil.pid_exists(pid)


def _zygote_pid() -> int:
    server = provisioner.zygote()._server._process
    assert server is not None
    return server.pid


def test_without_a_zygote_kernels_start_as_new_processes_and_the_log_says_so(
    forked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    provisioner.close_zygote()
    monkeypatch.setattr(provisioner, "BOOT", "import sys; sys.exit('no zygote here')")
    zygote = provisioner.zygote()
    zygote.start()
    assert until(zygote._server.exited)

    async def scenario() -> str:
        manager, client = await start(tmp_path)
        try:
            assert not isinstance(manager.provisioner.process, provisioner.ForkedKernel)
            return await run(client, "print('answers')")
        finally:
            await stop((manager, client))

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(scenario()) == "answers"
    assert "the kernel zygote is not available" in caplog.text
    assert "kernels start as new processes" in caplog.text


def test_only_this_interpreter_s_ipykernel_launcher_is_forked():
    assert provisioner.forkable([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not provisioner.forkable([sys.executable, "-m", "other_kernel", "-f", "k.json"])
    assert not provisioner.forkable(["/no/such/python", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not provisioner.forkable(["R", "--slave"])


KERNEL_PAGE = """import os, aqtra_nb, ipywidgets as w
seen = aqtra_nb.__dict__.setdefault("pages_seen", [])
seen.append(os.getpid())
w.HTML(f"<b class='kernel' data-pid='{os.getpid()}' data-seen='{len(seen)}'>kernel {os.getpid()}</b>")
"""


@pytest.fixture(scope="module")
def kernel_page_server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("forked_page")
    write_notebook(folder / "kernel.ipynb", KERNEL_PAGE)
    with PublishedServer(["publish", "kernel.ipynb", "--port", "0"], cwd=folder) as server:
        server.wait_for_output("is filled")
        yield server


def visit_kernel(browser, server: PublishedServer) -> psutil.Process:
    """A visitor in a browser context of their own: the kernel process their page shows."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url, timeout=WAIT)
        shown = page.locator("b.kernel")
        shown.wait_for(timeout=WAIT)
        assert shown.get_attribute("data-seen") == "1"  # nothing of another page's kernel
        return psutil.Process(int(shown.get_attribute("data-pid")))
    finally:
        context.close()


def test_visitors_pages_render_through_forked_kernels_of_their_own(kernel_page_server, browser):
    server = kernel_page_server
    zygote = next(
        p for p in psutil.Process(server.process.pid).children() if "zygote" in " ".join(p.cmdline())
    )
    ready = Path(zygote.environ()[READY_ENV])
    assert until(ready.exists), "the kernel zygote did not finish its imports"
    first = visit_kernel(browser, server)  # the pool's first kernel: forked or, if it came first, not
    assert until(lambda: server.output.count("is filled") >= 2)  # its replacement, forked
    pids = {first.pid}
    for _ in range(2):
        kernel = visit_kernel(browser, server)
        assert kernel.pid not in pids
        pids.add(kernel.pid)
        assert kernel.parent().pid == zygote.pid


def test_the_zygote_keeps_its_files_in_the_servers_runtime_folder(tmp_path: Path, monkeypatch):
    """Not in /tmp: a server killed with SIGKILL leaves them with its other runtime files (a published
    server's runtime folder is under AQTRA_HOME), and closing the zygote removes them."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    zygote = provisioner.Zygote()
    try:
        assert zygote._exits.parent == tmp_path / "runtime" and zygote._exits.is_dir()
    finally:
        zygote.close()
    assert not zygote._exits.exists()


def test_a_protocol_visitor_gets_every_widget_of_a_forked_kernel_at_once(kernel_page_server):
    """What the page's widget manager does (publish/visitor.py): one `request_states` over the control
    comm answers with the state of every widget the page shows, from a kernel forked for this visitor,
    over the websocket protocol a browser's page speaks."""
    server = kernel_page_server
    zygote = next(
        p for p in psutil.Process(server.process.pid).children() if "zygote" in " ".join(p.cmdline())
    )
    assert until(Path(zygote.environ()[READY_ENV]).exists), "the kernel zygote did not finish its imports"
    for _ in range(2):  # the pool's kernel (forked or not), then one started for this visitor
        with ThreadPoolExecutor(1) as thread:  # a loop of its own: Playwright's runs in this thread
            seen = thread.submit(asyncio.run, Visitor(server.url).visit(WAIT / 1000)).result()
    assert psutil.Process(int(_shown(seen)["data-pid"])).parent().pid == zygote.pid
    assert seen.referenced and not missing_models(seen.states, seen.referenced)
    assert _shown(seen)["data-seen"] == "1"
    assert seen.asset_bytes > 0  # the page's own scripts and style sheets
    assert seen.protocol == "v1.kernel.websocket.jupyter.org"  # as JupyterLab's kernel connection


def _shown(seen) -> dict[str, str]:
    """The attributes of the page's `<b class='kernel'>`, from the HTML widget's state."""
    import re

    values = [model["state"].get("value", "") for model in seen.states.values()]
    html = next(value for value in values if "class='kernel'" in str(value))
    return dict(re.findall(r"(data-\w+)='([^']*)'", html))
