"""Benchmarks of a published app, measured in headless Chromium: the sales dashboard
(notebooks/sales_dashboard.app.yaml) served by `aqtra-nb publish` on loopback.

1. **First render**: from `goto` to the first run's results on screen (the status says succeeded, the
   cards and the region grid show numbers, the chart is drawn), in a new browser context (nothing cached). With the default
   pre-heated kernel (`publish --pool 1`): a visitor after the pool had `--settle` seconds to start a
   kernel and run the app in it, and a visitor as soon as the server listens. Without a pool
   (`--pool 0`): a new server per measure, so the kernel's start, its imports, building the app and the
   first flow run are all on the visitor's path; also a second visitor of that server.
2. **Update latency**: the region filter changed and Run pressed, until the orders grid (over the
   `net` step, every order that passes the filter) shows the new run's page. Median of the repeats.

Then a breakdown of the cold render, each part measured on its own: starting a kernel, importing
`aqtra_nb.ui` in a fresh interpreter, building the app and its first run in-process.

    python benchmarks/app.py                   # 100k orders (scale 0.1), 3 cold renders, 7 updates
    python benchmarks/app.py --scale 0.01 --cold 1 --updates 3    # a smoke test
    python benchmarks/app.py --visitors 50      # a crowd: 50 visitors at once, p50/p99 and peak memory
    python benchmarks/app.py --only-updates --updates 15 --rounds 3   # update latency alone, 3 servers

With `--visitors N`, N browser pages open the dashboard at the same moment (one Chromium, a context
each) against a server with the default pool (`--pool 1`, growing to `--pool-max`) and kernel cap
(`--max-kernels`, default from memory); each is timed until its dashboard is drawn, through any busy
page it got (which retries by itself). The server's memory (its process and every kernel) is sampled
throughout; Chromium runs on the same machine and takes its share of the CPU.

With `--visitors N --protocol`, each visitor is `aqtra_nb.publish.visitor.Visitor` instead of a browser
page: the page, the static files a new Chromium page loaded (recorded once, on a server of its own,
before the crowd), the kernel's websocket and every widget's state, until the status says succeeded and
the grid, cards and chart have their data. What is timed is the server's work, not the drawing.

    python benchmarks/app.py --visitors 50 --scale 0.01 --protocol

Needs Chromium (/usr/bin/chromium or $AQTRA_CHROMIUM) and Playwright (the `test` or `export` extra).
Runs are not recorded in your run history (`AQTRA_HOME` is a temporary folder).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import commit, machine

REPO_ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["North", "South", "East", "West", "Central", "Islands", "North-East", "South-West"]
TARGET_COLD, TARGET_UPDATE = 2.0, 0.15  # seconds (update: issue #14)
WAIT = 180_000  # ms
GIVE_UP = 360  # seconds a crowd's visitor waits for the dashboard


def prepare(folder: Path, scale: float) -> None:
    from aqtra_nb import datasets

    shutil.copy(REPO_ROOT / "notebooks" / "sales_dashboard.app.yaml", folder)
    (folder / "flows").mkdir()
    shutil.copy(REPO_ROOT / "notebooks" / "flows" / "sales_dashboard.flow.yaml", folder / "flows")
    datasets.write_sales(folder / "data", scale=scale, formats="parquet")


BARE_APP = "import ipywidgets as w\nw.VBox([w.IntSlider(description='n'), w.HTML('<b class=bare>ready</b>')])"


def write_bare_app(folder: Path) -> None:
    """The floor: Voilà and a kernel with one ipywidgets slider, none of our imports."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(BARE_APP)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "bare.ipynb")


READY = (".aqtra-status-succeeded", ".aqtra-grid-row", ".aqtra-metric-value", ".aqtra-chart .main-svg")


