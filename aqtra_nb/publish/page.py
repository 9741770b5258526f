"""Kernel-side helpers of a published page: show an app spec, show errors as messages.

Voilà hides tracebacks (`show_tracebacks=False`) but then says only "there was an error". A page must
say what is wrong instead, so the generated notebook of an app spec catches `AqtraError` (a bad spec,
a bad URL parameter, a failing flow) and shows its message.
"""

from __future__ import annotations

import html
from contextlib import contextmanager
from typing import Any

from ..errors import AqtraError

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
    """Render an `*.app.yaml` with the URL's parameters; errors are shown as messages. Returns the app."""
    with app_errors():
        from ..ui import App

        app = App.from_yaml(spec_path)
        _apply_query(app)
        from IPython.display import display

        display(app)
        return app
    return None


def _apply_query(app: Any) -> None:
    """URL parameters become the app's initial form values, each checked against the flow that declares
    it. Only what the app's forms let a visitor change can be set from the URL: other parameters (a data
    folder, a connection) stay as the app's author set them."""
    from .query import current_query, query_parameters

    if not current_query():
        return
    editable: dict[str, dict[str, Any]] = {}
    for name, runner in app.runners.items():
        form = app.forms.get(name)
        fields = set(form.inputs) if form is not None else set()
        specs = runner.flow.spec.parameters
        editable[name] = {param: spec for param, spec in specs.items() if param in fields}
    declared = {param: spec for specs in reversed(editable.values()) for param, spec in specs.items()}
    values = query_parameters(declared)
    for name, specs in editable.items():
        mine = {param: value for param, value in values.items() if param in specs}
        if mine:
            app.set_parameters(mine, flow=name)
