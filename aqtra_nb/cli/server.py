"""`aqtra-nb server`: JupyterLab (or Jupyter Server) with the aqtra-nb extension."""

from __future__ import annotations

import os
import sys
from typing import Any

from .common import EXIT_OK


def register(sub: Any) -> None:
    """`server` in the help; `main` hands the command to `server()` before parsing (its options are Jupyter's)."""
    server = sub.add_parser(
        "server",
        help="Start JupyterLab with the aqtra-nb API (`--no-lab`: Jupyter Server only); other options go "
        "to Jupyter, e.g. --port 8888 --AqtraNb.run_scheduler=True.",
    )
    server.add_argument("--no-lab", action="store_true", help="Jupyter Server without the JupyterLab UI")


def server(options: list[str]) -> int:
    """Replace this process with `jupyter lab` (or `jupyter server` with `--no-lab`): the extension is
    enabled by the package's `jupyter_server_config.d` file, so this is plain Jupyter with its options."""
    module = "jupyter_server" if "--no-lab" in options else "jupyterlab"
    rest = [option for option in options if option != "--no-lab"]
    os.execvp(sys.executable, [sys.executable, "-m", module, *rest])
    return EXIT_OK  # pragma: no cover - exec does not return
