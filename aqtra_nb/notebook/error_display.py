"""AqtraErrors in IPython: the one-paragraph message, with the traceback one click away.

`install(shell)` (run on `import aqtra_nb` inside IPython) registers `show_error` as IPython's handler of
`AqtraError`. In a notebook the cell gets an error output holding only the message (what papermill,
nbclient and "Run All" go by) and, below it, a collapsed `<details>` with the traceback. In Voilà, which
replaces error outputs with "There was an error...", the page gets the message itself as HTML.
"""

from __future__ import annotations

import html
import os
import traceback
from typing import Any

from ..errors import AqtraError

ERROR_CLASS = "aqtra-error-message"
#: set by Voilà in its kernels (`VOILA_KERNEL_ID`, `VOILA_BASE_URL`) and by our published server
VOILA_VARIABLES = ("VOILA_KERNEL_ID", "VOILA_BASE_URL", "AQTRA_PUBLISHED")


def in_voila() -> bool:
    return any(os.environ.get(name) for name in VOILA_VARIABLES)


def cause_of(error: BaseException) -> BaseException | None:
    """The exception that led to `error` (`raise ... from exc`, or raised while handling it)."""
    if error.__cause__ is not None:
        return error.__cause__
    return None if error.__suppress_context__ else error.__context__


def summary(error: BaseException) -> str:
    cause = cause_of(error)
    return _shorten(f"Caused by {type(cause).__name__}: {cause}" if cause is not None else "Traceback")


def details_html(error: BaseException, tb: Any = None) -> str:
    """The traceback (from `tb`, with its chained causes), folded under one line that names the cause."""
    text = "".join(traceback.format_exception(type(error), error, tb or error.__traceback__))
    return (
        f'<details class="{ERROR_CLASS}-details"><summary style="cursor:pointer">'
        f"{html.escape(summary(error))}</summary>"
        f'<pre style="font-size:0.85em;white-space:pre-wrap">{html.escape(text)}</pre></details>'
    )


def message_html(error: BaseException, tb: Any = None) -> str:
    """The message as a page shows it (Voilà), with the traceback folded below."""
    return (
        f'<div class="{ERROR_CLASS}" role="alert" style="border:1px solid var(--jp-error-color1,#d9534f);'
        "border-radius:4px;padding:0.5em 1em;margin:0.5em 0;"
        'background:var(--jp-rendermime-error-background,#fdf2f2);color:var(--jp-ui-font-color0,#3b0d0b)">'
        f"<strong>{html.escape(type(error).__name__)}</strong>: {html.escape(str(error))}"
        f"{details_html(error, tb)}</div>"
    )


def show_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython's custom exception handler for AqtraError (see `InteractiveShell.set_custom_exc`)."""
    from IPython.display import display

    user_tb = tb.tb_next if tb is not None and tb.tb_next is not None else tb  # without IPython's frame
    if in_voila():
        text = f"{type(value).__name__}: {value}"
        display({"text/html": message_html(value, user_tb), "text/plain": text}, raw=True)
        return
    # showtraceback uses AqtraError._render_traceback_ (the message) and keeps sys.last_* for %debug
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    if getattr(shell, "kernel", None) is not None:  # a notebook: terminals show the message only
        display({"text/html": details_html(value, user_tb), "text/plain": summary(value)}, raw=True)


def install(shell: Any) -> bool:
    """Show AqtraErrors briefly in this shell, unless another library handles exceptions there already."""
    if shell.custom_exceptions and AqtraError not in shell.custom_exceptions:
        return False
    shell.set_custom_exc((AqtraError,), show_error)
    return True


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
