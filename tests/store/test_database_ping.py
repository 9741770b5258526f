"""Connections to a database server are pinged when taken from the pool after being idle, not on
every use, and one that died meanwhile (a restart, an administrator) is replaced without an error."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from aqtra_nb.store import Store, database


def test_idle_connections_are_pinged_and_dead_ones_replaced(postgres_database, monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.2)
    store = Store(postgres_database)
    pings = []
    real_ping = store.engine.dialect.do_ping
    monkeypatch.setattr(store.engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))

    store.run_page()
    store.run_page()
    assert pings == []  # taken again right after it was given back: no round trip spent on a ping

    with store.engine.connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    admin.dispose()
    time.sleep(0.3)

    runs, total = store.run_page()  # idle: pinged, found dead, replaced
    assert (runs, total) == ([], 0) and pings
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != backend
    store.close()
