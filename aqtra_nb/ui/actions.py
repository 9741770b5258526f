"""`Button` and its actions (the platform's "Form Action"): run a flow with a form's values, start a
workflow, save an entity record, refresh components."""

from __future__ import annotations

import html
import importlib
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import AqtraError
from . import dom
from .form import Form, error_html
from .runner import FlowRunner

if TYPE_CHECKING:
    from ..entities import Entity

logger = logging.getLogger(__name__)


class Action(Protocol):
    """Called when its button is pressed; returns a short message to show, raises AqtraError to fail.
    An action with `background = True` may take long: a click runs it in a thread (see `Button.click`)."""

    css_class: str

    def __call__(self) -> str | None: ...


def _form_values(form: Form | None) -> dict[str, Any]:
    """The form's checked values ({} without a form); an invalid form stops the action, its fields say why."""
    if form is None:
        return {}
    values = form.validate()
    if values is None:
        raise AqtraError("Some fields need attention; see the messages next to them.")
    return values


class RunFlow:
    """Re-run a flow in the background with the form's values as parameters (invalid form: no run)."""

    css_class = "aqtra-run"

    def __init__(self, target: Any, form: Form | None = None, parameters: Mapping[str, Any] | None = None):
        self.runner: FlowRunner = getattr(target, "runner", target)
        self.form = form
        self.parameters = dict(parameters or {})

    def __call__(self) -> str | None:
        values = _form_values(self.form)
        self.runner.submit({**self.parameters, **values})
        return None  # the run's status line reports the outcome


class SaveRecord:
    """Create an entity record from the form's values, then refresh the given components."""

    css_class = "aqtra-save"

    def __init__(
        self, entity: type[Entity], form: Form, refresh: Iterable[Any] = (), clear: bool = True
    ) -> None:
        self.entity, self.form, self.targets, self.clear = entity, form, refresh, clear

    def __call__(self) -> str | None:
        from ..entities import EntityValidationError

        values = _form_values(self.form)
        try:
            record = self.entity.create(**values)
        except EntityValidationError as exc:
            by_field = {e["field"]: e["message"] for e in exc.errors if e.get("field") in self.form.inputs}
            if not by_field and exc.field in self.form.inputs:
                by_field = {exc.field: exc.message}
            if by_field:
                self.form.show_errors(by_field)
            raise
        if self.clear:
            self.form.clear()
        Refresh(*self.targets)()
        return f"Saved {self.entity.entity_name} #{record.id}."


class Refresh:
    """Reload components (those made from a callable) and re-run the flows of runners or apps given."""

    css_class = "aqtra-refresh"

    def __init__(self, *targets: Any) -> None:
        self.targets = targets

    def __call__(self) -> str | None:
        for target in self.targets:
            runner = getattr(target, "runner", target)
            if isinstance(runner, FlowRunner):
                runner.submit()
            elif hasattr(target, "refresh"):
                target.refresh()
            else:
                raise AqtraError(f"cannot refresh a {type(target).__name__}")
        return None


class StartWorkflow:
    """Start a workflow (`*.workflow.yaml`) with the form's values as its parameters, on a record
    (`record`: an `Entity:ID` string, an id, a record, or a function giving one when pressed, e.g. the
    grid's selected row). The workflow engine, `aqtra_nb.workflows`, is imported only when pressed."""

    css_class = "aqtra-start-workflow"
    background = True  # a workflow runs its automatic steps (flows, HTTP calls) before it returns

    def __init__(
        self, workflow: Any, form: Form | None = None, *, record: Any = None, **options: Any
    ) -> None:
        self.workflow, self.form, self.record, self.options = workflow, form, record, options

    def __call__(self) -> str | None:
        values = _form_values(self.form)
        try:
            workflows = importlib.import_module("aqtra_nb.workflows")
        except ImportError:
            raise AqtraError(
                "workflows are not available in this installation (no aqtra_nb.workflows)"
            ) from None
        record = self.record() if callable(self.record) else self.record
        instance = workflows.start(self.workflow, values, record=record, **self.options)
        name = getattr(instance, "name", "workflow")
        status = getattr(instance, "status", "")
        return f"Workflow {name} started ({status})." if status else f"Workflow {name} started."


class Button(dom.HBox):
    """A button that performs an action; its outcome (or error message) shows beside it.

    DOM hooks: `.aqtra-button` and the action's class (`.aqtra-run`, `.aqtra-save`, `.aqtra-refresh`,
    `.aqtra-start-workflow`) on the `<button>`; the message `.aqtra-action-message` (`.aqtra-error` inside
    on failure, `.aqtra-pending` while a background action works).
    """

    def __init__(self, label: str, action: Action, *, style: str = "primary", **kwargs: Any) -> None:
        self.action = action
        self.button = dom.Button(
            description=label,
            button_style=style,
            _dom_classes=("aqtra-button", getattr(action, "css_class", "aqtra-action")),
        )
        self.button.on_click(lambda _: self.click())
        self.message = dom.HTML("", _dom_classes=("aqtra-action-message",))
        self._worker: threading.Thread | None = None
        super().__init__([self.button, self.message], **kwargs)

    def click(self) -> None:
        """What a click does: `press()`, or for an action marked `background` (starting a workflow) the
        same in a thread, so that the kernel goes on answering the page (other widgets, the grid's
        pages) meanwhile; the button is disabled and says it is working until the action is done."""
        if not getattr(self.action, "background", False):
            self.press()
            return
        if self.busy:
            return  # a second click while the first one works
        self.button.disabled = True
        self.message.value = '<span class="aqtra-pending">Working…</span>'

        def work() -> None:
            try:
                self.press()
            finally:
                self.button.disabled = False

        self._worker = threading.Thread(
            target=work, daemon=True, name=f"aqtra-button-{self.button.description}"
        )
        self._worker.start()

    @property
    def busy(self) -> bool:
        """Whether a background action started by a click is still working."""
        return self._worker is not None and self._worker.is_alive()

    def wait(self, timeout: float | None = 60) -> None:
        """Block until a background action started by a click is done (scripts and tests)."""
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                raise TimeoutError(f"the action of button {self.button.description!r} took over {timeout} s")

    def press(self) -> str | None:
        """Do the action now (the button's click does this); errors become the message."""
        try:
            text = self.action()
        except AqtraError as exc:
            self.message.value = error_html(str(exc))
            return None
        except Exception as exc:
            logger.exception("button action %r failed", self.button.description)
            self.message.value = error_html(f"{type(exc).__name__}: {exc}")
            return None
        self.message.value = f'<span class="aqtra-ok">{html.escape(text)}</span>' if text else ""
        return text
