"""Adapters turn a provider's payload into an InboundMessage. No database access here."""

from collections.abc import Callable

from channels_app.adapters import api, chat, email, sms, web
from channels_app.inbound import InboundMessage

Parser = Callable[[bytes, dict[str, str]], InboundMessage]

ADAPTERS: dict[str, Parser] = {
    "api": api.parse,
    "twilio_sms": sms.parse,
    "chat": chat.parse,
    "web": web.parse,
    "email": email.parse,
}
