"""A visitor at the protocol level: what a published page's JavaScript does against the server, without
a browser drawing it. For benchmarks and tests that measure or check the server's side of a visit.

One visit: GET the page (following the busy page's retry, as its `<meta refresh>` does), GET the static
files the page loads (each visitor fetches them again, as a new browser would), then the kernel's
websocket (in Jupyter's v1 protocol, as JupyterLab's kernel connection asks), where the widget manager
asks for every widget's state (`jupyter.widget.control`, `request_states`) and then follows updates and
new widgets, until the dashboard is complete: every
widget the page's outputs reference is there with the models they reference, and `ready(states)` holds
(e.g. the status says the first run succeeded).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CONTROL_TARGET = "jupyter.widget.control"
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"  # what JupyterLab's kernel connection asks for
OUTPUT = re.compile(r'<script type="application/vnd\.voila\.cell-output\+json">\s*(.*?)\s*</script>', re.S)
CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">\s*(.*?)\s*</script>', re.S)
ASSET = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', re.S)
MODEL_REF = "IPY_MODEL_"

States = dict[str, dict[str, Any]]  # model id → {"model_name", "model_module", ..., "state": {...}}


@dataclass
class Visit:
    """What one visitor saw and how long it took (seconds from the first request)."""

    phase: str = "the page"  # what the visitor is waiting for (for a report when it gives up)
    page: float = 0.0  # the whole page received
    assets: float = 0.0  # and its static files
    complete: float = 0.0  # every widget there and `ready`
    busy_pages: int = 0
    asset_bytes: int = 0
    kernel_id: str = ""
    protocol: str = ""  # the kernel websocket's subprotocol ("" for JSON)
    referenced: set[str] = field(default_factory=set)
    states: States = field(default_factory=dict)


def page_models(page_html: str) -> set[str]:
    """Model ids the page's outputs display (the widget views the page will draw)."""
    models = set()
    for blob in OUTPUT.findall(page_html):
        output = json.loads(html.unescape(blob)) if blob.startswith("&") else json.loads(blob)
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view:
            models.add(view["model_id"])
    return models


def kernel_id(page_html: str) -> str:
    match = CONFIG.search(page_html)
    return json.loads(match.group(1)).get("kernelId", "") if match else ""


def page_assets(page_html: str, page_url: str) -> list[str]:
    """The page's own `<script src>` and `<link href>` on this server (not `data:` URLs)."""
    urls = (urljoin(page_url, html.unescape(src)) for src in ASSET.findall(page_html))
    server = urlsplit(page_url).netloc
    return [url for url in dict.fromkeys(urls) if urlsplit(url).netloc == server]


def missing_models(states: States, roots: set[str]) -> set[str]:
    """Models referenced from `roots` (through `IPY_MODEL_` references in states) not yet received."""
    missing, seen, todo = set(), set(), list(roots)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        if model not in states:
            missing.add(model)
            continue
        todo.extend(_references(states[model].get("state", {})))
    return missing


def _references(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value[len(MODEL_REF) :]] if value.startswith(MODEL_REF) else []
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in _references(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _references(item)]
    return []


