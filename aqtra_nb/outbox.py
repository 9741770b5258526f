"""The outbox: where email goes when no SMTP server is configured, one `.eml` file per message under
`HOME/outbox` (as Django's console and file email backends serve development). `aqtra-nb outbox` lists
and shows them; any mail program opens the files."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from .errors import AqtraError, NotFound
from .private_files import FILE_MODE, private_folder


@dataclass(frozen=True)
class OutboxMessage:
    """One message kept in the outbox."""

    id: str
    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def recipients(self) -> str:
        return str(self.message["To"] or "")

    @property
    def date(self) -> str:
        return str(self.message["Date"] or "")

    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class Outbox:
    """A folder of `.eml` files, newest last by name (`YYYYmmdd-HHMMSS-ID.eml`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def default(cls) -> Outbox:
        from .resources import current

        return cls(current().settings.home_path / "outbox")

    @property
    def shown(self) -> str:
        return f"the outbox {self.folder}"

    def put(self, message: EmailMessage) -> OutboxMessage:
        """Keep a message as a private file; written under a temporary name and renamed, so a reader never
        sees half a message."""
        private_folder(self.folder)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        message_id = uuid.uuid4().hex[:8]
        path = self.folder / f"{stamp}-{message_id}.eml"
        partial = path.with_suffix(".partial")
        partial.touch(mode=FILE_MODE)
        partial.write_bytes(message.as_bytes(policy=policy.SMTP))
        partial.replace(path)
        return OutboxMessage(message_id, path, message)

    def messages(self) -> list[OutboxMessage]:
        """Every message, oldest first."""
        if not self.folder.is_dir():
            return []
        return [self._read(path) for path in sorted(self.folder.glob("*.eml"))]

    def get(self, message_id: str) -> OutboxMessage:
        """A message by its id (or a unique part of its file name)."""
        found = [m for m in self.messages() if message_id in (m.id, m.path.name) or message_id in m.path.stem]
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFound(f"no message {message_id!r} in {self.shown}; see `aqtra-nb outbox`")
        raise AqtraError(
            f"{message_id!r} matches {len(found)} messages in {self.shown}: "
            f"{', '.join(m.id for m in found[:5])}; give more of the id"
        )

    def clear(self) -> int:
        """Remove every message; how many there were."""
        found = self.messages()
        for item in found:
            item.path.unlink(missing_ok=True)
        return len(found)

    @staticmethod
    def _read(path: Path) -> OutboxMessage:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        return OutboxMessage(path.stem.rsplit("-", 1)[-1], path, message)
