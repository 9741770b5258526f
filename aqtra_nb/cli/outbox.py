"""`aqtra-nb outbox [list|show ID|clear]`: email kept when no SMTP server is configured."""

from __future__ import annotations

import argparse
from typing import Any

from .common import EXIT_OK


def register(sub: Any) -> None:
    outbox = sub.add_parser(
        "outbox", help="Email kept when no SMTP server is configured: list, `outbox show ID`, `outbox clear`."
    )
    outbox.set_defaults(handler=_outbox_list)
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    outbox_sub.add_parser("list", help="The kept messages, oldest first.").set_defaults(handler=_outbox_list)
    outbox_show = outbox_sub.add_parser("show", help="One message as it would have been sent.")
    outbox_show.add_argument("id", help="the message id from `aqtra-nb outbox`")
    outbox_show.set_defaults(handler=_outbox_show)
    outbox_sub.add_parser("clear", help="Remove every kept message.").set_defaults(handler=_outbox_clear)


def _outbox_list(args: argparse.Namespace) -> int:
    from ..outbox import Outbox

    outbox = Outbox.default()
    found = outbox.messages()
    for item in found:
        print(f"{item.id}  {item.date:<31}  {item.recipients:<30} {item.subject}")
    print(f"{len(found)} message(s) in {outbox.folder}" if found else f"no messages in {outbox.folder}")
    return EXIT_OK


def _outbox_show(args: argparse.Namespace) -> int:
    from ..outbox import Outbox

    item = Outbox.default().get(args.id)
    for header in ("From", "To", "Date", "Subject"):
        print(f"{header}: {item.message[header] or ''}")
    print(f"File: {item.path}\n")
    print(item.body())
    return EXIT_OK


def _outbox_clear(args: argparse.Namespace) -> int:
    from ..outbox import Outbox

    removed = Outbox.default().clear()
    print(f"removed {removed} message(s)")
    return EXIT_OK
