"""The embedded default's mail backend: one line per mail on the console, with the link a
reader would click, instead of each whole MIME message (hundreds of lines a minute)."""

import re
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
# Links a person acts on first: a portal sign-in or rating link, then a ticket.
_PREFERRED = ("/portal/login/", "/portal/rate/", "/portal/", "/agent/tickets/")


def mail_link(text: str) -> str:
    """The link in a mail body worth printing: the magic link if there is one."""
    links = _URL.findall(text)
    for marker in _PREFERRED:
        for link in links:
            if marker in link:
                return str(link)
    return str(links[0]) if links else ""


def mail_summary(message: EmailMessage) -> str:
    subject = " ".join(str(message.subject).split())
    line = f"Mail to {', '.join(message.recipients())}: {subject}"
    link = mail_link(str(message.body))
    return f"{line}  →  {link}" if link else line


class ConsoleSummaryBackend(BaseEmailBackend):
    """Writes `Mail to …: subject  →  link` for each message (set
    HELPDESK_CONSOLE_MAIL=full for Django's whole-message console backend)."""

    def __init__(self, *args: Any, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                self.stream.write(mail_summary(message) + "\n")
                sent += 1
            self.stream.flush()
        return sent
