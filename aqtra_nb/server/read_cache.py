"""Replies of busy read routes kept while the store has not changed.

Every open Lab panel polls `GET runs`; a dashboard of many people asks the same page again and again.
A reply (its JSON bytes) is kept under its route and arguments together with the store's change token
(`store/changes.py`) read *before* the query, and served only while the token is still the same: a reply
is never older than the last commit anyone made. Bounded by total bytes, least recently used out first.
Requests for the same reply that arrive while it is being computed wait for that one computation
instead of each querying the store (a hundred panels opening at once make one query, not a hundred).
On a database server, where each thread hop costs as much as a round trip, a handler looks up and
computes in one pool call (`read_through`) instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from ..store.changes import ChangeToken


class ReadCache:
    def __init__(self, changes: ChangeToken, max_bytes: int = 32 * 2**20) -> None:
        self.changes = changes
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._flights: dict[tuple[Hashable, str], asyncio.Future[bytes]] = {}
        self.hits = 0
        self.misses = 0

    async def fetch(self, key: Hashable, token: str | None, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The kept reply, or the one being computed, or `compute()`'s (kept when there is a token)."""
        body = self.get(key, token)
        if body is not None:
            return body
        if token is None:
            return await compute()
        flight = self._flights.get((key, token))
        if flight is None:
            flight = asyncio.ensure_future(compute())
            self._flights[key, token] = flight
            flight.add_done_callback(lambda done: self._landed(key, token, done))
        return await asyncio.shield(flight)

    def read_through(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """On a pool thread: the token, then the kept reply or `compute()`'s (kept)."""
        token = self.changes.token()
        body = self.get(key, token)
        if body is None:
            body = compute()
            self.put(key, token, body)
        return body

    def _landed(self, key: Hashable, token: str, done: asyncio.Future[bytes]) -> None:
        self._flights.pop((key, token), None)
        if not done.cancelled() and done.exception() is None:
            self.put(key, token, done.result())

    def get(self, key: Hashable, token: str | None) -> bytes | None:
        if token is None:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != token:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, token: str | None, body: bytes) -> None:
        if token is None or len(body) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = (token, body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
