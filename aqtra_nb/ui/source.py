"""The data side shared by the widgets that show a frame (DataGrid, Metric, Chart).

Each is given a frame, or a callable that returns one (e.g. an entity's `frame`), which it calls now and
again on `refresh()`; `step`/`flow` name the flow step whose output an `App` puts into `data` after a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import traitlets as t


class FrameTrait(t.Instance):
    """A frame trait that notifies whenever another frame object is set. traitlets compares old and new
    values with ==, which for frames compares every cell (or fails after aligning them): on each app
    update, milliseconds per bound component for nothing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pd.DataFrame, allow_none=True, **kwargs)

    def set(self, obj: t.HasTraits, value: Any) -> None:
        new = self._validate(obj, value)
        old = obj._trait_values.get(self.name, self.default_value)  # type: ignore[arg-type]
        obj._trait_values[self.name] = new  # type: ignore[index]
        if new is not old:
            obj._notify_trait(self.name, old, new)  # type: ignore[arg-type]


class FrameSource(t.HasTraits):
    """Mixin (list it before the widget class): the `data` trait, `step`/`flow` and `refresh()`."""

    data = FrameTrait()

    def _bind_source(
        self, data: pd.DataFrame | Callable[[], pd.DataFrame] | None, step: str | None, flow: str | None
    ) -> None:
        """Remember the step, flow and loader; call before the widget's `__init__`."""
        self.step, self.flow = step, flow
        self.loader: Callable[[], pd.DataFrame] | None = data if callable(data) else None

    def _load_source(self, data: Any) -> None:
        """Fill `data` (from the loader, else the frame given); call once the widget is set up."""
        if self.loader is not None:
            self.refresh()
        elif data is not None:
            self.data = data

    def refresh(self) -> None:
        """Reload the data from the callable it was given (e.g. an entity's `frame`)."""
        if self.loader is not None:
            self.data = self.loader()
