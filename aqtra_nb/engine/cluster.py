"""Connecting to a dask.distributed scheduler by address, checked first: a closed port, a host that does
not answer, or a server that is not a Dask scheduler fails in a few seconds with a message naming the
address (the Client alone waits its whole timeout, or reads an HTTP reply as a frame length and tries to
allocate exabytes)."""

from __future__ import annotations

import socket
import struct
from typing import Any
from urllib.parse import urlsplit

from ..errors import AqtraError

PROBE_SECONDS = 3.0
LARGEST_HANDSHAKE = 1 << 20  # a scheduler's greeting is a few hundred bytes


class SchedulerAddressError(AqtraError):
    """A Dask scheduler address cannot be used: unreachable, or something else answers there."""


def connect(address: str, *, field: str | None = None, timeout: float = PROBE_SECONDS) -> Any:
    """A `distributed.Client` for `address` (`tcp://host:port`), after `probe` found a scheduler there."""
    try:
        from distributed import Client
    except ImportError:
        raise AqtraError(
            'a cluster address needs dask.distributed: pip install "aqtra-nb[distributed]"', field=field
        ) from None
    probe(address, field=field, timeout=timeout)
    try:
        return Client(address, timeout=f"{max(timeout, 5.0)}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerAddressError(
            f"cannot connect to the Dask scheduler at {address}: {exc}", field=field
        ) from None


def probe(address: str, *, field: str | None = None, timeout: float = PROBE_SECONDS) -> None:
    """Raise SchedulerAddressError unless a Dask scheduler greets us at a `tcp://` address within
    `timeout` seconds (a scheduler sends its handshake first). Other schemes (tls, ucx, inproc) only get
    the connection check their transport allows, or none."""
    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parts.hostname, parts.port or 8786
    except ValueError:
        raise SchedulerAddressError(
            f"{address!r} is not a scheduler address: write tcp://HOST:PORT", field=field
        ) from None
    if not host:
        raise SchedulerAddressError(
            f"{address!r} is not a scheduler address: write tcp://HOST:PORT", field=field
        )
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if parts.scheme == "tcp":
                _greeting(sock, address, field, timeout)
    except SchedulerAddressError:
        raise
    except TimeoutError:
        raise SchedulerAddressError(
            f"cannot connect to the Dask scheduler at {address}: no answer within {timeout:g} s "
            "(a firewall, or a host that is down?)",
            field=field,
        ) from None
    except ConnectionRefusedError:
        raise SchedulerAddressError(
            f"cannot connect to the Dask scheduler at {address}: connection refused; is `dask scheduler` "
            f"running there and listening on port {port}?",
            field=field,
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SchedulerAddressError(
            f"cannot connect to the Dask scheduler at {address}: {reason}", field=field
        ) from None


def _greeting(sock: socket.socket, address: str, field: str | None, timeout: float) -> None:
    """Read the first 8 bytes a scheduler sends: the length of its handshake message."""
    sock.settimeout(timeout)
    received = b""
    try:
        while len(received) < 8:
            chunk = sock.recv(8 - len(received))
            if not chunk:
                break
            received += chunk
    except TimeoutError:
        raise SchedulerAddressError(
            f"{address} is not a Dask scheduler: it accepted the connection but sent no Dask handshake "
            f"within {timeout:g} s (another service on that port? a scheduler's default port is 8786)",
            field=field,
        ) from None
    if len(received) < 8:
        raise SchedulerAddressError(
            f"{address} is not a Dask scheduler: it closed the connection without a Dask handshake",
            field=field,
        )
    (length,) = struct.unpack("<Q", received)
    if not 8 < length <= LARGEST_HANDSHAKE:
        said = received.decode("ascii", errors="replace").split("\r")[0].split("\n")[0]
        raise SchedulerAddressError(
            f"{address} is not a Dask scheduler: it answered {said!r}, not a Dask handshake "
            "(a scheduler's default port is 8786)",
            field=field,
        )
