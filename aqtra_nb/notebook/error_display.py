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


def details_html(error: BaseException) -> str:
    """The traceback (with its chained causes), folded under one line that names the cause."""
    cause = cause_of(error)
    summary = f"Caused by {type(cause).__name__}: {cause}" if cause is not None else "Traceback"
    text = "".join(traceback.format_exception(error))
    return (
        f'<details class="{ERROR_CLASS}-details"><summary style="cursor:pointer">'
        f"{html.escape(_shorten(summary))}</summary>"
        f'<pre style="font-size:0.85em;white-space:pre-wrap">{html.escape(text)}</pre></details>'
    )


def message_html(error: AqtraError) -> str:
    """The message as a page shows it (Voilà), with the traceback folded below."""
    return (
        f'<div class="{ERROR_CLASS}" role="alert" style="border:1px solid var(--jp-error-color1,#d9534f);'
        "border-radius:4px;padding:0.5em 1em;margin:0.5em 0;"
        'background:var(--jp-rendermime-error-background,#fdf2f2);color:var(--jp-ui-font-color0,#3b0d0b)">'
        f"<strong>{html.escape(type(error).__name__)}</strong>: {html.escape(str(error))}"
        f"{details_html(error)}</div>"
    )


def show_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython's custom exception handler for AqtraError (see `InteractiveShell.set_custom_exc`)."""
    from IPython.display import HTML, display

    if in_voila():
        display(HTML(message_html(value)))  # type: ignore[arg-type]
        return
    # showtraceback uses AqtraError._render_traceback_ (the message) and keeps sys.last_* for %debug
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    if getattr(shell, "kernel", None) is not None:  # a notebook: terminals show the message only
        display(HTML(details_html(value)))


def install(shell: Any) -> bool:
    """Show AqtraErrors briefly in this shell, unless another library handles exceptions there already."""
    if shell.custom_exceptions and AqtraError not in shell.custom_exceptions:
        return False
    shell.set_custom_exc((AqtraError,), show_error)
    return True


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
