"""`aqtra-nb records add|list|show ENTITY`: entity records from a shell (for examples, scripts, fixing a
record by hand). ENTITY is a registered name, `module:Class` (from the current folder or `sys.path`) or
`path/to/models.py:Class`. Values are `FIELD=VALUE` (converted as a form would: `3` for an integer field
is 3) or one JSON object (`--json '{"quantity": 3}'`); every value is validated before anything is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..errors import AqtraError
from .common import EXIT_OK

ENTITY_HELP = "a registered entity, module:Class or path/to/models.py:Class"


def register(sub: Any) -> None:
    records = sub.add_parser("records", help="Entity records: `records add|list|show ENTITY`.")
    rsub = records.add_subparsers(dest="records_command", required=True, metavar="ACTION")

    add = rsub.add_parser("add", help="Validate and store one record; prints its id.")
    add.add_argument("entity", help=ENTITY_HELP)
    add.add_argument("values", nargs="*", metavar="FIELD=VALUE", help="field values (repeatable)")
    add.add_argument("--json", dest="document", metavar="OBJECT", help="the values as one JSON object")
    add.add_argument("--print-json", action="store_true", help="print the stored record as JSON")
    add.set_defaults(handler=_add)

    listing = rsub.add_parser("list", help="Records, by id (optionally filtered).")
    listing.add_argument("entity", help=ENTITY_HELP)
    listing.add_argument("--filter", help="an expression, e.g. \"amount > 500 and status == 'draft'\"")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    show = rsub.add_parser("show", help="One record with every field.")
    show.add_argument("entity", help=ENTITY_HELP)
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def entity_class(name: str) -> Any:
    """The entity a command names; `module:Class` may be a module of the current folder."""
    from ..entities.registry import registry

    if ":" in name and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return registry.get(name)


def values_of(pairs: list[str], document: str | None) -> dict[str, Any]:
    """FIELD=VALUE pairs and/or a JSON object as one mapping of field values (pairs win)."""
    values: dict[str, Any] = {}
    if document is not None:
        try:
            values = json.loads(document)
        except json.JSONDecodeError as exc:
            raise AqtraError(
                f"--json: not valid JSON: {exc.msg} (at column {exc.colno})", field="json"
            ) from None
        if not isinstance(values, dict):
            raise AqtraError('--json: give one JSON object of field values, e.g. \'{"item": "chairs"}\'')
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise AqtraError(f"{pair!r}: write FIELD=VALUE, e.g. item=chairs", field=name or None)
        values[name.strip()] = value
    return values


def _jsonable(record: Any) -> dict[str, Any]:
    return json.loads(record.model_dump_json())


def _add(args: argparse.Namespace) -> int:
    entity = entity_class(args.entity)
    values = values_of(args.values, args.document)
    if not values:
        raise AqtraError(
            f"records add {entity.entity_name}: give field values, e.g. FIELD=VALUE; "
            f"fields: {', '.join(_writable(entity))}"
        )
    record = entity.create(**values)
    if args.print_json:
        print(json.dumps(_jsonable(record)))
    else:
        print(f"added {entity.entity_name} {record.id}")
    return EXIT_OK


def _writable(entity: Any) -> list[str]:
    from ..store.entity_tables import SYSTEM_COLUMNS

    return [name for name in entity.model_fields if name not in SYSTEM_COLUMNS]


def _list(args: argparse.Namespace) -> int:
    entity = entity_class(args.entity)
    found = entity.query(args.filter, limit=args.limit)
    if args.json:
        print(json.dumps([_jsonable(r) for r in found]))
        return EXIT_OK
    if not found:
        print(f"no {entity.entity_name} records" + (" match" if args.filter else ""))
        return EXIT_OK
    fields = ["id", *_writable(entity)]
    rows = [[_cell(getattr(r, f)) for f in fields] for r in found]
    widths = [min(30, max(len(f), *(len(row[i]) for row in rows))) for i, f in enumerate(fields)]
    print("  ".join(f.ljust(w) for f, w in zip(fields, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _show(args: argparse.Namespace) -> int:
    entity = entity_class(args.entity)
    record = entity.get(args.id)
    values = _jsonable(record)
    if args.json:
        print(json.dumps(values))
        return EXIT_OK
    print(f"{entity.entity_name} {record.id}")
    for name, value in values.items():
        if name != "id":
            print(f"  {name:<14} {'' if value is None else value}")
    return EXIT_OK
