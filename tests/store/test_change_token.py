"""The store's change token moves with every commit, by any connection or process, and only then;
run pages and records read with Core queries match what the ORM sees."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from aqtra_nb.errors import NotFound
from aqtra_nb.store import Store
from aqtra_nb.store.changes import ChangeToken
from aqtra_nb.store.models import Run, StepRun


def add_run(store: Store, run_id: str, name: str = "sales", status: str = "running") -> None:
    with store.session.begin() as session:
        session.add(Run(id=run_id, name=name, status=status, parameters={"n": 1}))
        session.flush()
        session.add_all(
            StepRun(run_id=run_id, step_id=step, component="filter", status="succeeded", rows=i)
            for i, step in enumerate(["read", "keep"])
        )


def test_token_moves_only_with_commits_from_anywhere(database_url):
    store = Store(database_url)
    changes = ChangeToken(store.engine)
    first = changes.token()
    assert first is not None and changes.token() == first  # reading changes nothing
    store.run_page()
    assert changes.token() == first

    add_run(store, "r1")  # another connection of this process
    second = changes.token()
    assert second != first

    writer = """
import sys
from sqlalchemy import update
from aqtra_nb.store import Store
from aqtra_nb.store.models import Run
with Store(sys.argv[1]).session.begin() as session:
    session.execute(update(Run).values(status="failed"))
"""
    subprocess.run([sys.executable, "-c", writer, database_url], check=True)  # another process
    assert changes.token() != second
    changes.close()
    store.close()


def test_callers_at_once_share_queries(database_url):
    store = Store(database_url)
    changes = ChangeToken(store.engine)
    queries = []
    real = changes._query

    def slow_query():
        queries.append(1)
        time.sleep(0.05)  # a round trip to a busy database server
        return real()

    changes._query = slow_query  # type: ignore[method-assign]
    start = threading.Barrier(16)

    def ask(_):
        start.wait()
        return changes.token()

    with ThreadPoolExecutor(16) as pool:
        tokens = list(pool.map(ask, range(16)))
    assert len(set(tokens)) == 1 and tokens[0] is not None
    assert 1 <= len(queries) <= 4  # one query for those who asked while another was under way
    changes.close()
    store.close()


def test_an_answer_from_before_a_commit_is_not_given_to_who_asked_after_it(database_url):
    store = Store(database_url)
    changes = ChangeToken(store.engine)
    before = changes.token()
    real = changes._query
    answered, release = threading.Event(), threading.Event()

    def query_then_stall():
        value = real()
        if not release.is_set():  # the first query: its answer is read, then it is slow to come back
            answered.set()
            release.wait(10)
        return value

    changes._query = query_then_stall  # type: ignore[method-assign]
    with ThreadPoolExecutor(2) as pool:
        stale = pool.submit(changes.token)
        assert answered.wait(10)
        add_run(store, "r1")  # committed while the first query's answer is on its way
        after = pool.submit(changes.token)
        time.sleep(0.05)
        assert not after.done()  # waits for a query that started after it asked
        release.set()
        assert stale.result(10) == before
        assert after.result(10) != before
    changes.close()
    store.close()


def test_run_page_and_record_as_plain_records(database_url):
    store = Store(database_url)
    for i in range(5):
        add_run(
            store, f"run{i}", name="sales" if i % 2 else "other", status="failed" if i == 3 else "running"
        )
    with store.session.begin() as session:
        session.execute(update(Run).where(Run.id == "run3").values(error="boom"))
    runs, total = store.run_page(name="sales", limit=1)
    assert total == 2 and len(runs) == 1
    orm = store.run(runs[0]["id"])
    assert runs[0]["status"] == orm.status and runs[0]["parameters"] == {"n": 1}
    assert [s["step"] for s in runs[0]["steps"]] == [s.step_id for s in orm.steps] == ["read", "keep"]
    failed, total = store.run_page(status="failed")
    assert total == 1 and failed[0]["id"] == "run3" and failed[0]["error"] == "boom"
    second_page, _ = store.run_page(offset=1, limit=10)
    assert len(second_page) == 4
    record = store.run_record("run3")
    assert record["steps"][1] == {
        "step": "keep", "component": "filter", "status": "succeeded", "rows": 1, "seconds": None, "error": None,
        "cached": False,
    }  # fmt: skip
    with pytest.raises(NotFound, match="no run with id"):
        store.run_record("nope")
    with pytest.raises(NotFound, match="ambiguous"):
        store.run_record("run")
    store.close()
