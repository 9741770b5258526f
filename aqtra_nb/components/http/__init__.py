"""HTTP connectors: `http_get` reads JSON records from an API (pages, retries) and `http_post` sends rows.

Both reach the server through a named `http` connection (base URL, headers, auth: credentials only as
`${secret:NAME}` / `${env:NAME}` references) or a plain `url`. References are resolved in the process
that sends the requests, so Dask task graphs carry names, never credentials. Every message, log line
and response excerpt is scrubbed of the secret values resolved in this process (`secrets.redact`).

The client is `requests` (synchronous, which is what a Dask task wants; retries are our own, with
exponential backoff that honours `Retry-After`).

Modules: `endpoint` (where to send, requests with retries), `records` (JSON bodies as typed frames),
`paging` (following pages), `get` (`http_get`), `post` (`http_post`).
"""

from .get import HttpGet
from .post import HttpPost

HTTP = [HttpGet, HttpPost]

__all__ = ["HTTP", "HttpGet", "HttpPost"]
