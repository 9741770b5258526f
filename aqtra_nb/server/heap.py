"""The server process's garbage collector: the startup heap frozen, and collection pauses counted.

A Jupyter server with JupyterLab and aqtra-nb loaded holds some 330,000 container objects after start
(modules, classes, traitlets, SQLAlchemy's and pydantic's structures, and the engine, Dask and pyarrow
the extension imports before it listens), nearly all of them for good. Every full (generation 2)
collection walks all of them: 150-800 ms with Tornado's loop stopped, every few seconds under load,
which was most of the tail of the API's latency (and of Jupyter's own handlers). `gc.freeze()` on the
loop's first turn moves them to the permanent generation, which collections skip; full collections
then walk only what was allocated since (measured: 5-30 ms). Frozen objects are still freed by
reference counting; only a reference cycle among them would never be collected, and what exists at
start is the server's own machinery, alive until it stops. Instagram runs its Django servers this way;
CPython documents `gc.freeze` for the same purpose before forking.

Global to the process, so it has a setting: `c.AqtraNb.gc_freeze = False` turns it off.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)


#: validated once before the freeze: what the API's first validation would import (the engine, the
#: components, Dask, pyarrow: some 350 modules) is then part of the frozen heap, not of every collection
WARM_FLOW = """\
flow: warm
steps:
  - {id: rows, component: empty, with: {columns: {amount: number, status: string}}}
  - {id: big, component: filter, input: rows, with: {condition: "amount > 1 and status == 'x'"}}
  - {id: totals, component: aggregate, input: big, with: {by: [status], aggregations: {n: "count()"}}}
"""


def warm_up(root: Path) -> None:
    """Import what serving the API imports on first use, by validating a small flow."""
    from .flow_service import validate

    validate(WARM_FLOW, {}, root)


def freeze_startup_heap() -> int:
    """Freeze the heap as it is (no collection first: at start it holds a few dozen garbage objects, and
    a collection would stop the loop for a second); how many objects are frozen."""
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("aqtra-nb: %d startup objects frozen out of garbage collection (AqtraNb.gc_freeze)", frozen)
    return frozen


class GcPauses:
    """Collections and their seconds by generation, counted from `gc.callbacks` (plain numbers: a
    callback may run inside any allocation, so it takes no lock) and reported at scrape time."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.collections[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._started

    def collect(self) -> Iterator[Metric]:
        count = CounterMetricFamily(
            "aqtra_server_gc_collections",
            "Garbage collections in the server process, by generation.",
            labels=["generation"],
        )
        pause = CounterMetricFamily(
            "aqtra_server_gc_pause_seconds",
            "Seconds the server process spent in garbage collection (its loop stopped), by generation.",
            labels=["generation"],
        )
        for generation in range(3):
            count.add_metric([str(generation)], self.collections[generation])
            pause.add_metric([str(generation)], self.seconds[generation])
        yield count
        yield pause
        yield GaugeMetricFamily(
            "aqtra_server_gc_frozen_objects",
            "Objects in the permanent generation that collections skip (AqtraNb.gc_freeze).",
            value=gc.get_freeze_count(),
        )