def first_render(browser, url: str, ready: tuple[str, ...] = READY) -> float:
    """Seconds from navigation to the first run's numbers on screen: status, grid, cards and the chart
    drawn (`ready` selectors visible)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        start = time.perf_counter()
        page.goto(url, timeout=WAIT)
        for selector in ready:
            page.locator(selector).first.wait_for(timeout=WAIT)
        return time.perf_counter() - start
    finally:
        page.close()


def update_latencies(browser, url: str, repeats: int, cpu: Callable[[], float] | None = None) -> list[float]:
    """Seconds from pressing Run (after changing the region) to the orders grid showing the new page.
    With `cpu` (CPU seconds used so far by the server's processes), the CPU seconds the updates took are
    appended to the list as its last item."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(url, timeout=WAIT)
        page.locator(".aqtra-status-succeeded").wait_for(timeout=WAIT)
        page.get_by_role("tab", name="Orders").click()
        grid = page.locator(".aqtra-datagrid .aqtra-grid").nth(1)
        grid.locator(".aqtra-grid-row").first.wait_for(timeout=WAIT)
        times = []
        used = cpu() if cpu else 0.0
        for i in range(repeats):
            region = REGIONS[i % len(REGIONS)]
            revision = grid.get_attribute("data-revision")
            page.locator(".aqtra-field-region select").select_option(region)
            start = time.perf_counter()
            page.locator("button.aqtra-run").click()
            page.wait_for_function(
                "([r, region]) => { const g = document.querySelectorAll('.aqtra-datagrid .aqtra-grid')[1];"
                " const cell = g.querySelector('td[data-column=region]');"
                " return g.dataset.revision !== r && g.dataset.loading === 'false'"
                " && cell && cell.textContent === region }",
                arg=[revision, region],
                timeout=WAIT,
                polling="raf",
            )
            times.append(time.perf_counter() - start)
        if cpu:
            times.append(cpu() - used)
        return times
    finally:
        page.close()


def only_updates(folder: Path, args: argparse.Namespace) -> None:
    """The update latency alone: `--rounds` servers (default pool), `--updates` filter changes each."""
    import psutil

    from aqtra_nb.publish.browser import launch_args, sync_playwright
    from aqtra_nb.publish.process import PublishedServer

    def cpu_of(pid: int) -> Callable[[], float]:
        def used() -> float:  # user + system seconds of the server and its kernels
            root = psutil.Process(pid)
            total = 0.0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
            return total

        return used

    rounds, cpu = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_args())
        for _ in range(args.rounds):
            with PublishedServer(
                ["publish", "sales_dashboard.app.yaml", "--port", "0"], cwd=folder
            ) as server:
                server.wait_for_output("is filled")
                *times, seconds = update_latencies(
                    browser, server.url, args.updates, cpu_of(server.process.pid)
                )
                rounds.append(times)
                cpu.append(seconds / args.updates)
        browser.close()
    rows = int(args.scale * 1_000_000)
    print(f"\n## Dashboard updates, {rows:,} orders ({machine()})\n")
    print("| round | median s | best s | worst s | server + kernel CPU s per update |")
    print("|---|---|---|---|---|")
    for i, times in enumerate(rounds, 1):
        summary = f"{statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f}"
        print(f"| {i} | {summary} | {cpu[i - 1]:.3f} |")
    every = [t for times in rounds for t in times]
    summary = f"{statistics.median(every):.3f} | {min(every):.3f} | {max(every):.3f}"
    print(f"| all {len(every)} | {summary} | {statistics.median(cpu):.3f} (median) |")
    print(f"\ntarget: median < {TARGET_UPDATE:.2f} s")


