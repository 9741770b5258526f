"""Kernel-side helpers of a published page: show an app spec, show errors as messages.

Voilà hides tracebacks (`show_tracebacks=False`) but then says only "there was an error". A page must
say what is wrong instead, so the generated notebook of an app spec catches `AqtraError` (a bad spec,
a bad URL parameter, a failing flow) and shows its message.
"""

from __future__ import annotations

import html
import logging
import threading
from contextlib import contextmanager
from typing import Any

from ..errors import AqtraError
from ..ui import dom

logger = logging.getLogger(__name__)

ERROR_CLASS = "aqtra-page-error"


def error_html(message: str, title: str = "This app cannot be shown") -> str:
    return (
        f'<div class="{ERROR_CLASS}" role="alert" style="border:1px solid #d9534f;border-radius:4px;'
        f'padding:0.75em 1em;margin:0.5em 0;background:#fdf2f2;color:#8a1f1b">'
        f"<strong>{html.escape(title)}</strong><br><span>{html.escape(message)}</span></div>"
    )


def show_error(exc: BaseException | str, title: str = "This app cannot be shown") -> None:
    """Display an error's message (never its traceback) in the page."""
    from IPython.display import HTML, display

    display(HTML(error_html(str(exc), title)))


@contextmanager
def app_errors(title: str = "This app cannot be shown"):
    """`with app_errors(): ...` in an app notebook: an `AqtraError` becomes a message in the page."""
    try:
        yield
    except AqtraError as exc:
        show_error(exc, title)


def show_app(spec_path: str) -> Any:
    """Render an `*.app.yaml` with the URL's parameters; errors are shown as messages. Returns the app.

    In a pre-heated kernel (`aqtra-nb publish --pool`), the app is built, shown and run with its
    defaults before anyone visits; a thread then waits for the visitor's request and applies its URL
    parameters (a new run), or replaces the app with the message when they are wrong. The cell itself
    never waits, so an idle pool does not run into the cell timeout.
    """
    from .query import awaiting_request

    with app_errors():
        from ..ui import App

        app = App.from_yaml(spec_path)
        from IPython.display import display

        if not awaiting_request():
            _apply_query(app)
            display(app)
            return app

        from ..ui.resync import Resync

        page = dom.VBox()
        page.children = (app.view, Resync(page))  # a page that missed the URL's outcome asks again
        display(page)
        if app.run_on_start:
            app.start()
        threading.Thread(target=_on_visitor, args=(app, page), daemon=True, name="aqtra-visitor").start()
        return app
    return None


def _on_visitor(app: Any, page: Any) -> None:
    """Wait for the visitor's request, then re-run with its URL parameters (or show what is wrong)."""
    from .query import wait_for_visitor

    try:
        wait_for_visitor()
        changed = _apply_query(app)
        for name in changed:
            app.run(name)
    except AqtraError as exc:
        page.children = (dom.HTML(error_html(str(exc))),)
    except Exception:  # a failed channel: the visitor keeps the app with its defaults
        logger.warning("could not read the visitor's request", exc_info=True)


def _apply_query(app: Any) -> list[str]:
    """URL parameters become the app's initial form values, each checked against the flow that declares
    it. Only what the app's forms let a visitor change can be set from the URL: other parameters (a data
    folder, a connection) stay as the app's author set them. Returns the flows whose values changed."""
    from .query import current_query, query_parameters

    if not current_query():
        return []
    editable: dict[str, dict[str, Any]] = {}
    for name, runner in app.runners.items():
        form = app.forms.get(name)
        fields = set(form.inputs) if form is not None else set()
        specs = runner.flow.spec.parameters
        editable[name] = {param: spec for param, spec in specs.items() if param in fields}
    declared = {param: spec for specs in reversed(editable.values()) for param, spec in specs.items()}
    values = query_parameters(declared)
    changed = []
    for name, specs in editable.items():
        mine = {param: value for param, value in values.items() if param in specs}
        if mine:
            app.set_parameters(mine, flow=name)
            changed.append(name)
    return changed
