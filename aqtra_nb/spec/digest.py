"""The content hash of a flow document: what the store files flow versions by and what a run's lineage
names its flow's version with (one function, so the two always agree)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(document: Any) -> str:
    """SHA-256 of the document as sorted JSON: the same content gives the same hash, whatever key order."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