def run_python(code: str, cwd: Path) -> float:
    """Wall seconds of a fresh interpreter running `code` (which prints its own timing, in seconds)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def breakdown(folder: Path) -> dict[str, float]:
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    kernel_seconds = time.perf_counter() - start
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    timed = "import time; t = time.perf_counter(); {body}; print(time.perf_counter() - t)"
    return {
        "start a kernel (until it answers)": kernel_seconds,
        "import ipywidgets": run_python(timed.format(body="import ipywidgets"), folder),
        "import aqtra_nb.ui (fresh interpreter)": run_python(timed.format(body="import aqtra_nb.ui"), folder),
        "App.from_yaml + first run (after imports)": run_python(
            "import aqtra_nb.ui, time; t = time.perf_counter(); "
            "app = aqtra_nb.ui.App.from_yaml('sales_dashboard.app.yaml', record=False); app.start(); "
            "app.wait(); print(time.perf_counter() - t)",
            folder,
        ),
    }


def dashboard_ready(states: dict) -> bool:
    """At the protocol level, what `READY` waits for on screen: the status says the first run
    succeeded, a grid has rows, the cards their values and the chart its figure."""
    values = [model.get("state", {}) for model in states.values()]
    return (
        any("aqtra-status-succeeded" in state.get("_dom_classes", ()) for state in values)
        and any(state.get("rows") for state in values)
        and any("aqtra-metric-value" in str(state.get("value", "")) for state in values)
        and any(state.get("figure", {}).get("data") for state in values)
    )


def record_assets(folder: Path) -> list[str]:
    """The static files (paths on the server) a new Chromium page loads to draw the dashboard, recorded
    once on a server of its own: what each protocol-level visitor then fetches."""
    from urllib.parse import urlsplit

    from aqtra_nb.publish.browser import launch_args, sync_playwright
    from aqtra_nb.publish.process import PublishedServer

    paths: list[str] = []
    with PublishedServer(["publish", "sales_dashboard.app.yaml", "--port", "0"], cwd=folder) as server:
        server.wait_for_output("is filled")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_args())
            page = browser.new_page()
            page.on(
                "requestfinished",
                lambda request: (
                    paths.append(urlsplit(request.url).path)
                    if request.resource_type in ("script", "stylesheet", "font", "image")
                    and "/api/" not in request.url
                    and request.url.startswith("http")  # not data: or blob: (anywidget's modules)
                    else None
                ),
            )
            page.goto(server.url, timeout=WAIT)
            for selector in READY:
                page.locator(selector).first.wait_for(timeout=WAIT)
            browser.close()
    return list(dict.fromkeys(paths))


def wait_for_zygote(server_pid: int, timeout: float = 300) -> None:
    """Until the server's kernel zygote has imported and run the app once: the crowd comes to a server
    that has been up a while (before, kernels start as new processes, the slow path)."""
    import psutil

    from aqtra_nb.publish.zygote import READY_ENV

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(server_pid).children():
            with contextlib.suppress(psutil.Error, KeyError):
                if "zygote" in " ".join(child.cmdline()) and Path(child.environ()[READY_ENV]).exists():
                    return
        time.sleep(0.2)
    raise TimeoutError(f"the kernel zygote was not ready in {timeout} s")


def crowd(
    folder: Path,
    visitors: int,
    pool_max: int,
    max_kernels: int | None,
    fork: bool = True,
    protocol: bool = False,
    extra_args: tuple[str, ...] = (),
) -> None:
    """N visitors at once: seconds to a drawn dashboard (p50, p99, max), busy pages seen, peak memory.
    With `protocol`, each visitor is `publish.visitor.Visitor` (the page, its static files and the
    widgets' states over the kernel's websocket) instead of a Chromium page."""
    import asyncio
    import threading

    import psutil
    from playwright.async_api import async_playwright

    from aqtra_nb.publish.browser import launch_args
    from aqtra_nb.publish.process import PublishedServer

    command = ["publish", "sales_dashboard.app.yaml", "--port", "0", "--pool-max", str(pool_max)]
    command += ["--max-kernels", str(max_kernels)] if max_kernels else []
    command += list(extra_args)
    assets = record_assets(folder) if protocol else []
    peak = {
        "rss": 0,
        "pss": 0,
        "kernels": 0,
        "server cpu": 0.0,
        "server process cpu": 0.0,
        "browser cpu": 0.0,
    }
    stop = threading.Event()

    def tree_cpu(root: psutil.Process, leave_out: int | None = None) -> float:
        """CPU seconds of `root` and its descendants, the ended ones included (as reaped children's)."""
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                if process.pid == leave_out or (
                    leave_out and leave_out in [p.pid for p in process.parents()]
                ):
                    continue
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
        return total

    def sample(pid: int) -> None:
        root, me = psutil.Process(pid), psutil.Process()
        server_start, browser_start = tree_cpu(root), tree_cpu(me, leave_out=pid)
        own_start = sum(root.cpu_times()[:2])
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                rss = pss = kernels = 0
                for process in tree:
                    with contextlib.suppress(psutil.Error):
                        memory = process.memory_full_info()  # PSS: pages shared by forks counted once
                        rss, pss = rss + memory.rss, pss + memory.pss
                        # a kernel: started as ipykernel, or forked by the kernel zygote
                        if "ipykernel" in " ".join(process.cmdline()) or process.parent().parent() == root:
                            kernels += 1
                server_cpu, browser_cpu = tree_cpu(root), tree_cpu(me, leave_out=pid)
            except psutil.Error:
                continue
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            peak["kernels"] = max(peak["kernels"], kernels)
            peak["server cpu"] = max(peak["server cpu"], server_cpu - server_start)
            with contextlib.suppress(psutil.Error):
                peak["server process cpu"] = sum(root.cpu_times()[:2]) - own_start
            peak["browser cpu"] = max(peak["browser cpu"], browser_cpu - browser_start)
            stop.wait(1.0)

    async def visit(browser, url: str, busy: list[int], number: int) -> float:
        context = await browser.new_context(viewport={"width": 1280, "height": 1000})
        page = await context.new_page()
        page.on("response", lambda r: busy.append(1) if r.status == 503 else None)
        started = time.perf_counter()
        waiting_for = "the page"
        deadline = started + GIVE_UP

        def left() -> float:  # ms until the visitor gives up
            return max(1.0, (deadline - time.perf_counter()) * 1000)

        try:
            await page.goto(url, timeout=left())
            for selector in READY:
                waiting_for = selector
                await page.locator(selector).first.wait_for(timeout=left())
            seconds = time.perf_counter() - started
            print(f"visitor {number}: drawn in {seconds:.1f} s", file=sys.stderr, flush=True)
            return seconds
        except Exception as exc:  # noqa: BLE001 - a visitor who never saw the dashboard
            message = str(exc).splitlines()[0]
            print(f"visitor {number}: no {waiting_for} ({message})", file=sys.stderr, flush=True)
            return float("inf")
        finally:
            await context.close()

    parts: list[tuple[float, float, float]] = []  # page, static files, widgets complete

    async def protocol_visit(url: str, busy: list[int], number: int) -> float:
        from aqtra_nb.publish.visitor import Visitor, missing_models

        visitor = Visitor(url, assets=assets, ready=dashboard_ready)
        try:
            seen = await visitor.visit(GIVE_UP)
        except Exception as exc:  # noqa: BLE001 - a visitor who never saw the dashboard
            seen = visitor.seen
            missing = len(missing_models(seen.states, seen.referenced))
            why = f"{seen.busy_pages} busy pages, {len(seen.states)} widgets, {missing} missing, {exc!r}"
            print(f"visitor {number}: no {seen.phase} ({why})", file=sys.stderr, flush=True)
            return float("inf")
        busy.extend([1] * seen.busy_pages)
        parts.append((seen.page, seen.assets, seen.complete))
        print(
            f"visitor {number}: complete in {seen.complete:.1f} s ({len(seen.states)} models)",
            file=sys.stderr,
            flush=True,
        )
        return seen.complete

    async def all_at_once(url: str) -> tuple[list[float], int]:
        busy: list[int] = []
        if protocol:
            tasks = [asyncio.ensure_future(protocol_visit(url, busy, i)) for i in range(visitors)]
            # A visitor whose own time-out did not end it (a cancellation that never finished) is one
            # who never saw the dashboard, not a benchmark that never ends.
            await asyncio.wait(tasks, timeout=GIVE_UP + 30)
            times = [task.result() if task.done() else float("inf") for task in tasks]
            stuck = sum(not task.done() for task in tasks)
            if stuck:
                print(f"{stuck} visitors did not end at their time-out", file=sys.stderr, flush=True)
            return sorted(times), len(busy)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_args())
            times = await asyncio.gather(*(visit(browser, url, busy, i) for i in range(visitors)))
            await browser.close()
        return sorted(times), len(busy)

    # Without forking: jupyter_client's own provisioner, each kernel a new interpreter.
    env = {} if fork else {"JUPYTER_DEFAULT_PROVISIONER_NAME": "local-provisioner"}
    with PublishedServer(command, cwd=folder, env=env) as server:
        server.wait_for_output("is filled")
        if fork:
            wait_for_zygote(server.process.pid)
        load_before = os.getloadavg()[0]
        watcher = threading.Thread(target=sample, args=(server.process.pid,), daemon=True)
        watcher.start()
        began = time.perf_counter()
        # Not asyncio.run: it would wait at the end for visitors that did not end (see all_at_once).
        times, busy = asyncio.new_event_loop().run_until_complete(all_at_once(server.url))
        elapsed = time.perf_counter() - began
        stop.set()
        watcher.join()
    done = [t for t in times if t != float("inf")]
    quantiles = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
    cap = max_kernels or "from memory"
    kernels = "forked kernels" if fork else "kernels started as new processes"
    who = "protocol-level visitors" if protocol else "Chromium visitors"
    extra = f", {' '.join(extra_args)}" if extra_args else ""
    setting = f"{who}, {kernels}, pool 1 growing to {pool_max}, kernel cap {cap}{extra}, commit {commit()}"
    print(f"\n## {visitors} visitors at once ({setting})\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| dashboards drawn | {len(done)} of {visitors} |")
    print(f"| seconds to a drawn dashboard, p50 | {quantiles[49]:.1f} |")
    print(f"| seconds to a drawn dashboard, p99 | {quantiles[98]:.1f} |")
    print(f"| seconds until the last visitor was served | {elapsed:.1f} |")
    print(f"| busy pages shown (each retried by itself) | {busy} |")
    print(f"| peak memory of the server and its kernels (PSS) | {peak['pss'] / 2**30:.2f} GiB |")
    print(f"| peak memory of the server and its kernels (RSS sum) | {peak['rss'] / 2**30:.2f} GiB |")
    print(f"| most kernels at once | {peak['kernels']} |")
    print(f"| CPU seconds: server and kernels | {peak['server cpu']:.0f} |")
    print(
        f"| CPU seconds: the server's own process (one thread does its work) | {peak['server process cpu']:.1f} |"
    )
    print(
        f"| CPU seconds: {'the visitors' if protocol else 'Chromium and Playwright'} | {peak['browser cpu']:.0f} |"
    )
    if parts:
        for name, index in (("page received", 0), ("static files received", 1)):
            values = sorted(part[index] for part in parts)
            print(
                f"| seconds to the {name}, p50 / max | {statistics.median(values):.1f} / {values[-1]:.1f} |"
            )
    print(f"| load average before the run (1 min, {os.cpu_count()} CPUs) | {load_before:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="orders in millions (0.1 = 100k)")
    parser.add_argument("--cold", type=int, default=3, help="cold renders (a new server each)")
    parser.add_argument("--updates", type=int, default=7, help="filter changes timed")
    parser.add_argument(
        "--settle", type=float, default=20, help="seconds a pre-heated pool gets to refill between visitors"
    )
    parser.add_argument("--visitors", type=int, help="only the crowd: this many visitors at once")
    parser.add_argument("--only-updates", action="store_true", help="only the update latency")
    parser.add_argument(
        "--rounds", type=int, default=1, help="with --only-updates: servers, one after another"
    )
    parser.add_argument("--pool-max", type=int, default=4, help="with --visitors: the pool grows to this")
    parser.add_argument("--max-kernels", type=int, help="with --visitors: the server's kernel cap")
    parser.add_argument(
        "--no-fork", action="store_true", help="with --visitors: kernels started as new processes (before)"
    )
    parser.add_argument(
        "--protocol",
        action="store_true",
        help="with --visitors: visitors at the protocol level (page, static files, widget states over the "
        "kernel websocket), not Chromium pages: the server's time to a complete dashboard",
    )
    parser.add_argument(
        "--server-arg", action="append", default=[], help="with --visitors: one more `publish` argument"
    )
    args = parser.parse_args(argv)
    if args.visitors:
        with tempfile.TemporaryDirectory(prefix="aqtra-app-bench-") as tmp:
            folder = Path(tmp)
            os.environ["AQTRA_HOME"] = str(folder / "home")
            os.environ.pop("AQTRA_DATABASE_URL", None)
            prepare(folder, args.scale)
            crowd(
                folder,
                args.visitors,
                args.pool_max,
                args.max_kernels,
                fork=not args.no_fork,
                protocol=args.protocol,
                extra_args=tuple(args.server_arg),
            )
        return 0

    from aqtra_nb.publish.browser import launch_args, sync_playwright
    from aqtra_nb.publish.process import PublishedServer

    with tempfile.TemporaryDirectory(prefix="aqtra-app-bench-") as tmp:
        folder = Path(tmp)
        os.environ["AQTRA_HOME"] = str(folder / "home")
        os.environ.pop("AQTRA_DATABASE_URL", None)
        prepare(folder, args.scale)
        write_bare_app(folder)
        if args.only_updates:
            only_updates(folder, args)
            return 0
        cold, warm, heated, first, updates, server_start, bare = [], [], [], [], [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_args())
            for i in range(args.cold):  # without a pool: every visitor waits for a kernel
                started = time.perf_counter()
                with PublishedServer(
                    ["publish", "sales_dashboard.app.yaml", "--port", "0", "--pool", "0"], cwd=folder
                ) as server:
                    server_start.append(time.perf_counter() - started)
                    cold.append(first_render(browser, server.url))
                    if i == 0:
                        warm.append(first_render(browser, server.url))
            # The default: one pre-heated kernel. The first visitor arrives as soon as the server listens;
            # the next ones after the pool had `--settle` seconds to start and run the app again.
            with PublishedServer(
                ["publish", "sales_dashboard.app.yaml", "--port", "0"], cwd=folder
            ) as server:
                first.append(first_render(browser, server.url))
                for _ in range(args.cold):
                    time.sleep(args.settle)
                    heated.append(first_render(browser, server.url))
                time.sleep(args.settle)
                updates = update_latencies(browser, server.url, args.updates)
            with PublishedServer(["publish", "bare.ipynb", "--port", "0"], cwd=folder) as server:
                time.sleep(args.settle)
                bare.append(first_render(browser, server.url, (".bare",)))
            browser.close()
        parts = breakdown(folder)

    rows = int(args.scale * 1_000_000)
    print(f"\n## Published sales dashboard, {rows:,} orders ({machine()})\n")
    print("| measure | seconds | target |")
    print("|---|---|---|")
    print(f"| server process start (until it listens) | {min(server_start):.2f} | |")
    print(
        f"| visitor of a pre-heated kernel (best of {len(heated)}) | {min(heated):.2f} | < {TARGET_COLD:.1f} |"
    )
    print(f"| visitor of a pre-heated kernel (median) | {statistics.median(heated):.2f} | |")
    print(f"| first visitor, as the server starts listening (pool still starting) | {min(first):.2f} | |")
    print(f"| without a pool (`--pool 0`): cold first render (best of {len(cold)}) | {min(cold):.2f} | |")
    print(f"| without a pool: cold first render (median) | {statistics.median(cold):.2f} | |")
    print(f"| without a pool: new visitor on a running server | {min(warm):.2f} | |")
    print(f"| floor: a bare ipywidgets notebook, pre-heated | {min(bare):.2f} | |")
    print(
        f"| form change → updated grid (median of {len(updates)}) | {statistics.median(updates):.3f} | "
        f"< {TARGET_UPDATE:.1f} |"
    )
    print(f"| form change → updated grid (best) | {min(updates):.3f} | |")
    print("\nCold render, part by part (each measured on its own):\n")
    print("| part | seconds |")
    print("|---|---|")
    for name, seconds in parts.items():
        print(f"| {name} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
