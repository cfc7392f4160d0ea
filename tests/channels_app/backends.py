"""Django email backends that fail the way real mail servers do, for delivery tests."""

import smtplib
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    """The server says the mailbox does not exist (permanent)."""

    def send_messages(self, email_messages: Any) -> int:
        recipient = email_messages[0].to[0]
        raise smtplib.SMTPRecipientsRefused({recipient: (550, b"5.1.1 No such user")})


class DeferringBackend(BaseEmailBackend):
    """The server asks us to come back later (temporary)."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPResponseException(451, b"4.7.1 Try again later")


class DownBackend(BaseEmailBackend):
    """Nobody answers on the mail port (temporary)."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError(111, "Connection refused")