class Visitor:
    """One new browser's worth of requests against a published page at `url` (with `?token=`)."""

    def __init__(
        self,
        url: str,
        *,
        assets: list[str] | None = None,
        ready: Callable[[States], bool] = lambda states: True,
        retry_seconds: float | None = None,
    ) -> None:
        self.url = url
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        token = re.search(r"(?:^|&)token=([^&]+)", parts.query)
        self.headers = {"Authorization": f"token {token.group(1)}"} if token else {}
        self.assets = assets  # paths to fetch instead of the page's own links (e.g. recorded from a browser)
        self.ready = ready
        self.retry_seconds = retry_seconds  # None: the busy page's Retry-After
        self.client = AsyncHTTPClient(force_instance=True, max_clients=6)  # a browser's 6 per host
        self.seen = Visit()

    async def visit(self, timeout: float = 360) -> Visit:
        """The visit; raises TimeoutError after `timeout` seconds (`self.seen.phase` says where)."""
        try:
            return await asyncio.wait_for(self._visit(), timeout)
        finally:
            self.client.close()

    async def _visit(self) -> Visit:
        seen = self.seen
        started = time.perf_counter()
        page = await self._page(seen)
        seen.page = time.perf_counter() - started
        seen.kernel_id = kernel_id(page)
        seen.referenced = page_models(page)
        seen.phase = "the static files"
        urls = [urljoin(self.base, path) for path in self.assets] if self.assets is not None else None
        await self._fetch_assets(seen, urls or page_assets(page, self.url))
        seen.assets = time.perf_counter() - started
        seen.phase = "the widgets"
        if seen.kernel_id:
            await self._widgets(seen.kernel_id, seen.referenced)
        seen.complete = time.perf_counter() - started
        seen.phase = "nothing"
        return seen

    async def _page(self, seen: Visit) -> str:
        while True:
            request = HTTPRequest(
                self.url, headers=self.headers, request_timeout=600, decompress_response=True
            )
            try:
                response = await self.client.fetch(request)
            except HTTPClientError as exc:
                if exc.code != 503 or exc.response is None:
                    raise
                seen.busy_pages += 1
                after = self.retry_seconds
                if after is None:
                    after = float(exc.response.headers.get("Retry-After", "10"))
                await asyncio.sleep(after)
                continue
            return response.body.decode()

    async def _fetch_assets(self, seen: Visit, urls: list[str]) -> None:
        headers = {**self.headers, "Accept-Encoding": "gzip, deflate"}

        async def fetch(url: str) -> None:
            # Not decompressed: a browser would, but that is the visitor's CPU, not the server's.
            request = HTTPRequest(url, headers=headers, request_timeout=600, decompress_response=False)
            response = await self.client.fetch(request)
            seen.asset_bytes += len(response.body)

        await asyncio.gather(*(fetch(url) for url in urls))

    async def _widgets(self, kernel: str, roots: set[str]) -> None:
        ws_url = (
            f"{self.base.replace('http', 'ws', 1)}/api/kernels/{kernel}/channels?session_id={uuid.uuid4()}"
        )
        # The protocol JupyterLab's kernel connection (so Voilà's page) asks for: the server forwards
        # the kernel's frames as they are, where the JSON protocol parses and re-encodes each message.
        connection = await websocket_connect(
            HTTPRequest(ws_url, headers=self.headers, request_timeout=600),
            max_message_size=1 << 30,
            subprotocols=[V1_PROTOCOL],
        )
        self.seen.protocol = connection.selected_subprotocol or ""
        wire = _Wire(self.seen.protocol == V1_PROTOCOL)
        session = str(uuid.uuid4())
        control = str(uuid.uuid4())

        async def send(kind: str, content: dict, metadata: dict | None = None) -> None:
            await connection.write_message(*wire.encode(_message(kind, content, session, metadata)))

        try:
            # As JupyterLab's kernel connection: nothing else is sent before the kernel answered its
            # kernel_info_request (the server may drop what comes before its channels are connected).
            await send("kernel_info_request", {})
            while True:
                raw = await connection.read_message()
                if raw is None:
                    raise ConnectionError(f"kernel {kernel}'s websocket closed before it answered")
                reply = wire.decode(raw)
                if reply.get("msg_type") == "kernel_info_reply":
                    break
            await send(
                "comm_open",
                {"comm_id": control, "target_name": CONTROL_TARGET, "data": {}},
                metadata={"version": "1.0.0"},
            )
            await send("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
            states: States = self.seen.states
            have_all = False
            while True:
                raw = await connection.read_message()
                if raw is None:
                    raise ConnectionError(
                        f"kernel {kernel}'s websocket closed before the dashboard was complete"
                    )
                message = wire.decode(raw)
                _apply(states, message, control)
                if message.get("msg_type") == "comm_msg" and message["content"].get("comm_id") == control:
                    have_all = True
                    self.seen.phase = "the widgets (all states received)"
                if have_all and not missing_models(states, roots) and self.ready(states):
                    return
        finally:
            connection.close()


@dataclass(frozen=True)
class _Wire:
    """Messages on the kernel websocket: Jupyter's v1 protocol (binary frames: offsets, the channel,
    the message's parts) when the server took it, else JSON text (binary when a message has buffers)."""

    v1: bool

    def encode(self, message: dict) -> tuple[str | bytes, bool]:
        """`write_message`'s arguments for `message`."""
        if not self.v1:
            return json.dumps(message), False
        parts = [
            json.dumps(message[part]).encode() for part in ("header", "parent_header", "metadata", "content")
        ]
        return serialize_msg_to_ws_v1(parts, message["channel"]), True

    def decode(self, raw: str | bytes) -> dict:
        """The message's header fields, metadata and content (its buffers are left out: the states are
        enough here)."""
        if isinstance(raw, str):
            return json.loads(raw)
        if not self.v1:  # the JSON protocol's frame for a message with buffers
            return deserialize_binary_message(raw)
        channel, parts = deserialize_msg_from_ws_v1(raw)
        header, parent, metadata, content = (json.loads(part) for part in parts[:4])
        return {
            **header,
            "header": header,
            "parent_header": parent,
            "metadata": metadata,
            "content": content,
            "channel": channel,
        }


def _message(kind: str, content: dict, session: str, metadata: dict | None = None) -> dict:
    return {
        "header": {
            "msg_id": str(uuid.uuid4()),
            "msg_type": kind,
            "username": "visitor",
            "session": session,
            "date": "",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": metadata or {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


def _apply(states: States, message: dict, control: str) -> None:
    """Fold a kernel message into the widget states: the control comm's `update_states`, a new widget's
    `comm_open`, a widget's `update`."""
    kind, content = message.get("msg_type"), message.get("content", {})
    if kind == "comm_msg" and content.get("comm_id") == control:
        for model, state in content.get("data", {}).get("states", {}).items():
            states[model] = state
    elif kind == "comm_open" and content.get("target_name") == "jupyter.widget":
        data = content.get("data", {})
        meta = message.get("metadata", {})
        states[content["comm_id"]] = {"state": dict(data.get("state", {})), **meta}
    elif kind == "comm_msg":
        data = content.get("data", {})
        model = states.get(content.get("comm_id", ""))
        if model is not None and data.get("method") in ("update", "echo_update"):
            model.setdefault("state", {}).update(data.get("state", {}))
