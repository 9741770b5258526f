"""A published server under a crowd: bounded kernels, bounded waits, a pool that follows demand.

Every visitor of a Voilà page gets a kernel of their own (a few hundred MB once pandas, Dask and the app
are imported). Without bounds a crowd starts as many as it has visitors, all at once, and each waits for
all the others on a machine with a few cores. Here:

- **A kernel cap** (`max_kernels`, default from the machine's memory): the pool and the visitors'
  kernels together never exceed it.
- **A bounded start queue**: at most `max_starting` pages are rendered with a kernel of their own at
  once, four per core (a render waits on its kernel about as long as it works, so fewer leave cores
  idle: 50 protocol visitors on 2 cores, p99 16.3 s with 2 at once, 14.7 with 4, 11.0 with 8, 11.7
  with 16; more only thrash the CPU); the others wait in line, at most `queue_seconds`.
- **A busy page** (HTTP 503 with `Retry-After`, retrying by itself) when the cap is reached or the wait
  would be longer, instead of a request that hangs.
- **A pool that grows with demand** up to `pool_max` while visitors find it empty, never beyond the cap,
  and shrinks back to its size after `pool_idle_seconds` without demand.
- **Kernels whose page is gone are shut down** after `gone_seconds` with no connection and no activity
  (four times as long when the page never connected: it may still be loading on a crowded machine).
  The page's beacon on close is the fast path; this catches crashed tabs and dropped networks.
- Pool refills go on during a rush, within the cap: pooled kernels are the visitors' fast path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from tornado.ioloop import PeriodicCallback

logger = logging.getLogger(__name__)

KERNEL_MB = 400  # a kernel with the app's imports and a first run, measured on the sales dashboard
# A kernel forked from the zygote (`zygote.py`): its modules and the warm-up's results are the zygote's
# pages until written. 50 visitors of the sales dashboard: 5.3 GiB PSS for 35 kernels, the server and the
# zygote, ~150 MB a kernel; 200 leaves room for a visitor's own runs.
FORKED_KERNEL_MB = 200
MEMORY_SHARE = 0.5  # of the machine's memory, for kernels
NEVER_CONNECTED = 4  # times `gone_seconds`: the grace of a kernel whose page never connected


def default_max_kernels(kernel_mb: int = KERNEL_MB, share: float = MEMORY_SHARE) -> int:
    """How many kernels fit in `share` of this machine's memory (at least 2)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8
    return max(2, int(total * share / (kernel_mb * 2**20)))


@dataclass(frozen=True)
class CrowdLimits:
    max_kernels: int
    max_starting: int = 4 * (os.cpu_count() or 2)
    queue_seconds: float = 30.0
    retry_seconds: int = 10
    pool_max: int = 0  # 0: the pool keeps its size
    pool_idle_seconds: float = 300.0
    gone_seconds: float = 60.0


class Busy(Exception):
    """No kernel for this visitor within the wait: the reason goes on the busy page."""


