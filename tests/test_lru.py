"""The bounded memo the planner and the server keep entries in."""

from __future__ import annotations

import threading

from aqtra_nb.lru import LRU


def test_least_recently_used_goes_first():
    memo: LRU[int] = LRU(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # now the most recently used
    memo.put("c", 3)
    assert memo.get("b") is None and memo.get("a") == 1 and memo.get("c") == 3 and len(memo) == 2
    memo.put("a", 10)  # replacing counts as a use
    memo.put("d", 4)
    assert memo.get("c") is None and memo.get("a") == 10
    memo.pop("a")
    memo.pop("missing")
    assert memo.get("a") is None and len(memo) == 1
    memo.clear()
    assert len(memo) == 0


def test_threads_at_once_keep_it_bounded():
    memo: LRU[int] = LRU(50)

    def work(offset: int) -> None:
        for i in range(2_000):
            memo.put((offset, i % 80), i)
            memo.get((offset, (i * 7) % 80))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memo) == 50
