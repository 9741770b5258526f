"""`--scheduler tcp://HOST:PORT` (and the job scheduler's `--dask`) pointed at something that is not a Dask
scheduler: a clear message naming the address within a few seconds, no MemoryError, no traceback from
`Client.__del__`. Real servers on loopback: one that speaks HTTP, one that says nothing, one that sends a
banner, and a closed port."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aqtra_nb.engine.cluster import SchedulerAddressError, probe


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_address():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _tcp_server(greeting: bytes | None):
    """A TCP server that accepts and sends `greeting` (or nothing), then keeps the connection open."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            if greeting:
                conn.sendall(greeting)

    threading.Thread(target=serve, daemon=True).start()
    return listener, held


@pytest.fixture
def silent_address():
    listener, held = _tcp_server(None)
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def banner_address():
    listener, held = _tcp_server(b"SSH-2.0-OpenSSH_9.6\r\n")
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def closed_address():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def _refused(address: str, timeout: float = 3.0) -> tuple[str, float]:
    started = time.perf_counter()
    with pytest.raises(SchedulerAddressError) as info:
        probe(address, field="scheduler", timeout=timeout)
    return str(info.value), time.perf_counter() - started


def test_a_closed_port_is_refused_at_once(closed_address):
    message, seconds = _refused(closed_address)
    assert f"cannot connect to the Dask scheduler at {closed_address}: connection refused" in message
    assert "field 'scheduler'" in message and seconds < 1


def test_servers_that_are_not_dask_schedulers(http_address, silent_address, banner_address):
    message, seconds = _refused(http_address, timeout=1.0)
    assert (
        f"{http_address} is not a Dask scheduler: it accepted the connection but sent no Dask handshake"
        in message
    )
    assert seconds < 2
    message, _ = _refused(silent_address, timeout=1.0)
    assert f"{silent_address} is not a Dask scheduler" in message
    message, seconds = _refused(banner_address)
    assert f"{banner_address} is not a Dask scheduler: it answered 'SSH-2.0-'" in message and seconds < 1


def test_bad_addresses(tmp_path):
    message, _ = _refused("tcp://127.0.0.1:notaport")
    assert "is not a scheduler address: write tcp://HOST:PORT" in message


@pytest.mark.slow
def test_the_cli_says_so_in_seconds_without_a_traceback(tmp_path, http_address, closed_address):
    flow = tmp_path / "tiny.flow.yaml"
    flow.write_text(
        "flow: tiny\nsteps:\n  - id: rows\n    component: empty\n    with: {columns: {x: integer}}\n"
    )
    for address, expected in (
        (http_address, "is not a Dask scheduler"),
        (closed_address, "connection refused"),
    ):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "aqtra_nb.cli", "run", str(flow), "--no-record", "--scheduler", address],
            capture_output=True,
            text=True,
            timeout=120,
        )
        seconds = time.perf_counter() - started
        assert done.returncode == 2, done.stderr
        assert f"error: field 'scheduler': {address}" in done.stderr or address in done.stderr
        assert expected in done.stderr
        for noise in ("Traceback", "MemoryError", "Exception ignored"):
            assert noise not in done.stderr
        # Well under Dask's own 30 s connect timeout (what it waited before the probe), with room for a
        # loaded machine's slow start-up of the command.
        assert seconds < 25


def test_the_job_scheduler_refuses_a_dead_dask_address_and_keeps_no_lock(
    closed_address, tmp_path, monkeypatch
):
    from aqtra_nb.jobs.scheduler import Scheduler
    from aqtra_nb.store import Store

    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        with pytest.raises(SchedulerAddressError) as info:
            Scheduler(store, dask=closed_address)
        assert info.value.field == "dask" and "connection refused" in str(info.value)
        Scheduler(store, workers=1).close()  # the lock was released: another scheduler may start
    finally:
        store.close()
