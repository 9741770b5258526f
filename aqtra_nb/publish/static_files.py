"""Voilà's static files served from memory, gzipped once.

A published page loads ~94 static files (Voilà's 73 script chunks, the widget manager's and anywidget's
federated modules, the template's styles): 5 MB a visitor, 1.4 MB gzipped. Tornado's `StaticFileHandler`
resolves each path on disk again (Voilà's template handler even collects its template folders again),
opens and reads the file for every request and writes it uncompressed in 64 KB flushes: 250 MB and
~15 % of the server's CPU for a crowd of 50 (py-spy, `benchmarks/app.py --visitors 50 --protocol`).

`InMemoryStatic` keeps what the first request resolved and read, keyed by the URL path, with its gzipped
form for text types, and answers from it: the same headers the handler sets (its `set_headers`, so
Jupyter's no-cache on labextensions stays), 304 on a matching `If-None-Match`/`If-Modified-Since`, gzip
when the client accepts it. A file changed on disk since (a reinstalled extension) is read again; a
`Range` request, a file over `MAX_BYTES` or anything the handler refuses takes the handler's own path.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from dataclasses import dataclass
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import FileFindHandler
from tornado import web
from voila.static_file_handler import MultiStaticFileHandler

MAX_BYTES = 16 * 2**20
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class _Entry:
    path: str  # the handler's `self.path` (after `parse_url_path`)
    absolute_path: str
    mtime_ns: int
    modified: Any  # datetime, as `get_modified_time` gives it
    raw: bytes
    gzipped: bytes | None


class InMemoryStatic(web.StaticFileHandler):
    """Mixed in before a `StaticFileHandler` subclass (see the module's docstring). The entries live in
    the application's settings: one server's files, whatever else the process serves."""

    def _memory(self) -> tuple[dict[str, _Entry], dict[str, asyncio.Future]]:
        return self.application.settings.setdefault("aqtra_static_files", ({}, {}))

    async def get(self, path: str, include_body: bool = True) -> None:
        if "Range" in self.request.headers:
            await super().get(path, include_body)
            return
        key, (entries, _) = self.request.path, self._memory()
        entry = entries.get(key)
        if entry is not None and _mtime_ns(entry.absolute_path) != entry.mtime_ns:
            del entries[key]  # changed on disk since it was read
            entry = None
        if entry is None:
            entry = await self._load(key, path)
            if entry is None:  # not a cacheable file: the handler's own answer (a 404, a redirect, ...)
                await super().get(path, include_body)
                return
        self.path, self.absolute_path, self.modified = entry.path, entry.absolute_path, entry.modified
        self.set_headers()
        self.set_header("Vary", "Accept-Encoding")
        if self.should_return_304():
            self.set_status(304)
            return
        body = entry.raw
        if entry.gzipped is not None and "gzip" in self.request.headers.get("Accept-Encoding", ""):
            body = entry.gzipped
            self.set_header("Content-Encoding", "gzip")
        self.set_header("Content-Length", len(body))
        if include_body:
            self.write(body)

    async def _load(self, key: str, path: str) -> _Entry | None:
        """Resolve `path` as the handler does and read it; one read for requests that come together."""
        entries, loads = self._memory()
        loading = loads.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        loads[key] = future
        try:
            entry = await self._read(path)
            if entry is not None:
                entries[key] = entry
            future.set_result(entry)
            return entry
        except BaseException:
            future.set_result(None)  # the others take the handler's path, which says what is wrong
            raise
        finally:
            del loads[key]

    async def _read(self, path: str) -> _Entry | None:
        self.path = self.parse_url_path(path)
        absolute_path = self.get_absolute_path(self.root, self.path)
        valid = self.validate_absolute_path(self.root, absolute_path)
        if valid is None or not os.path.isfile(valid):
            return None
        self.absolute_path = valid
        size = os.path.getsize(valid)
        if size > MAX_BYTES:
            return None
        content_type = self.get_content_type()
        compress = content_type.startswith(COMPRESSED_TYPES)
        raw, gzipped = await asyncio.get_running_loop().run_in_executor(None, _read_file, valid, compress)
        return _Entry(self.path, valid, _mtime_ns(valid), self.get_modified_time(), raw, gzipped)


def _read_file(path: str, compress: bool) -> tuple[bytes, bytes | None]:
    with open(path, "rb") as file:
        raw = file.read()
    return raw, gzip.compress(raw, compresslevel=6, mtime=0) if compress else None


def _mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


class CachedMultiStaticFileHandler(InMemoryStatic, MultiStaticFileHandler):
    """`/voila/static/`: Voilà's page scripts."""


class CachedFileFindHandler(InMemoryStatic, FileFindHandler):
    """`/voila/labextensions/`: the federated extensions' modules (Jupyter's no-cache header kept, and
    its access rule: served without a login, as Jupyter serves them to its login page)."""

    @allow_unauthenticated
    async def get(self, path: str, include_body: bool = True) -> None:
        await InMemoryStatic.get(self, path, include_body)


def in_memory(handler: Any) -> Any:
    """The in-memory variant of one of Voilà's static file handlers, else `handler` itself (the template
    handler is `quiet.SafeTemplateStaticFileHandler`, which mixes `InMemoryStatic` in itself)."""
    if handler is MultiStaticFileHandler:
        return CachedMultiStaticFileHandler
    if handler is FileFindHandler:
        return CachedFileFindHandler
    return handler
