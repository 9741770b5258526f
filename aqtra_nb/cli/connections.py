"""`aqtra-nb connections list|add|remove`: named connections from aqtra.yaml and the store."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import AqtraError
from .common import EXIT_OK


def register(sub: Any) -> None:
    connections = sub.add_parser(
        "connections", help="Named connections: `list`, `add NAME --kind ...`, `remove`."
    )
    connections_sub = connections.add_subparsers(dest="connections_command", required=True, metavar="ACTION")
    connections_sub.add_parser("list", help="Connections from aqtra.yaml and the store.").set_defaults(
        handler=_connections_list
    )
    connections_add = connections_sub.add_parser("add", help="Save a connection in the store.")
    connections_add.add_argument("name")
    connections_add.add_argument("--kind", required=True, choices=["sql", "files", "http", "smtp"])
    connections_add.add_argument("--url", help="SQLAlchemy or fsspec URL; passwords as ${secret:NAME}")
    connections_add.add_argument("--base-url", help="HTTP base URL")
    connections_add.add_argument("--header", action="append", default=[], metavar="NAME=VALUE")
    connections_add.set_defaults(handler=_connections_add)
    connections_remove = connections_sub.add_parser("remove", help="Remove a stored connection.")
    connections_remove.add_argument("name")
    connections_remove.set_defaults(handler=_connections_remove)


def _connections_list(args: argparse.Namespace) -> int:
    from ..resources import current

    connections = current().connections()
    files, stored = connections.file_specs, connections.stored_specs()
    for name in connections.names():
        spec = files.get(name) or stored[name]
        origin = "aqtra.yaml" if name in files else "store"
        print(f"{name:<20} {spec.kind:<6} {origin:<10} {spec.url or spec.base_url}")
    return EXIT_OK


def _connections_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ..connections import ConnectionSpec
    from ..resources import current
    from ..spec import parse_assignments

    try:
        spec = ConnectionSpec(
            kind=args.kind, url=args.url, base_url=args.base_url, headers=parse_assignments(args.header)
        )
    except ValidationError as exc:
        raise AqtraError(
            f"connection {args.name!r}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
        ) from None
    current().connections().add(args.name, spec)
    print(f"connection {args.name!r} saved")
    return EXIT_OK


def _connections_remove(args: argparse.Namespace) -> int:
    from ..resources import current

    if not current().connections().remove(args.name):
        raise AqtraError(f"no stored connection named {args.name!r}")
    print(f"connection {args.name!r} removed")
    return EXIT_OK
