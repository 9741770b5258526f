"""Where a handler's blocking call runs: inline on Tornado's loop when it is short and waits on nothing,
else on the thread pool.

A thread-pool hop is not free. Its result comes back only when the loop's thread lets go of the GIL,
and with a hundred requests queued on the loop that hand-over (up to a switch interval, 5 ms, each way)
costs more than the work itself when the work is a 0.4 ms SQLite read or a memoized validation. Such
calls are better run on the loop, as Jupyter's own handlers run theirs. A call that waits (a network
database, a slow disk, a lock) must not: the whole server would wait with it.

So each call has a key (a route, or a route and request body), and what the calls of that key did
decides where the next one runs:
- a key runs inline while its calls use less than `budget` seconds of CPU on average (a moving average,
  so one call slowed by a garbage collection does not move it); a key seen for the first time runs on
  the pool, which measures it;
- two inline calls in a row that waited (a voluntary context switch of the loop's thread: a socket, a
  blocking read, a lock; preemption by other processes does not count) while no pool work was running
  (which could have held the GIL: then a wait says nothing) send the key to the pool for `retry` calls,
  doubled each time it happens again (up to `max_retry`): a key that always waits, a flow whose input
  schema comes from a database server, blocks the loop once per thousands of calls.
Callers keep off it what always waits: `AqtraHandler.cached` sends every read of a PostgreSQL store to
the pool.
"""

from __future__ import annotations

import asyncio
import functools
import resource
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client.core import CounterMetricFamily, Metric

T = TypeVar("T")

_RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)  # Linux


def _waits() -> int:
    """Voluntary context switches of this thread so far (0 where the platform does not count them)."""
    return resource.getrusage(_RUSAGE_THREAD).ru_nvcsw if _RUSAGE_THREAD is not None else 0


@dataclass
class _Key:
    cpu: float | None = None  # moving average of CPU seconds per call; None: not measured yet
    waited: bool = False  # the last inline call waited
    pool_calls_left: int = 0  # before the next inline try
    penalty: int = 0  # pool calls after the last two inline calls in a row that waited (0: none)

    def measured(self, cpu: float) -> None:
        self.cpu = cpu if self.cpu is None else self.cpu + (cpu - self.cpu) / 8


class Placement:
    def __init__(
        self,
        executor: Executor,
        *,
        budget: float = 0.001,
        retry: int = 16,
        max_retry: int = 4096,
        size: int = 4096,
    ) -> None:
        self.executor = executor
        self.budget, self.retry, self.max_retry, self.size = budget, retry, max_retry, size
        self._keys: OrderedDict[Hashable, _Key] = OrderedDict()
        self.in_flight = 0  # calls running on the pool
        self.inline_calls = 0
        self.pool_calls = 0

    async def run(self, key: Hashable, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)`, inline or on the pool as the key's calls so far say."""
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key()
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        if state.cpu is not None and state.cpu < self.budget and state.pool_calls_left <= 0:
            return self._inline(state, function, *args)
        state.pool_calls_left -= 1
        cpu = [0.0]
        try:
            return await self.pool(functools.partial(_timed, cpu, function, *args))
        finally:
            state.measured(cpu[0])

    async def pool(self, function: Callable[[], T]) -> T:
        """`function()` on the thread pool."""
        self.pool_calls += 1
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, function)
        finally:
            self.in_flight -= 1

    def collect(self) -> Iterator[Metric]:
        """For the server's metrics: how many calls ran where."""
        calls = CounterMetricFamily(
            "aqtra_server_calls",
            "Short API calls run on the loop (inline) or on the thread pool.",
            labels=["on"],
        )
        calls.add_metric(["inline"], self.inline_calls)
        calls.add_metric(["pool"], self.pool_calls)
        yield calls

    def _inline(self, state: _Key, function: Callable[..., T], *args: Any) -> T:
        self.inline_calls += 1
        pool_idle = self.in_flight == 0
        waits, cpu = _waits(), time.thread_time()
        try:
            return function(*args)
        finally:
            state.measured(time.thread_time() - cpu)
            waited = pool_idle and _waits() != waits
            if waited and state.waited:
                state.penalty = min(state.penalty * 2, self.max_retry) if state.penalty else self.retry
                state.pool_calls_left = state.penalty
                waited = False
            elif not waited:
                state.penalty = 0
            state.waited = waited


def _timed(cpu: list[float], function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on a pool thread, its CPU seconds put in `cpu[0]`."""
    started = time.thread_time()
    try:
        return function(*args)
    finally:
        cpu[0] = time.thread_time() - started
