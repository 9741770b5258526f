"""The Jupyter Server extension: the REST API under `/aqtra/api/`, live run events, Prometheus metrics.

Enabled on `pip install` (a `jupyter_server_config.d` file); `jupyter lab` or `aqtra-nb server` start it.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import AqtraNbExtension

    return [{"module": "aqtra_nb.server", "app": AqtraNbExtension}]