class Crowd:
    """Admission of page requests and the pool and culling rules, for one Voilà kernel manager."""

    def __init__(self, limits: CrowdLimits) -> None:
        self.limits = limits
        self.kernel_manager: Any = None
        self._starting = asyncio.Semaphore(limits.max_starting)
        self._silent_since: dict[str, float] = {}
        self._connected: set[str] = set()
        self._base_pool: dict[str, int] = {}
        self._last_demand: dict[str, float] = {}
        self._watch: PeriodicCallback | None = None
        self.busy_replies = 0

    # -- wiring -------------------------------------------------------------------------------------------
    def attach(self, kernel_manager: Any) -> None:
        """Bound `kernel_manager`'s pool refills by the cap and start watching its kernels."""
        self.kernel_manager = kernel_manager
        if hasattr(kernel_manager, "fill_if_needed"):
            fill = kernel_manager.fill_if_needed

            def bounded_fill(*args: Any, **kwargs: Any) -> None:
                # Refills go on during a rush (pooled kernels are the fast path: holding them back
                # left 45 of 50 visitors without a dashboard in benchmarks/app.py --visitors 50).
                if self.kernel_count() < self.limits.max_kernels:
                    fill(*args, **kwargs)

            kernel_manager.fill_if_needed = bounded_fill
        interval = max(1.0, min(10.0, self.limits.gone_seconds / 3))
        self._watch = PeriodicCallback(self._tend, interval * 1000)
        self._watch.start()

    # -- counting -----------------------------------------------------------------------------------------
    def _pools(self) -> dict[str, list]:
        return getattr(self.kernel_manager, "_pools", {}) or {}

    @staticmethod
    def _ready(task: asyncio.Future) -> bool:
        """A pool task that is done and whose kernel started."""
        return task.done() and not task.cancelled() and task.exception() is None

    def pooled_ids(self) -> set[str]:
        return {
            task.result().get("kernel_id")
            for pool in self._pools().values()
            for task in pool
            if self._ready(task)
        }

    def kernel_count(self) -> int:
        """Kernels running plus pool kernels still starting."""
        starting = sum(1 for pool in self._pools().values() for task in pool if not task.done())
        return len(self.kernel_manager.list_kernel_ids()) + starting

    def ready_in_pool(self, notebook: str | None) -> bool:
        pool = self._pools().get(notebook or "", [])
        return any(self._ready(task) for task in pool)

    # -- admission ----------------------------------------------------------------------------------------
    async def admit(self, notebook: str | None) -> asyncio.Semaphore | None:
        """Wait (at most `queue_seconds`) for a turn to render; the semaphore to release afterwards, or
        None when the page comes straight from a ready pooled kernel. Raises Busy."""
        if notebook is not None:
            self._note_demand(notebook)
            if self.ready_in_pool(notebook):
                return None
        deadline = time.monotonic() + self.limits.queue_seconds
        at_cap = f"{self.limits.max_kernels} visitors are using it, the most it serves at once"
        full = False
        while True:
            left = deadline - time.monotonic()
            try:
                await asyncio.wait_for(self._starting.acquire(), timeout=max(0.01, left))
            except TimeoutError:
                raise Busy(at_cap if full else "every kernel it may start is starting") from None
            keep = False  # the turn goes to the caller; any other way out (an exception too) releases it
            try:
                if notebook is not None and self.ready_in_pool(notebook):
                    return None
                if self.kernel_count() < self.limits.max_kernels or (
                    notebook is not None and self._pools().get(notebook)
                ):
                    keep = True
                    return self._starting
            finally:
                if not keep:
                    self._starting.release()
            full = True
            if time.monotonic() >= deadline:
                raise Busy(at_cap)
            await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def _note_demand(self, notebook: str) -> None:
        """A visitor who finds no ready pooled kernel makes the pool one larger (up to `pool_max`)."""
        self._last_demand[notebook] = time.monotonic()
        configs = getattr(self.kernel_manager, "kernel_pools_config", None)
        if not self.limits.pool_max or configs is None or self.ready_in_pool(notebook):
            return
        current = self._pool_size(notebook)
        self._base_pool.setdefault(notebook, current)
        if current < self.limits.pool_max:
            self._set_pool_size(notebook, current + 1)  # filled by `_resize_pools`

    def _pool_size(self, notebook: str) -> int:
        configs = self.kernel_manager.kernel_pools_config
        config = configs.get(notebook, configs.get("default", {}))
        return int(config.get("pool_size", 0))

    def _set_pool_size(self, notebook: str, size: int) -> None:
        configs: dict[str, dict[str, Any]] = dict(self.kernel_manager.kernel_pools_config)
        config = dict(configs.get(notebook, configs.get("default", {})))
        config["pool_size"] = size
        configs[notebook] = config
        self.kernel_manager.kernel_pools_config = configs

    # -- tending ------------------------------------------------------------------------------------------
    async def _tend(self) -> None:
        try:
            await self._cull_gone()
            self._resize_pools()
        except Exception:  # noqa: BLE001 - a watcher must keep watching
            logger.exception("tending the kernels failed")

    async def _cull_gone(self) -> None:
        manager = self.kernel_manager
        connections = getattr(manager, "_kernel_connections", {})
        pooled = self.pooled_ids()
        now = time.monotonic()
        for kernel_id in list(manager.list_kernel_ids()):
            if kernel_id in pooled or connections.get(kernel_id, 0) > 0:
                self._silent_since.pop(kernel_id, None)
                if kernel_id not in pooled:
                    self._connected.add(kernel_id)
                continue
            kernel = manager.get_kernel(kernel_id)
            last = getattr(kernel, "last_activity", None)
            quiet_for = (dt.datetime.now(dt.UTC) - last).total_seconds() if last is not None else 0.0
            since = self._silent_since.setdefault(kernel_id, now)
            if getattr(kernel, "execution_state", "idle") == "busy":
                continue
            # A page that never connected may still be loading on a crowded machine: it gets longer.
            grace = self.limits.gone_seconds * (1 if kernel_id in self._connected else NEVER_CONNECTED)
            if now - since >= grace and quiet_for >= grace:
                getattr(manager, "log", logger).info("shutting down kernel %s: its page is gone", kernel_id)
                self._silent_since.pop(kernel_id, None)
                await manager.shutdown_kernel(kernel_id)
        alive = set(manager.list_kernel_ids())
        for kernel_id in set(self._silent_since) - alive:
            self._silent_since.pop(kernel_id, None)
        self._connected &= alive

    def _resize_pools(self) -> None:
        """Pools grown by demand go back to their size after a quiet while; pools below their size (a
        refill skipped at the cap) are refilled once there is room."""
        manager = self.kernel_manager
        if not hasattr(manager, "fill_if_needed"):
            return
        now = time.monotonic()
        for notebook, base in list(self._base_pool.items()):
            if now - self._last_demand.get(notebook, now) >= self.limits.pool_idle_seconds:
                self._set_pool_size(notebook, base)
                del self._base_pool[notebook]
                pool = self._pools().get(notebook, [])
                for task in pool[base:]:
                    if self._ready(task):
                        asyncio.ensure_future(manager.shutdown_kernel(task.result()["kernel_id"]))
        for notebook, pool in self._pools().items():
            if len(pool) < self._pool_size(notebook) and self.kernel_count() < self.limits.max_kernels:
                manager.fill_if_needed(delay=0, notebook_name=notebook)

    # -- the busy page --------------------------------------------------------------------------------------
    def busy_page(self, reason: str) -> str:
        seconds = self.limits.retry_seconds
        return BUSY_PAGE.format(seconds=seconds, reason=html.escape(reason))


BUSY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{seconds}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Busy: retrying shortly</title>
<style>body{{font:16px system-ui,sans-serif;margin:15vh auto;max-width:34em;padding:0 1em;color:#333}}
h1{{font-size:1.4em}}</style></head>
<body><h1 class="aqtra-busy">This dashboard is busy</h1>
<p>{reason}. This page tries again by itself in {seconds} seconds.</p></body></html>
"""
