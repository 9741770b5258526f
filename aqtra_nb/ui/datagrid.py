"""`DataGrid`: a table with server-side paging, sorting, filters and row selection.

Only the visible page crosses to the browser: the Python side keeps the frame, filters and sorts row
positions (`table.TableQuery`) and sends the page's cells as text. The view is `static/datagrid.js`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import pandas as pd
import traitlets as t

from ..errors import AqtraError
from ..expr.parse import MAX_LENGTH
from . import dom
from .cells import column_kind, page_cells
from .page_state import PageWritable
from .source import FrameSource
from .table import TableQuery

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class DataGrid(FrameSource, PageWritable, dom.PartsWhenAsked, anywidget.AnyWidget):
    """A frame (or a flow step's output, when bound by an `App`) as a paged, sortable, filterable table.

    `filters` are fixed conditions in the expression language; their `@name` values come from `params`
    (in an `App`: the parameters of the run shown, so they follow the form). `filter` is the condition a
    user types in the grid (only when `show_filter`: a page cannot send one to a grid without the box).
    `selection` holds the selected rows' positions in `data`.
    """

    _esm = STATIC / "datagrid.js"
    _css = STATIC / "datagrid.css"

    # state shared with the view
    title = t.Unicode("").tag(sync=True)
    columns = t.List(t.Dict()).tag(sync=True)
    rows = t.List(t.List()).tag(sync=True)
    row_ids = t.List(t.Int()).tag(sync=True)
    total_rows = t.Int(0).tag(sync=True)
    source_rows = t.Int(0).tag(sync=True)
    page = t.Int(0).tag(sync=True)
    page_size = t.Int(20).tag(sync=True)
    sort_by = t.Unicode("").tag(sync=True)
    sort_descending = t.Bool(False).tag(sync=True)
    filter = t.Unicode("").tag(sync=True)
    filter_error = t.Unicode("").tag(sync=True)
    selection = t.List(t.Int()).tag(sync=True)
    selection_mode = t.Enum(["none", "single", "multiple"], "single").tag(sync=True)
    show_filter = t.Bool(True).tag(sync=True)
    revision = t.Int(0).tag(sync=True)

    # Python-only state (and `data`, from FrameSource)
    filters = t.List(t.Unicode())
    params = t.Dict()
    formats = t.Dict()

    #: what the view sets (`static/datagrid.js`); every other trait is the kernel's alone
    page_writable: ClassVar[frozenset[str]] = frozenset(
        {"page", "sort_by", "sort_descending", "filter", "selection"}
    )

    def __init__(
        self,
        data: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        *,
        step: str | None = None,
        flow: str | None = None,
        filters: Sequence[str] = (),
        columns: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._bind_source(data, step, flow)
        self.visible_columns = list(columns) if columns else None
        self._query: TableQuery | None = None
        self._lock = threading.RLock()
        self._quiet = False
        super().__init__(filters=list(filters), **dom.with_classes(kwargs, "aqtra-datagrid"))
        self._load_source(data)

    # -- Python API ----------------------------------------------------------------------------------------
    @property
    def page_frame(self) -> pd.DataFrame:
        """The rows on the current page, as a frame (what the view shows, unformatted)."""
        if self._query is None:
            return pd.DataFrame()
        start = self.page * self.page_size
        return self._query.page(start, start + self.page_size)[0]

    @property
    def selected(self) -> pd.DataFrame:
        """The selected rows of `data`."""
        if self.data is None:
            return pd.DataFrame()
        return self.data.take([i for i in self.selection if 0 <= i < len(self.data)])

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total_rows / max(self.page_size, 1)))

    def show(self, data: pd.DataFrame | None, params: dict[str, Any] | None = None) -> None:
        """New data and new `@param` values for the filters, filtered once (an app calls this after a run)."""
        with self._lock:
            if params is not None:
                self._quiet = True
                try:
                    self.params = params
                finally:
                    self._quiet = False
            if data is self.data:
                self._apply_filters(keep_page=True)
            else:
                self.data = data

    def refuse_from_page(self, name: str, value: Any) -> str | None:
        if name == "filter":
            if not self.show_filter:
                return "this grid offers no filter"
            if not isinstance(value, str) or len(value) > MAX_LENGTH:
                return f"a filter is text of at most {MAX_LENGTH} characters"
        elif name == "page" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            return "a page is a number from 0"
        elif name == "sort_by" and value != "" and value not in {c["name"] for c in self.columns}:
            return "not a column of the grid"
        elif name == "sort_descending" and not isinstance(value, bool):
            return "true or false"
        elif name == "selection":
            return self._refuse_selection(value)
        return None

    def _refuse_selection(self, value: Any) -> str | None:
        if not isinstance(value, list) or not all(type(i) is int for i in value):
            return "a selection is a list of row positions"
        if self.selection_mode == "none" and value:
            return "this grid offers no selection"
        if self.selection_mode == "single" and len(value) > 1:
            return "this grid selects one row"
        if len(set(value)) != len(value) or any(not 0 <= i < self.source_rows for i in value):
            return "row positions must be distinct rows of the grid"
        return None

    # -- reactions -----------------------------------------------------------------------------------------
    @t.observe("data")
    def _on_data(self, change: dict[str, Any]) -> None:
        with self._lock:
            frame = change["new"]
            if frame is None:
                self._query = None
                self.set_trait("columns", [])
                self._show_page()
                return
            if self.visible_columns:
                missing = [c for c in self.visible_columns if c not in frame.columns]
                if missing:
                    raise AqtraError(f"the grid's columns {missing} are not in the data", field="columns")
                frame = frame[self.visible_columns]
            self._query = TableQuery(frame)
            self.source_rows = len(frame)
            self.set_trait(
                "columns", [{"name": str(c), "kind": column_kind(frame[c].dtype)} for c in frame.columns]
            )
            if self.sort_by and self.sort_by not in frame.columns:
                self.set_trait("sort_by", "")
            self.selection = []
            self._apply_filters(keep_page=True)

    @t.observe("filter", "filters", "params")
    def _on_filter(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        with self._lock:
            self._apply_filters(keep_page=False)

    @t.observe("sort_by", "sort_descending")
    def _on_sort(self, change: dict[str, Any]) -> None:
        with self._lock:
            self._apply_sort()
            self._show_page()

    @t.observe("page", "page_size")
    def _on_page(self, change: dict[str, Any]) -> None:
        with self._lock:
            self._show_page()

    def _apply_filters(self, keep_page: bool) -> None:
        if self._query is None:
            return
        try:
            self._query.set_filters([*self.filters, self.filter], self.params)
            self.filter_error = ""
        except AqtraError as exc:
            self.filter_error = exc.message
            logger.info("grid filter rejected: %s", exc)
        self._apply_sort()
        self.total_rows = self._query.total
        if not keep_page:
            self.set_trait("page", 0)
        self._show_page()

    def _apply_sort(self) -> None:
        if self._query is not None:
            self._query.set_sort(self.sort_by or None, self.sort_descending)

    def _show_page(self) -> None:
        if self._query is None:
            self.rows, self.row_ids, self.total_rows, self.source_rows = [], [], 0, 0
            self.revision += 1
            return
        page = min(max(self.page, 0), self.pages - 1)
        if page != self.page:
            self.set_trait("page", page)
        start = page * self.page_size
        frame, positions = self._query.page(start, start + self.page_size)
        kinds = [c["kind"] for c in self.columns]
        with self.hold_sync():
            self.rows = page_cells(frame, kinds, self.formats)
            self.row_ids = [int(p) for p in positions]
            self.revision += 1
