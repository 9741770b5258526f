"""`http_post`: the input's rows as JSON objects, in batches (each with an idempotency key), with retries."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from ...errors import AqtraError
from ..base import Frame, OutputComponent
from ..outputs import write_single
from .endpoint import Endpoint, HttpParams

# -- http_post ------------------------------------------------------------------------------------------


class HttpPostParams(HttpParams):
    batch_rows: int = Field(500, ge=1, description="Rows per request.")
    method: Literal["POST", "PUT", "PATCH"] = Field("POST", description="HTTP method.")
    envelope: str | None = Field(
        None, description="Send each batch as {envelope: [rows]} instead of a bare JSON array."
    )


def json_body(rows: pd.DataFrame, envelope: str | None = None) -> str:
    """Rows as a JSON array of objects (timestamps in ISO 8601 to the microsecond), or `{envelope: [...]}`."""
    body = rows.to_json(
        orient="records", date_format="iso", date_unit="us", force_ascii=False, default_handler=str
    )
    return "{" + json.dumps(envelope) + ":" + body + "}" if envelope else body


class _Send:
    """Sends all rows (gathered into one task), batch by batch; returns the rows sent."""

    def __init__(self, endpoint: Endpoint, params: HttpPostParams) -> None:
        self.endpoint, self.params = endpoint, params

    def __call__(self, frame: pd.DataFrame) -> int:
        p, endpoint = self.params, self.endpoint
        target = endpoint.resolve()
        run = uuid.uuid4().hex[:16]
        sent = 0
        for number, begin in enumerate(range(0, len(frame), p.batch_rows)):
            batch = frame.iloc[begin : begin + p.batch_rows]
            body = json_body(batch, p.envelope)
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"{run}-{number}"}
            try:
                endpoint.request(
                    p.method, target.url, params=target.query, data=body.encode(), headers=headers
                )
            except AqtraError as exc:
                raise endpoint.error(
                    f"{exc.message} (batch {number + 1}; {sent} of {len(frame)} rows were sent before it)",
                    field=exc.field,
                ) from None
            sent += len(batch)
        return sent


class HttpPost(OutputComponent[HttpPostParams]):
    """Send the input's rows as JSON objects to an HTTP API, in batches, with retries."""

    name = "http_post"

    @functools.cached_property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.ctx, self.params)

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        self.endpoint.resolve()  # unknown connection, missing secret: errors while planning
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        return write_single(frame, self.ctx.guard(_Send(self.endpoint, self.params)))
