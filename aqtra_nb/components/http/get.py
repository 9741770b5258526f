"""`http_get`: JSON records from an API, every page in one task, as a frame of the planned kinds."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import dask.dataframe as dd
import pandas as pd
from pydantic import Field

from ...column_kinds import DeclaredKind, empty_frame_of_kinds
from ..base import InputComponent
from ..json_records import records_to_frame
from .endpoint import Endpoint, HttpParams
from .paging import Page, Paging, fetch_page, first_request, pages
from .records import conform, infer_kinds, records_of


class HttpGetParams(HttpParams):
    records: str | None = Field(
        None,
        description="Where the list of records is in the response: JSON pointer (`/data/items`) or dotted "
        "path (`data.items`); default: the body itself.",
    )
    paginate: Paging | None = Field(
        None,
        discriminator="kind",
        description="Pagination: {kind: link, next}, {kind: page, param, start, size_param, size} or "
        "{kind: cursor, cursor, param}.",
    )
    max_pages: int = Field(1000, ge=1, description="Stop after this many pages (a warning says so).")
    columns: dict[str, DeclaredKind] | None = Field(
        None,
        description="Declared columns and types (nested keys as `a.b`); default: inferred from the first "
        "page, fetched while planning.",
    )


class _Fetch:
    """Fetches every page and returns one frame conformed to the planned schema (one Dask task)."""

    def __init__(
        self,
        endpoint: Endpoint,
        params: HttpGetParams,
        kinds: Mapping[str, str],
        columns: list[str] | None,
        first: Page | None,
    ) -> None:
        self.endpoint, self.params, self.kinds = endpoint, params, kinds
        self.columns, self.first = columns, first

    def __call__(self, _partition: Any = None) -> pd.DataFrame:
        first, self.first = self.first, None  # the page fetched while planning is used once
        frames = []
        for records in pages(self.endpoint, self.params, first):
            frames.append(records_to_frame(records))
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        try:
            frame = conform(frame, self.kinds, declared=bool(self.params.columns))
        except ValueError as exc:
            raise self.endpoint.error(str(exc), field="columns") from None
        return frame[self.columns] if self.columns else frame


class HttpGet(InputComponent[HttpGetParams]):
    """Read JSON records from an HTTP API (pages, retries) into a frame."""

    name = "http_get"
    _first: Page | None = None  # the first page, fetched while planning (no `columns`), used by the run

    @functools.cached_property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.ctx, self.params)

    @functools.cached_property
    def kinds(self) -> Mapping[str, str]:
        p = self.params
        self.endpoint.resolve()  # unknown connection, missing secret: errors while planning
        if p.columns:
            return dict(p.columns)
        self._first = fetch_page(self.endpoint, *first_request(self.endpoint, p))
        try:
            records = records_of(self._first.body, p.records)
        except ValueError as exc:
            raise self.endpoint.error(str(exc), field="records") from None
        if not records:
            raise self.endpoint.error(
                "the first page has no records, so the columns are unknown: declare them in `columns`",
                field="columns",
            )
        return infer_kinds(records_to_frame(records))

    def read_schema(self) -> pd.DataFrame:
        return empty_frame_of_kinds(self.kinds)

    def _fetch(self, columns: list[str] | None) -> _Fetch:
        first, self._first = self._first, None
        return _Fetch(self.endpoint, self.params, self.kinds, columns, first)

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        meta = empty_frame_of_kinds(self.kinds)
        meta = meta[columns] if columns else meta
        fetch = self.ctx.guard(self._fetch(columns))
        return dd.from_map(fetch, [0], meta=meta, enforce_metadata=False, label="http-get")

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        return self.ctx.guard(self._fetch(columns))(0)
