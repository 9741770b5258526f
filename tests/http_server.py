"""A small JSON API on 127.0.0.1 for the connector tests (standard library only, one thread per request).

GET  /items?page=N[&per_page=M]        page-style: {"data": {"items": [...]}, "page": N}; empty past the end
GET  /link?offset=K                     {"results": [...], "links": {"next": "/link?offset=.." | null}}
GET  /link-header?offset=K              a bare list; the next page in the `Link: <...>; rel="next"` header
GET  /cursor[?cursor=C]                 {"items": [...], "meta": {"next_cursor": "..." | null}}
GET  /flaky/KEY                         503 twice per KEY (with a Retry-After of 0), then /items page 1
GET  /secure[?page=N]                   needs `Authorization: Bearer <token>` (and `api_key=<token>` if
                                        `query_token`), else 401 echoing what it got
GET  /basic                             needs HTTP basic auth with password <token>
GET  /fail                              always 500, echoing the request's Authorization header
GET  /echo-fail[?unicode=1]             always 500 with a JSON body echoing the Authorization header and
                                        the query (JSON-escaped; non-ASCII kept as is with unicode=1)
GET  /fail-on-page-3?page=N             /items, but page 3 is a 500
GET  /slow                               answers after a second
GET  /not-json                          an HTML page
GET  /stuck                              a page whose next link is itself
GET  /offsite                           a page whose next link is on another host
POST /sink[/KEY]                        records each batch (KEY /flaky-...: 503 twice first)
POST /sink-fail                         500 with a long body
POST /fail                              500, echoing the request's Authorization header
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ITEMS = [
    {
        "id": i,
        "name": f"item {i}",
        "price": round(i * 1.25, 2),
        "in_stock": i % 3 != 0,
        "dims": {"w": i, "unit": "cm"},
        "added": f"2024-01-{i:02d}T10:00:00Z",
    }
    for i in range(1, 24)
]  # 23 records: 5 pages of 5 (the last one short)
PAGE = 5


class ApiServer:
    def __init__(self, token: str = "t0ken", *, query_token: bool = False) -> None:
        self.token, self.query_token = token, query_token
        self.posted: list[Any] = []
        self.post_headers: list[dict[str, str]] = []
        self.hits: dict[str, int] = {}
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.get(path, 0)

    def hit(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]


def _window(offset: int, size: int = PAGE) -> list[dict[str, Any]]:
    return ITEMS[offset : offset + size]


def _handler(api: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def send_text(self, status: int, text: str, kind: str = "text/plain") -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def send_echo(self, query: dict[str, list[str]]) -> None:
            echoed = {
                "error": "refused",
                "authorization": self.headers.get("Authorization", ""),
                "query": query,
            }
            unicode = query.get("unicode") == ["1"]
            self.send_text(500, json.dumps(echoed, ensure_ascii=not unicode), "application/json")

        def items_page(self, query: dict[str, list[str]]) -> None:
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("per_page", [str(PAGE)])[0])
            self.send_json(200, {"data": {"items": _window((page - 1) * size, size)}, "page": page})

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            seen = api.hit(path)
            with api.lock:
                api.queries.append((path, query))
            offset = int(query.get("offset", ["0"])[0])
            if path == "/items":
                self.items_page(query)
            elif path == "/link":
                nxt = f"/link?offset={offset + PAGE}" if offset + PAGE < len(ITEMS) else None
                self.send_json(200, {"results": _window(offset), "links": {"next": nxt}})
            elif path == "/link-header":
                headers = {}
                if offset + PAGE < len(ITEMS):
                    headers["Link"] = f'<{api.url}/link-header?offset={offset + PAGE}>; rel="next"'
                self.send_json(200, _window(offset), headers)
            elif path == "/cursor":
                cursor = query.get("cursor", [None])[0]
                start = int(base64.b64decode(cursor).decode()) if cursor else 0
                end = start + PAGE
                nxt = base64.b64encode(str(end).encode()).decode() if end < len(ITEMS) else None
                self.send_json(200, {"items": _window(start), "meta": {"next_cursor": nxt}})
            elif path.startswith("/flaky/"):
                if seen <= 2:
                    self.send_json(503, {"error": "try again"}, {"Retry-After": "0"})
                else:
                    self.items_page(query)
            elif path == "/secure":
                got = self.headers.get("Authorization", "")
                key = query.get("api_key", [""])[0]
                if got != f"Bearer {api.token}" or (api.query_token and key != api.token):
                    self.send_json(401, {"error": "unauthorized", "got": got, "api_key": key})
                else:
                    self.items_page(query)
            elif path == "/basic":
                expected = "Basic " + base64.b64encode(f"user:{api.token}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_json(401, {"error": "unauthorized", "got": self.headers.get("Authorization")})
                else:
                    self.send_json(200, _window(0))
            elif path == "/fail":
                got = self.headers.get("Authorization", "")
                self.send_text(500, f"Internal error while serving {self.path} for Authorization: {got}")
            elif path == "/echo-fail":
                self.send_echo(query)
            elif path == "/fail-on-page-3":
                if query.get("page") == ["3"]:
                    self.send_text(500, "page 3 is broken")
                else:
                    self.items_page(query)
            elif path == "/slow":
                time.sleep(1.0)
                self.items_page(query)
            elif path == "/not-json":
                self.send_text(200, "<html><body>Hello</body></html>", "text/html")
            elif path == "/stuck":
                self.send_json(200, {"records": _window(0), "next": "/stuck"})
            elif path == "/offsite":
                self.send_json(200, {"records": _window(0), "next": "http://other.invalid/offsite?page=2"})
            else:
                self.send_json(404, {"error": f"no route {path}"})

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            seen = api.hit(path)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"null")
            if path == "/sink-fail":
                self.send_text(500, "database is on fire; " + "x" * 1000)
                return
            if path == "/fail":
                got = self.headers.get("Authorization", "")
                self.send_text(500, f"Internal error while serving {self.path} for Authorization: {got}")
                return
            if path.startswith("/sink/flaky") and seen <= 2:
                self.send_json(503, {"error": "busy"}, {"Retry-After": "0"})
                return
            with api.lock:
                api.posted.append(body)
                api.post_headers.append(dict(self.headers))
            self.send_json(200, {"received": len(body) if isinstance(body, list) else 1})

    return Handler
