"""Pages of an `http_get`: the paging kinds (link, page number, cursor), fetching a page, and walking them
with loops and links that leave the server refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urljoin, urlsplit

from pydantic import Field

from ..base import Params
from .endpoint import Endpoint, display_url, excerpt
from .records import lookup, records_of

if TYPE_CHECKING:
    from .get import HttpGetParams

logger = logging.getLogger(__name__)


class LinkPaging(Params):
    kind: Literal["link"] = Field(description="Follow the next page's URL.")
    next: str | None = Field(
        None, description="Path of the next URL in the body (`links.next`); default: the Link header."
    )


class PagePaging(Params):
    kind: Literal["page"] = Field(description="Count pages up until an empty page.")
    param: str = Field("page", description="The page number's query parameter.")
    start: int = Field(1, description="The first page's number.")
    size_param: str | None = Field(None, description="The page size's query parameter, if any.")
    size: int | None = Field(None, ge=1, description="Page size to ask for; a shorter page is the last.")


class CursorPaging(Params):
    kind: Literal["cursor"] = Field(description="Send the cursor each page gives for the next one.")
    cursor: str = Field(description="Path of the next cursor in the body (`meta.next_cursor`).")
    param: str = Field("cursor", description="The query parameter that carries the cursor.")


Paging = LinkPaging | PagePaging | CursorPaging


@dataclass
class Page:
    url: str  # as requested (with its query), for relative next links
    body: Any
    next_link: str | None  # from the Link header


def fetch_page(endpoint: Endpoint, url: str, params: dict[str, Any] | None) -> Page:
    response = endpoint.request("GET", url, params=params)
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise endpoint.error(
            f"GET {display_url(response.url)} did not answer JSON ({kind}): {excerpt(response)}"
        ) from None
    link = response.links.get("next", {}).get("url")
    return Page(response.url, body, link)


def first_request(endpoint: Endpoint, p: HttpGetParams) -> tuple[str, dict[str, Any]]:
    """The first page's URL and query parameters."""
    start = endpoint.resolve()
    query = dict(start.query)
    if isinstance(p.paginate, PagePaging):
        query[p.paginate.param] = p.paginate.start
        if p.paginate.size_param and p.paginate.size:
            query[p.paginate.size_param] = p.paginate.size
    return start.url, query


def pages(endpoint: Endpoint, p: HttpGetParams, first: Page | None = None) -> Iterator[list[Any]]:
    """The records of each page, following `p.paginate`, at most `p.max_pages` pages."""
    url, query = first_request(endpoint, p)
    base_query, paging = dict(endpoint.resolve().query), p.paginate
    origin = urlsplit(url)[:2]
    seen: set[str] = set()  # next links and cursors already followed: a server repeating one loops
    for number in range(p.max_pages):
        page = first if (number == 0 and first is not None) else fetch_page(endpoint, url, query)
        try:
            records = records_of(page.body, p.records)
        except ValueError as exc:
            raise endpoint.error(
                f"page {number + 1} of {display_url(page.url)}: {exc}", field="records"
            ) from None
        if records or number == 0:
            yield records
        if paging is None or not records:
            return
        if isinstance(paging, PagePaging):
            if paging.size and len(records) < paging.size:
                return
            query[paging.param] = paging.start + number + 1
        elif isinstance(paging, CursorPaging):
            found, cursor = lookup(page.body, paging.cursor)
            if not found or cursor in (None, ""):
                return
            check_new(endpoint, seen, f"cursor {cursor!r}")
            query[paging.param] = cursor
        else:
            if paging.next:
                found, link = lookup(page.body, paging.next)
                link = link if found else None
            else:
                link = page.next_link
            if not link:
                return
            url = urljoin(page.url, str(link))
            # The step's own query parameters go along unless the link sets them itself.
            given = {k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
            query = {k: v for k, v in base_query.items() if k not in given}
            check_new(endpoint, seen, f"link {display_url(url)}")
            if urlsplit(url)[:2] != origin:
                raise endpoint.error(
                    f"the next page's link {display_url(url)} leaves {origin[0]}://{origin[1]}; it is not "
                    "followed (the connection's credentials are for that server only)",
                    field="paginate",
                )
    logger.warning(
        "step %r: stopped after max_pages=%d pages; there may be more", endpoint.step_id, p.max_pages
    )


def check_new(endpoint: Endpoint, seen: set[str], what: str) -> None:
    if what in seen:
        raise endpoint.error(f"the server sent the next-page {what} twice; stopping", field="paginate")
    seen.add(what)
