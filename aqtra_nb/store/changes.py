"""A cheap token that changes whenever anything is committed to the database, by any process.

Readers that answer the same question often (the API's run list, polled by every open Lab panel) keep
their answer while the token stays the same. SQLite: `PRAGMA data_version` on one connection kept for
it (it changes when any other connection commits). PostgreSQL (13+): the current snapshot
(`xmin:xmax:in-progress`), which moves when any transaction takes an id or ends. Other databases have
no token (None): nothing is kept.

Many threads asking at once share queries: a caller takes the answer of the first query that *started
after it asked* (so it still sees every commit made before it asked), and one query answers everyone who
asked while the previous one was under way. A hundred API requests at once on PostgreSQL make a query
per round trip, not a hundred queued on the one connection.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

_STATEMENTS = {
    "sqlite": "PRAGMA data_version",
    "postgresql": "SELECT pg_current_snapshot()::text",
}


class ChangeToken:
    """`token()`: a string equal to the previous one only if nothing was committed in between."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statement = _STATEMENTS.get(engine.dialect.name)
        self._connection: Connection | None = None
        self._generation = 0
        self._state = threading.Condition()
        # Queries run one at a time: one is under way while more have started than finished.
        self._started = 0  # queries started so far
        self._finished = 0  # the number of the last query finished, whose answer is `_answer`
        self._answer: str | None = None

    @property
    def cheap(self) -> bool:
        """Whether asking costs no round trip (SQLite reads its shared WAL index): fine on an event loop."""
        return self.engine.dialect.name == "sqlite"

    def token(self) -> str | None:
        if self.statement is None:
            return None
        with self._state:
            wanted = self._started + 1  # the first query that starts from now on
            while self._finished < wanted:
                if self._started == self._finished:  # none under way: this caller asks
                    self._started += 1
                    number = self._started
                    break
                self._state.wait()
            else:
                return self._answer
        answer = None
        try:
            answer = self._query()
        finally:
            with self._state:
                self._finished, self._answer = number, answer
                self._state.notify_all()
        return answer

    def _query(self) -> str | None:
        """One query on the kept connection (only one caller at a time is here)."""
        assert self.statement is not None
        try:
            if self._connection is None:
                self._generation += 1  # a new connection counts data_version afresh
                self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            value = self._connection.exec_driver_sql(self.statement).scalar()
        except SQLAlchemyError as exc:
            logger.debug("no change token: %s", exc)
            self._drop()
            return None
        return f"{self._generation}:{value}"

    def close(self) -> None:
        with self._state:
            while self._started != self._finished:
                self._state.wait()
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except SQLAlchemyError:
                pass
            self._connection = None
