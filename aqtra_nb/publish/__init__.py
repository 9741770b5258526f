"""Publishing apps: serve notebooks and app specs with Voilà, a gallery of apps, static snapshots.

Kernel-side helpers (`query_parameters`, `show_error`, `app_errors`) are what an app notebook uses; the
server side lives in `server.py` and runs only in the `aqtra-nb publish` / `aqtra-nb apps` process.
"""

from .page import app_errors, show_error
from .query import query_parameters

__all__ = ["app_errors", "query_parameters", "show_error"]
