"""`aqtra-nb cache list|clear`: the step cache's entries."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from typing import Any

from ..errors import AqtraError
from .common import EXIT_OK


def register(sub: Any) -> None:
    cache = sub.add_parser("cache", help="The step cache: `cache list`, `cache clear`.")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_list = cache_sub.add_parser("list", help="Cached step outputs, most recently used first.")
    cache_list.add_argument("--flow", help="only entries of this flow")
    cache_list.add_argument("--json", action="store_true")
    cache_list.set_defaults(handler=_cache_list)
    cache_clear = cache_sub.add_parser("clear", help="Remove cached step outputs (all, or those selected).")
    cache_clear.add_argument("--flow", help="only entries of this flow")
    cache_clear.add_argument(
        "--older-than", metavar="AGE", help="only entries last used longer ago than AGE: 30m, 12h, 7d"
    )
    cache_clear.set_defaults(handler=_cache_clear)


def _step_cache():
    from ..resources import current

    found = current().step_cache()
    if found is None:
        raise AqtraError("the step cache is turned off (cache_bytes = 0, $AQTRA_CACHE_BYTES)")
    return found


def _cache_list(args: argparse.Namespace) -> int:
    cache = _step_cache()
    entries = [e for e in cache.entries() if args.flow is None or e.flow == args.flow]
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return EXIT_OK
    for e in entries:
        used = dt.datetime.fromtimestamp(e.used).isoformat(" ", "seconds")
        print(
            f"{e.key[:12]}  {e.flow:<20} {e.step:<20} {e.rows:>12,} rows {e.bytes / 2**20:9.2f} MiB  {used}"
        )
    total = sum(e.bytes for e in entries)
    print(
        f"{len(entries)} entries, {total / 2**20:.2f} MiB of {cache.max_bytes / 2**20:.0f} MiB ({cache.folder})"
    )
    return EXIT_OK


def _cache_clear(args: argparse.Namespace) -> int:
    older = None if args.older_than is None else _age(args.older_than)
    removed = _step_cache().clear(older_than=older, flow=args.flow)
    print(f"removed {len(removed)} entries ({sum(e.bytes for e in removed) / 2**20:.2f} MiB)")
    return EXIT_OK


def _age(text: str) -> dt.timedelta:
    """`30s`, `30m`, `12h`, `7d`, `2w` as a timedelta; anything else is a user mistake."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not found:
        raise AqtraError(
            f"--older-than {text!r}: give a number and a unit, e.g. 30m, 12h or 7d", field="older-than"
        )
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[found.group(2)]
    return dt.timedelta(**{unit: float(found.group(1))})
