"""What `import aqtra_nb` sets up inside IPython (a notebook, Voilà, papermill), as `%load_ext aqtra_nb`
does: the `%%flow` cell magic, the short display of AqtraErrors and the displays of jobs, runs,
workflows and tasks. Cheap: what they need (pandas, Dask, SQLAlchemy) is imported when first used."""

from __future__ import annotations

import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)


def running_shell() -> Any:
    """The IPython shell this process runs in, or None (never imports IPython itself)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if get_ipython is not None else None


def install(shell: Any) -> None:
    from . import displays
    from .error_display import install as show_errors_briefly

    show_errors_briefly(shell)
    register_magic(shell)
    displays.register(shell)


def register_magic(shell: Any) -> None:
    def flow(line: str, cell: str) -> None:
        from .magic import run_magic_cell

        run_magic_cell(shell, line, cell)

    from .magic import USAGE

    flow.__doc__ = USAGE
    shell.register_magic_function(flow, magic_kind="cell", magic_name="flow")


def install_if_running() -> None:
    """Called on `import aqtra_nb`: a failure here must not break the import, only be logged."""
    try:
        shell = running_shell()
        if shell is not None:
            install(shell)
    except Exception:  # pragma: no cover - a shell we do not know
        logger.warning("could not set up aqtra_nb in this IPython shell", exc_info=True)
