"""The exceptions users see. Each message says what is wrong, where, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """A ' did you mean ...?' hint with the closest candidates, or '' when none is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


class AqtraError(Exception):
    """Base of every error aqtra-nb raises for a user's mistake or a failed run.

    ``location`` names where the problem is: a file, a line in it, a step id, a field. It is prefixed to
    the message; code that knows a line passes ``line=`` rather than writing it into the message.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        step: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.step = step
        self.field = field
        self.line = line  # 1-based line in the file, when known (editors point at it)
        super().__init__(self._render())

    @property
    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.line:
            parts.append(f"line {self.line}")
        if self.step:
            parts.append(f"step {self.step!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def _render(self) -> str:
        loc = self.location
        return f"{loc}: {self.message}" if loc else self.message

    def at(
        self,
        *,
        file: str | None = None,
        step: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> AqtraError:
        """Fill in location parts that are not set yet (inner code knows less than outer code)."""
        self.file = self.file or file
        self.line = self.line or line
        self.step = self.step or step
        self.field = self.field or field
        self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the message, and the cause unless it says it already
        (`aqtra_nb.notebook.error_display` adds the traceback, folded, in notebooks)."""
        lines = [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]
        cause = self.__cause__ or (None if self.__suppress_context__ else self.__context__)
        if cause is not None and str(cause) not in str(self):
            lines.append(f"Caused by {type(cause).__name__}: {cause}")
        return lines

    def __reduce__(self) -> tuple:
        # Errors cross process boundaries (dask.distributed workers); keep every attribute.
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(cls: type[AqtraError], state: dict) -> AqtraError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (error._render(),)
    return error


class NotFound(AqtraError):
    """What a request names (a run, a job, a task, a record) does not exist."""


class FlowValidationError(AqtraError):
    """The flow document or its parameters are not valid."""


class ExpressionError(AqtraError):
    """An expression could not be parsed or is not allowed.

    ``position`` is the 1-based column of the offending part within ``source``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        position: int | None = None,
        file: str | None = None,
        step: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.position = position
        super().__init__(message, file=file, step=step, field=field, line=line)

    def _render(self) -> str:
        text = self.message
        if self.position is not None:
            text = f"{text} (at column {self.position} of {self.source!r})"
        loc = self.location
        return f"{loc}: {text}" if loc else text


class UnknownColumn(FlowValidationError):
    """A step refers to a column its input does not have."""


class UnknownComponent(FlowValidationError):
    """A step names a component that is not registered."""


class StepFailed(AqtraError):
    """A step raised while running; the original error is chained as ``__cause__``."""

    def __init__(
        self,
        message: str,
        *,
        step: str,
        component: str,
        file: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.component = component
        super().__init__(message, file=file, step=step, field=field, line=line)


class ParameterError(FlowValidationError):
    """A flow parameter value is missing, unknown or of the wrong type."""
