"""`aqtra-nb secrets set|list|delete`: encrypted secrets in the store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import AqtraError
from .common import EXIT_OK


def register(sub: Any) -> None:
    secrets = sub.add_parser("secrets", help="Encrypted secrets: `secrets set NAME`, `list`, `delete NAME`.")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    secrets_set = secrets_sub.add_parser(
        "set", help="Store a secret; the value is read from stdin or a prompt."
    )
    secrets_set.add_argument("name")
    secrets_set.set_defaults(handler=_secrets_set)
    secrets_sub.add_parser("list", help="Names of the stored secrets.").set_defaults(handler=_secrets_list)
    secrets_delete = secrets_sub.add_parser("delete", help="Remove a secret.")
    secrets_delete.add_argument("name")
    secrets_delete.set_defaults(handler=_secrets_delete)


def _secret_store():
    from ..resources import current

    return current().secrets


def _secrets_set(args: argparse.Namespace) -> int:
    import getpass

    if sys.stdin.isatty():
        value = getpass.getpass(f"value of {args.name}: ")
    else:
        value = sys.stdin.read().rstrip("\n")
    if not value:
        raise AqtraError("empty secret value; nothing stored")
    _secret_store().set(args.name, value)
    print(f"secret {args.name!r} stored (encrypted)")
    return EXIT_OK


def _secrets_list(args: argparse.Namespace) -> int:
    for name in _secret_store().names():
        print(name)
    return EXIT_OK


def _secrets_delete(args: argparse.Namespace) -> int:
    if not _secret_store().delete(args.name):
        raise AqtraError(f"no secret named {args.name!r}")
    print(f"secret {args.name!r} deleted")
    return EXIT_OK
