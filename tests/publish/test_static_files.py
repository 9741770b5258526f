"""Static files from memory (publish/static_files.py): the same bytes and headers as Tornado's handler,
gzipped once for clients that accept it, one read for a crowd, a changed file read again, and the
handler's own answers for ranges, missing files and paths outside its folder (a published page's own
scripts: test_publish_static.py)."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.testing import bind_unused_port

from aqtra_nb.publish import static_files

SCRIPT = "export const answer = 42;\n" * 2000


class Files(static_files.InMemoryStatic, web.StaticFileHandler):
    pass


async def serve(folder: Path, requests_: list[tuple[str, dict[str, str]]]) -> list:
    """Answers (code, headers, body as sent) to each request, made at once, against `folder`."""
    sock, port = bind_unused_port()
    server = web.Application([(r"/static/(.*)", Files, {"path": str(folder)})]).listen(0)
    server.add_sockets([sock])
    client = AsyncHTTPClient(force_instance=True)

    async def fetch(path: str, headers: dict[str, str]):
        try:
            response = await client.fetch(
                f"http://127.0.0.1:{port}{path}", headers=headers, decompress_response=False
            )
        except HTTPClientError as exc:
            response = exc.response
            if response is None:
                raise
        return response.code, response.headers, response.body

    try:
        return await asyncio.gather(*(fetch(path, headers) for path, headers in requests_))
    finally:
        client.close()
        server.stop()


def test_a_file_is_read_once_for_a_crowd_and_sent_gzipped_to_those_who_accept_it(tmp_path, monkeypatch):
    (tmp_path / "app.js").write_text(SCRIPT)
    reads: list[str] = []
    read = static_files._read_file
    monkeypatch.setattr(
        static_files, "_read_file", lambda path, zipped: reads.append(path) or read(path, zipped)
    )

    gzipped = {"Accept-Encoding": "gzip"}
    answers = asyncio.run(serve(tmp_path, [("/static/app.js", gzipped)] * 20 + [("/static/app.js", {})]))
    assert len(reads) == 1
    for code, headers, body in answers[:20]:
        assert code == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(body).decode() == SCRIPT and len(body) < len(SCRIPT) / 10
        assert headers["Content-Type"].endswith("/javascript") and headers["Etag"]
    code, headers, body = answers[20]
    assert code == 200 and "Content-Encoding" not in headers and body.decode() == SCRIPT


def test_conditional_range_missing_and_outside_requests_get_the_handler_s_answers(tmp_path):
    (tmp_path / "app.js").write_text(SCRIPT)
    (tmp_path.parent / "secret.txt").write_text("not served")
    first = asyncio.run(serve(tmp_path, [("/static/app.js", {})]))[0]
    etag = first[1]["Etag"]
    answers = asyncio.run(
        serve(
            tmp_path,
            [
                ("/static/app.js", {"If-None-Match": etag}),
                ("/static/app.js", {"Range": "bytes=0-5"}),
                ("/static/missing.js", {}),
                ("/static/..%2Fsecret.txt", {}),
            ],
        )
    )
    assert answers[0][0] == 304 and answers[0][2] == b""
    assert answers[1][0] == 206 and answers[1][2] == b"export"
    assert answers[2][0] == 404
    assert answers[3][0] in (403, 404) and b"not served" not in answers[3][2]


def test_a_file_changed_on_disk_is_read_again(tmp_path):
    script = tmp_path / "app.js"
    script.write_text("old")
    before = asyncio.run(serve(tmp_path, [("/static/app.js", {})]))[0][2]
    script.write_text("new content")
    os.utime(script, ns=(script.stat().st_atime_ns, script.stat().st_mtime_ns + 1_000_000))
    after = asyncio.run(serve(tmp_path, [("/static/app.js", {})]))[0][2]
    assert (before, after) == (b"old", b"new content")
