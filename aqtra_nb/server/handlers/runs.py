"""Runs: start one, list and read them, follow one live (server-sent events), its log and output."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tornado import web
from tornado.iostream import StreamClosedError

from ...spec.status import RunStatus
from .. import flow_service, run_service
from ..api import AqtraHandler, operation
from ..models import CancelReply, RunInfo, RunLineage, RunPage, RunStarted, StartRun

STATUSES = {s.value for s in RunStatus}


class RunsHandler(AqtraHandler):
    @operation(
        "Runs newest first; filter by flow, job or status; paginated (offset, limit).",
        response=RunPage,
        query=("flow", "job", "status", "offset", "limit"),
    )
    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        if status is not None and status not in STATUSES:
            raise web.HTTPError(400, f"unknown status {status!r}; one of {', '.join(sorted(STATUSES))}")
        offset = self.query_int("offset", 0, high=10**9)
        limit = self.query_int("limit", 50, low=1, high=500)
        flow, job = self.get_query_argument("flow", None), self.get_query_argument("job", None)
        store = self.services.resources.store

        def page() -> dict:
            runs, total = store.run_page(name=flow, job=job, status=status, offset=offset, limit=limit)
            return {"runs": runs, "total": total, "offset": offset, "limit": limit}

        await self.cached(("runs", flow, job, status, offset, limit), page)

    @operation(
        "Start a flow run in the background (a run process, never the server's thread).",
        action="execute",
        body=StartRun,
        response=RunStarted,
        status=202,
    )
    async def post(self) -> None:
        request = self.body(StartRun)
        run_id = await self.blocking(self._start, request)
        self.reply({"run_id": run_id}, status=202)

    def _start(self, request: StartRun) -> str:
        if request.path is not None and request.flow is None:
            path = flow_service.resolve(self.services.root_dir, request.path)
            flow = path.read_text(encoding="utf-8") if path.is_file() else None
            if flow is None:
                raise web.HTTPError(404, f"no flow file {request.path!r}")
            spec, _ = flow_service.read_flow_input(flow, source=str(path))
        elif request.flow is not None and request.path is None:
            spec, _ = flow_service.read_flow_input(request.flow)
            spec = flow_service.locate(spec, self.services.root_dir)
        else:
            raise web.HTTPError(400, "give either `flow` (a document or YAML text) or `path` (a flow file)")
        return self.services.launcher.start(spec, request.parameters, user=self.user_name)


class RunHandler(AqtraHandler):
    @operation(
        "One run (by id or unique id prefix): status, times, per-step rows, seconds and errors.",
        response=RunInfo,
    )
    async def get(self, run_id: str) -> None:
        store = self.services.resources.store
        await self.cached(("run", run_id), lambda: store.run_record(run_id))


class LineageHandler(AqtraHandler):
    @operation(
        "What the run read and wrote: its flow version, parameters, inputs with fingerprints, component "
        "versions, script code and outputs (404 for runs recorded before lineage was kept).",
        response=RunLineage,
    )
    async def get(self, run_id: str) -> None:
        store = self.services.resources.store
        await self.cached(("lineage", run_id), lambda: run_service.run_lineage(store, run_id))


class CancelHandler(AqtraHandler):
    @operation("Cancel a queued run, or stop a running one.", action="execute", response=CancelReply)
    async def post(self, run_id: str) -> None:
        from ...jobs.claims import request_cancel

        store = self.services.resources.store
        run = await self.blocking(store.run, run_id)
        state = await self.blocking(request_cancel, store, run.id)
        self.reply({"run_id": run.id, "state": state})


class RerunHandler(AqtraHandler):
    @operation(
        "Start a run again with its parameters: a job's run queues the job again, a flow's run starts "
        "the flow version it ran.",
        action="execute",
        response=RunStarted,
        status=202,
    )
    async def post(self, run_id: str) -> None:
        self.reply({"run_id": await self.blocking(self._again, run_id)}, status=202)

    def _again(self, run_id: str) -> str:
        from sqlalchemy import select

        from ...jobs import api as jobs
        from ...spec.io import flow_from_document
        from ...store.job_models import Job

        store = self.services.resources.store
        run = store.run(run_id)
        parameters = dict(run.parameters or {})
        if run.job_id is not None:
            with store.session() as session:
                name = session.scalar(select(Job.name).where(Job.id == run.job_id))
            if name is None:
                raise web.HTTPError(409, f"run {run.id}'s job no longer exists")
            return jobs.run(name, parameters, store=store).id
        if run.flow is None:
            raise web.HTTPError(409, f"run {run.id} ({run.kind}) has no stored flow to start again")
        source = run.flow.source
        spec = flow_from_document(run.flow.document, source=source)
        folder = Path(source).parent if source else self.services.root_dir
        spec = spec.located(source, folder)
        return self.services.launcher.start(spec, parameters, user=self.user_name)


class LogHandler(AqtraHandler):
    @operation("The run's log (text).", content_type="text/plain")
    async def get(self, run_id: str) -> None:
        run = await self.blocking(self.services.resources.store.run, run_id)
        path = _artifact(run, "log") or self.services.resources.runs_dir() / run.id / "run.log"
        text = await self.blocking(_read_text, path)
        self.finish(text, set_content_type="text/plain; charset=utf-8")


class OutputHandler(AqtraHandler):
    @operation(
        "A notebook run's output notebook (`?format=html` for its HTML).",
        content_type="application/x-ipynb+json",
        query=("format",),
    )
    async def get(self, run_id: str) -> None:
        run = await self.blocking(self.services.resources.store.run, run_id)
        html = self.get_query_argument("format", "ipynb") == "html"
        path = _artifact(run, "html" if html else "notebook")
        if path is None or not path.is_file():
            what = "HTML output" if html else "output notebook"
            raise web.HTTPError(404, f"run {run.id} ({run.kind}) has no {what}")
        kind = "text/html; charset=utf-8" if html else "application/x-ipynb+json"
        self.finish(await self.blocking(path.read_bytes), set_content_type=kind)


class EventsHandler(AqtraHandler):
    """`text/event-stream` of a run's events: each engine event as it happens (`id:` its number, so a
    client that reconnects with `Last-Event-ID` continues), then `event: end` with the final status."""

    poll = 0.1
    keepalive = 15.0

    @operation(
        "Server-sent events of the run's event stream: live per-step progress, then `end`.",
        content_type="text/event-stream",
    )
    async def get(self, run_id: str) -> None:
        store = self.services.resources.store
        run = await self.blocking(store.run, run_id)
        path = self.services.resources.runs_dir() / run.id / "events.jsonl"
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        seen = int(self.request.headers.get("Last-Event-ID", "0") or 0)
        offset, number, last_check, last_write = 0, 0, 0.0, time.monotonic()
        try:
            while True:
                lines, offset = await self.blocking(_new_lines, path, offset)
                for line in lines:
                    number += 1
                    if number > seen:
                        kind = json.loads(line).get("kind", "message")
                        self.write(f"id: {number}\nevent: {kind}\ndata: {line}\n\n")
                if lines:
                    await self.flush()
                    last_write = time.monotonic()
                    continue
                now = time.monotonic()
                if now - last_check > 0.5:
                    last_check = now
                    run = await self.blocking(store.run, run.id)
                    if RunStatus(run.status).finished:
                        lines, offset = await self.blocking(_new_lines, path, offset)
                        if not lines:
                            end = {"run_id": run.id, "status": run.status, "error": run.error}
                            self.write(f"event: end\ndata: {json.dumps(end)}\n\n")
                            break
                        continue
                if now - last_write > self.keepalive:
                    self.write(": keepalive\n\n")
                    await self.flush()
                    last_write = now
                await asyncio.sleep(self.poll)
        except StreamClosedError:
            return
        self.finish(set_content_type="text/event-stream")


def _new_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended to `path` since `offset`, and the new offset."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return [line.decode("utf-8") for line in data[:end].splitlines() if line.strip()], offset + end


def _artifact(run, kind: str) -> Path | None:
    for artifact in run.artifacts:
        if artifact.kind == kind:
            return Path(artifact.uri)
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


ROUTES = [
    (r"runs", RunsHandler),
    (r"runs/(?P<run_id>[^/]+)", RunHandler),
    (r"runs/(?P<run_id>[^/]+)/events", EventsHandler),
    (r"runs/(?P<run_id>[^/]+)/lineage", LineageHandler),
    (r"runs/(?P<run_id>[^/]+)/log", LogHandler),
    (r"runs/(?P<run_id>[^/]+)/output", OutputHandler),
    (r"runs/(?P<run_id>[^/]+)/cancel", CancelHandler),
    (r"runs/(?P<run_id>[^/]+)/rerun", RerunHandler),
]
