"""The API's own description (OpenAPI) and its metrics (Prometheus)."""

from __future__ import annotations

import hmac

from jupyter_server.auth.decorator import allow_unauthenticated

from ..api import AqtraHandler, operation


class OpenApiHandler(AqtraHandler):
    @operation("This API as an OpenAPI 3.1 document.")
    def get(self) -> None:
        from ... import __version__
        from ..openapi import document

        self.reply(document(self.services.routes, __version__))


class MetricsHandler(AqtraHandler):
    """Prometheus text format. Jupyter's auth, or `Authorization: Bearer <AqtraNb.metrics_token>` when a
    scrape token is set (Prometheus then needs no Jupyter token)."""

    @allow_unauthenticated
    async def get(self) -> None:
        token = self.services.settings.metrics_token
        given = self.request.headers.get("Authorization", "")
        if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return await self._metrics()
        return await self._authenticated()

    @operation(
        "Prometheus metrics: runs by status and kind, durations, queue, scheduler, workers, API latency.",
        action="read",
        content_type="text/plain",
    )
    async def _authenticated(self) -> None:
        await self._metrics()

    async def _metrics(self) -> None:
        text, kind = await self.blocking(self.services.metrics.render)
        self.finish(text, set_content_type=kind)


MetricsHandler.get.aqtra_operation = MetricsHandler._authenticated.aqtra_operation  # type: ignore[attr-defined]

ROUTES = [
    (r"openapi\.json", OpenApiHandler),
    (r"metrics", MetricsHandler),
]
