"""Validate and preview flow documents; read and save flow files under the server's root."""

from __future__ import annotations

from .. import flow_service
from ..api import AqtraHandler, operation
from ..models import (
    FlowFile,
    PreviewRequest,
    PreviewResponse,
    SavedFlow,
    SaveFlowRequest,
    ValidateRequest,
    ValidateResponse,
)


class ValidateHandler(AqtraHandler):
    @operation(
        "Plan a flow without reading data: each step's columns, or errors with step, field, line.",
        action="read",
        body=ValidateRequest,
        response=ValidateResponse,
    )
    async def post(self) -> None:
        request = self.body(ValidateRequest)
        base_dir, source = self.services.flow_location(request.path)
        # placed by flow file: a flow validated again unchanged takes ~0.3 ms (parsing and schemas are
        # memoized) and runs on the loop; edits (~3 ms: the changed steps planned again) move the
        # file's calls to the pool until they are quick again
        result = await self.quick(
            ("validate", request.path),
            flow_service.validate,
            request.flow,
            request.parameters,
            base_dir,
            source,
        )
        self.reply(result)


class PreviewHandler(AqtraHandler):
    @operation(
        "The first rows of one step, computing only what it needs.",
        action="read",
        body=PreviewRequest,
        response=PreviewResponse,
    )
    async def post(self) -> None:
        request = self.body(PreviewRequest)
        rows = min(request.rows, self.services.settings.max_preview_rows)
        base_dir, source = self.services.flow_location(request.path)
        result = await self.blocking(
            flow_service.preview, request.flow, request.parameters, request.step, rows, base_dir, source
        )
        self.reply(result)


class FlowFileHandler(AqtraHandler):
    @operation("A flow file under the server's root: its text, document and content hash.", response=FlowFile)
    async def get(self, path: str) -> None:
        self.reply(await self.blocking(flow_service.read_file, self.services.root_dir, path))

    @operation(
        "Save a flow file (YAML text verbatim, or a document); each save is a stored version.",
        body=SaveFlowRequest,
        response=SavedFlow,
    )
    async def put(self, path: str) -> None:
        request = self.body(SaveFlowRequest)
        saved = await self.blocking(
            flow_service.save_file,
            self.services.root_dir,
            path,
            request.flow,
            request.base_hash,
            self.services.resources.store,
        )
        self.reply(saved)


ROUTES = [
    (r"flows/validate", ValidateHandler),
    (r"flows/preview", PreviewHandler),
    (r"flows/(?P<path>.+)", FlowFileHandler),
]
