"""Where the API's short calls run: inline on the loop while they are quick and wait on nothing, on the
thread pool otherwise (aqtra_nb/server/placement.py); and the server process's heap frozen after start
(aqtra_nb/server/heap.py)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from aqtra_nb.server.heap import GcPauses, freeze_startup_heap
from aqtra_nb.server.placement import Placement


@pytest.fixture
def placement():
    with ThreadPoolExecutor(2) as executor:
        yield Placement(executor, retry=2)


def where() -> str:
    return "loop" if threading.current_thread() is threading.main_thread() else "pool"


def burn(seconds: float) -> str:
    """Use `seconds` of this thread's CPU."""
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass
    return where()


def waits() -> str:
    time.sleep(0.001)  # a voluntary context switch, as a socket read makes
    return where()


def places(placement: Placement, key: str, function, times: int) -> list[str]:
    async def go() -> list[str]:
        return [await placement.run(key, function) for _ in range(times)]

    return asyncio.run(go())


def test_a_quick_call_runs_on_the_pool_once_then_on_the_loop(placement):
    assert places(placement, "quick", where, 4) == ["pool", "loop", "loop", "loop"]
    assert (placement.pool_calls, placement.inline_calls) == (1, 3)


def test_a_call_using_more_cpu_than_the_budget_stays_on_the_pool(placement):
    assert places(placement, "heavy", lambda: burn(0.01), 3) == ["pool", "pool", "pool"]
    assert places(placement, "light", where, 2) == ["pool", "loop"]  # keys are measured apart


def test_a_call_that_waits_goes_back_to_the_pool_and_is_tried_again_later(placement):
    # two inline calls in a row that waited: `retry` (2) pool calls, then inline again; again two that
    # waited: twice as many pool calls
    found = places(placement, "waits", waits, 10)
    assert found == ["pool", "loop", "loop", "pool", "pool", "loop", "loop", "pool", "pool", "pool"]


def test_an_error_is_raised_where_it_runs_and_the_call_still_measured(placement):
    def missing() -> None:
        raise KeyError("no such run")

    async def go() -> None:
        for _ in range(2):
            with pytest.raises(KeyError):
                await placement.run("missing", missing)

    asyncio.run(go())
    assert (placement.pool_calls, placement.inline_calls) == (1, 1)


def test_calls_are_counted_for_the_metrics(placement):
    places(placement, "quick", where, 3)
    (family,) = placement.collect()
    assert {sample.labels["on"]: sample.value for sample in family.samples} == {"inline": 2, "pool": 1}


def test_the_startup_heap_is_frozen_out_of_collections_and_pauses_are_counted():
    pauses = GcPauses()
    pauses.install()
    try:
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count() > 1000
        gc.collect()
        gc.collect(0)
        samples = {
            (family.name, sample.labels.get("generation")): sample.value
            for family in pauses.collect()
            for sample in family.samples
        }
        assert samples["aqtra_server_gc_collections", "2"] >= 1
        assert samples["aqtra_server_gc_collections", "0"] >= 1
        assert samples["aqtra_server_gc_pause_seconds", "2"] > 0
        assert samples["aqtra_server_gc_frozen_objects", None] == frozen
    finally:
        pauses.uninstall()
        gc.unfreeze()
    assert pauses._callback not in gc.callbacks


class Changes:
    """A change token the test moves by hand (the store's is `store/changes.py`)."""

    cheap = False

    def __init__(self) -> None:
        self.value = "1"

    def token(self) -> str:
        return self.value


def test_read_through_keeps_a_reply_until_the_store_changes():
    """On a database server the handler's one pool call: token, kept reply or computed (and kept)."""
    from aqtra_nb.server.read_cache import ReadCache

    changes = Changes()
    cache = ReadCache(changes)  # type: ignore[arg-type]
    computed = []

    def compute() -> bytes:
        computed.append(changes.value)
        return f"reply {len(computed)}".encode()

    assert cache.read_through("runs", compute) == b"reply 1"
    assert cache.read_through("runs", compute) == b"reply 1"
    changes.value = "2"  # someone committed
    assert cache.read_through("runs", compute) == b"reply 2"
    assert computed == ["1", "2"]
