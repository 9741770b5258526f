"""What a page may change of a widget's state: named traits, checked values, nothing else.

ipywidgets applies any synced trait a front end sends (`Widget.set_state`). In a published app the front
end is a visitor's browser, so a message can set a grid's filter although the grid shows no filter box,
or replace the rows or columns the kernel computed. Our widgets list the traits their view really sets
and check each value; the rest is refused, logged (name only) and the page's copy put back.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

logger = logging.getLogger(__name__)


class PageWritable:
    """Mixin for widgets (before the ipywidgets base in the bases): accept only `page_writable` traits
    whose values `refuse_from_page` does not object to."""

    page_writable: ClassVar[frozenset[str]] = frozenset()

    def refuse_from_page(self, name: str, value: Any) -> str | None:
        """Why the page may not set `name` to `value`, or None when it may."""
        return None

    def set_state(self, sync_data: dict[str, Any]) -> None:
        accepted: dict[str, Any] = {}
        refused: list[str] = []
        for name, value in sync_data.items():
            reason = (
                "not settable from the page"
                if name not in self.page_writable
                else self.refuse_from_page(name, value)
            )
            if reason is None:
                accepted[name] = value
            else:
                refused.append(name)
                logger.warning("%s: refused %r from the page: %s", type(self).__name__, name, reason)
        if accepted:
            super().set_state(accepted)  # type: ignore[misc]
        known = [name for name in refused if name in self.keys]  # type: ignore[attr-defined]
        if known and self.comm is not None:  # type: ignore[attr-defined]
            self.send_state(key=known)  # type: ignore[attr-defined]  # the page's copy back to ours
