"""How a public reply is addressed on each channel.

The core decides who a reply goes to and whether it threads; it knows no channel by name.
Each channel states its rule in the channel registry (channels_app.registry), which
installs them when the app is ready: a channel added there needs no edit here."""

from collections.abc import Mapping
from dataclasses import dataclass

from tickets.errors import TicketError, TicketErrorCode


@dataclass(frozen=True)
class ReplyRule:
    # The identity kind a reply on this channel is addressed to; None: nothing is sent on
    # it (a web form or API ticket is answered on `reply_on`).
    recipient_kind: str | None
    # Where a reply to a customer who last wrote on this channel goes out.
    reply_on: str
    # The reply carries Message-ID, In-Reply-To and References (mail threading).
    threaded: bool = False
    # The ticket's followers get a copy.
    copies_followers: bool = False


_rules: dict[str, ReplyRule] = {}
_fallback: list[str] = []


def reply_rules_install(rules: Mapping[str, ReplyRule], *, fallback: str) -> None:
    """Called by the channel registry at startup. `fallback`: where a reply goes for a
    ticket whose channel has no rule (a channel removed since)."""
    _rules.clear()
    _rules.update(rules)
    _fallback[:] = [fallback]


def reply_rule(channel: str) -> ReplyRule:
    rule = _rules.get(channel)
    if rule is None:
        raise TicketError(TicketErrorCode.INVALID_CHANNEL, f"Unknown channel “{channel}”.")
    return rule


def reply_channel_for(channel: str) -> str:
    """The channel a reply goes out on when the customer last wrote on `channel`."""
    rule = _rules.get(channel)
    return rule.reply_on if rule is not None else _fallback[0]


def reply_channels() -> list[str]:
    """Channels a reply can be sent on, in registry order."""
    return [channel for channel, rule in _rules.items() if rule.recipient_kind is not None]
