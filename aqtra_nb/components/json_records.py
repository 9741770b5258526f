"""JSON records as a flat frame: what `http_get` makes of each page and `import_file` of a JSON file."""

from __future__ import annotations

from typing import Any

import pandas as pd


def records_to_frame(records: list[Any]) -> pd.DataFrame:
    """Records (objects, or plain values as a `value` column) as a flat frame (`a.b` for nested keys)."""
    rows = [r if isinstance(r, dict) else {"value": r} for r in records]
    frame = pd.json_normalize(rows) if rows else pd.DataFrame()
    frame.columns = [str(c) for c in frame.columns]
    return frame
