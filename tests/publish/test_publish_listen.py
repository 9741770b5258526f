"""A server that cannot listen leaves nothing behind (#18): Voilà's kernel manager queues the pool's
kernel starts on the thread's event loop before it listens, and those tasks used to run (and fail,
their notebook gone) whenever that loop next ran, in a later test: "Task exception was never retrieved"."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import warnings
from pathlib import Path

import pytest
from publish_helpers import write_notebook

from aqtra_nb.cli import main


@pytest.mark.slow
def test_a_port_in_use_leaves_no_task_on_the_event_loop(tmp_path: Path, monkeypatch, capsys, caplog):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    write_notebook(tmp_path / "good.ipynb", "print(1)")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            assert main(["publish", "good.ipynb", "--port", str(port)]) == 2
        assert f"could not listen on 127.0.0.1:{port}" in capsys.readouterr().err
        assert [t for t in asyncio.all_tasks(loop) if not t.done()] == []
        caplog.set_level(logging.ERROR, logger="asyncio")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loop.run_until_complete(asyncio.sleep(0.2))  # the loop runs again, as in a later test
            gc.collect()
        assert "never retrieved" not in caplog.text
        assert not [w for w in caught if "never awaited" in str(w.message)]
    finally:
        asyncio.set_event_loop(None)
        loop.close()
